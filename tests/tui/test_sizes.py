"""From 60x20 up: the header keeps the hub id, dialogs shrink to the screen, buttons stay visible,
the restore pane's Verified and Changes are reached with PageDown, a warning is read whole."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest

from mftui.settings import Settings
from mftui.tui.app import MftuiApp
from mftui.tui.dialogs.confirm_restore import ConfirmRestore
from mftui.tui.dialogs.pick_backup import PickBackup

from .helpers import screen_lines, settle
from .test_restore import backup_then_change_live, open_backup_restore, upload

SIZES = [(60, 20), (80, 24), (132, 43)]


def shown(pilot) -> str:  # type: ignore[no-untyped-def]
    return "\n".join(screen_lines(pilot))


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
async def test_every_step_fits(make_app: Callable[..., MftuiApp], settings: Settings, size: tuple[int, int]) -> None:
    archive, _ = backup_then_change_live(settings)
    identity = settings.instance_root / "instance.json"
    data = json.loads(identity.read_text())
    data["hub_id"] = "77aa01"  # another unit: the longest confirmation, with warnings
    identity.write_text(json.dumps(data))
    app = make_app()
    async with app.run_test(size=size) as pilot:
        await settle(pilot)
        assert "hub 77aa01 (mobius-demo-01)" in screen_lines(pilot)[0]
        assert "Quit" in shown(pilot)  # the whole menu is above the fold
        await open_backup_restore(pilot)
        await pilot.press("u")
        await settle(pilot)
        assert isinstance(app.screen, PickBackup)
        picker = shown(pilot)
        assert "Upload Zip" in picker and "Open" in picker and "Cancel" in picker
        await pilot.press("escape")
        await settle(pilot)
        await upload(pilot, archive)
        pane = shown(pilot)
        for _ in range(6):  # PageDown reaches every row of the pane
            await pilot.press("pagedown")
            await settle(pilot)
            pane += shown(pilot)
        assert "Verified" in pane and "Changes" in pane and "configuration." in pane, pane  # the clone warning
        await pilot.press("r")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmRestore)
        dialog = shown(pilot)
        assert "No" in dialog and "Restore (type the hub id)" in dialog and "type its hub id" in dialog, dialog
        for _ in range(12):  # the warnings are read to their last word
            await pilot.press("down")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmRestore)  # reading is not answering
        assert "configuration." in shown(pilot) or "restarts." in shown(pilot)
