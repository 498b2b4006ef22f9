"""Pilot tests of Put back previous: undo a restore from Administration, with keys only."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable

import pytest
from trees import file_bytes

from mftui.settings import Settings
from mftui.trial_settings import TrialSettings
from mftui.tui.app import MftuiApp
from mftui.tui.dialogs.confirm_restore import ConfirmRestore
from mftui.tui.dialogs.restore_triggered import RestoreTriggered
from mftui.tui.screens.administration import AdministrationScreen
from mftui.tui.widgets.keybar import KeyBar

from .helpers import SIZE, plain, settle, static_text
from .test_restore import backup_then_change_live, open_backup_restore, upload


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """Restores here are not trials: Put back previous after a kept restore (test_trial_tui.py: p on trial)."""
    return dataclasses.replace(settings, trial=TrialSettings(enabled=False))


def reboot_requests(settings: Settings) -> list[dict[str, object]]:
    log = settings.state_dir / "reboot-requests.jsonl"
    return [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []


def key_bar(pilot) -> str:  # type: ignore[no-untyped-def]
    return plain(pilot.app.screen.query_one(KeyBar).content)


async def test_restore_then_put_back_returns_the_instance_byte_for_byte(
    make_app: Callable[..., MftuiApp], settings: Settings
) -> None:
    archive, backed_up = backup_then_change_live(settings)
    original = file_bytes(settings.instance_root)
    assert original != backed_up
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert "Put back" not in key_bar(pilot)  # nothing to put back before a restore
        await pilot.press("p")
        await settle(pilot)
        assert isinstance(app.screen, AdministrationScreen)

        await open_backup_restore(pilot)
        await upload(pilot, archive)
        await pilot.press("r")
        await settle(pilot)
        await pilot.press("tab", "enter")  # Tab to Yes, then Enter
        await settle(pilot, rounds=5)
        assert isinstance(app.screen, RestoreTriggered)
        assert "Put back previous (p) on Administration" in static_text(pilot, "#restored")
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, AdministrationScreen)
        assert file_bytes(settings.instance_root) == backed_up

        # Administration now says what the restore replaced, and offers to put it back.
        assert "p Put back previous" in key_bar(pilot)
        instance = static_text(pilot, "#instance")
        assert "Previous" in instance and "replaced" in instance and "backup 'before'" in instance, instance
        await pilot.press("p")
        await settle(pilot)
        dialog = app.screen
        assert isinstance(dialog, ConfirmRestore)
        assert app.focused is not None and app.focused.id == "no"  # the safe answer has the focus
        question = static_text(pilot, "#question")
        for expected in (
            "Put back the previous configuration: 18 files",
            "hub 3fa2c1 (mobius-demo-01)",
            "UTC by backup 'before'",
            "onto this unit",
            "demo: recorded only",
        ):
            assert expected in question, (expected, question)
        await pilot.press("tab", "enter")  # Tab to Yes, then Enter
        await settle(pilot, rounds=5)
        assert isinstance(app.screen, RestoreTriggered)
        assert "previous configuration was put back" in static_text(pilot, "#restored")
        assert "no real reboot happened" in static_text(pilot, "#reboot").lower()
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, AdministrationScreen)
        assert "18 files" in static_text(pilot, "#instance")
        # What the put back replaced (the restored backup) is kept in turn: p would restore it again.
        assert "p Put back previous" in key_bar(pilot)
        assert "by putting back the one before" in static_text(pilot, "#instance")

    assert file_bytes(settings.instance_root) == original
    requests = reboot_requests(settings)
    assert len(requests) == 2 and all(r["backend"] == "demo" for r in requests)


async def test_cancelling_put_back_changes_nothing(make_app: Callable[..., MftuiApp], settings: Settings) -> None:
    archive, backed_up = backup_then_change_live(settings)
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await open_backup_restore(pilot)
        await upload(pilot, archive)
        await pilot.press("r")
        await settle(pilot)
        await pilot.press("tab", "enter")  # Tab to Yes, then Enter
        await settle(pilot, rounds=5)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, AdministrationScreen)

        await pilot.press("p")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmRestore)
        await pilot.press("tab", "shift+tab")  # to Yes and back: No has the focus again ...
        assert app.focused is not None and app.focused.id == "no"
        await pilot.press("enter")  # ... so Enter says no
        await settle(pilot)
        assert isinstance(app.screen, AdministrationScreen)
        assert "cancelled" in static_text(pilot, "#put-back-status")

        await pilot.press("p")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmRestore)
        await pilot.press("escape")  # Esc means no
        await settle(pilot)
        assert isinstance(app.screen, AdministrationScreen)
        assert "p Put back previous" in key_bar(pilot)  # still offered
    assert file_bytes(settings.instance_root) == backed_up
    assert len(reboot_requests(settings)) == 1  # the restore's only
