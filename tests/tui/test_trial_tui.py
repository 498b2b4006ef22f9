"""Pilot tests of trial restores in the TUI: the mode and the trial in the confirmation, the banner, k and p."""

from __future__ import annotations

import dataclasses
import json
import time
from collections.abc import Callable

import pytest
from trees import file_bytes

from mftui.restore import restore_backup, trial_status
from mftui.settings import Settings
from mftui.trial_settings import Check, TrialSettings
from mftui.tui.app import MftuiApp
from mftui.tui.dialogs.confirm_restore import ConfirmRestore
from mftui.tui.dialogs.message import ErrorDialog, MessageDialog
from mftui.tui.dialogs.restore_triggered import RestoreTriggered
from mftui.tui.screens.administration import AdministrationScreen
from mftui.tui.widgets.trial_banner import TrialBanner

from .helpers import SIZE, plain, settle, static_text, type_text
from .test_put_back import key_bar, reboot_requests
from .test_restore import backup_then_change_live, details_text, open_backup_restore, upload


def question(pilot) -> str:  # type: ignore[no-untyped-def]
    return static_text(pilot, "#question") + "\n" + (
        static_text(pilot, "#warnings") if pilot.app.screen.query("#warnings") else "")


def banner(pilot) -> str:  # type: ignore[no-untyped-def]
    return plain(pilot.app.screen.query_one(TrialBanner).content, width=300)


async def test_clone_on_trial_keeps_this_units_identity_and_says_so(
    make_app: Callable[..., MftuiApp], settings: Settings
) -> None:
    archive, backed_up = backup_then_change_live(settings)
    identity = settings.instance_root / "instance.json"
    data = json.loads(identity.read_text())
    data["hub_id"] = "77aa01"  # this unit is another hub than the backup's
    identity.write_text(json.dumps(data))
    ours = identity.read_bytes()
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await open_backup_restore(pilot)
        await upload(pilot, archive)
        assert "Mode         clone" in details_text(pilot)
        await pilot.press("r")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmRestore)
        said = question(pilot)
        assert "Mode: clone: keeps this unit's identity" in said
        assert "Trial: reverts in 10 min unless you keep it." in said
        await pilot.press("tab")
        await type_text(pilot, "3fa2c1")
        await pilot.press("enter")
        await settle(pilot, rounds=5)
        assert isinstance(app.screen, RestoreTriggered)
        trial = static_text(pilot, "#trial")
        assert "Mode: clone." in trial and "On trial: it is put back at" in trial and "run mftui watch" in trial
    assert identity.read_bytes() == ours  # byte for byte this unit's
    restored = file_bytes(settings.instance_root)
    assert restored["flows/flows.json"] == backed_up["flows/flows.json"]
    assert trial_status(settings).on_trial


async def test_no_trial_when_the_settings_turn_it_off(
    make_app: Callable[..., MftuiApp], settings: Settings
) -> None:
    settings = dataclasses.replace(settings, trial=TrialSettings(enabled=False))
    archive, backed_up = backup_then_change_live(settings)
    app = make_app(app_settings=settings)
    async with app.run_test(size=SIZE) as pilot:
        await open_backup_restore(pilot)
        await upload(pilot, archive)
        await pilot.press("r")
        await settle(pilot)
        said = question(pilot)
        assert "Mode: replace" in said and "Trial:" not in said
        await pilot.press("tab", "enter")
        await settle(pilot, rounds=5)
        assert isinstance(app.screen, RestoreTriggered)
        assert "On trial" not in static_text(pilot, "#trial")
    assert file_bytes(settings.instance_root) == backed_up
    assert trial_status(settings).state == "normal"


async def test_over_ssh_a_network_change_forces_the_trial(
    make_app: Callable[..., MftuiApp], settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = dataclasses.replace(settings, trial=TrialSettings(enabled=False))
    archive, _ = backup_then_change_live(settings)
    network = next(p for p in (settings.instance_root / "network").rglob("*") if p.is_file())
    network.write_bytes(network.read_bytes() + b"\n")  # the live network moved on: the restore changes it
    monkeypatch.setenv("SSH_CONNECTION", "10.0.0.9 50000 10.0.0.2 22")
    app = make_app(app_settings=settings)
    async with app.run_test(size=SIZE) as pilot:
        await open_backup_restore(pilot)
        await upload(pilot, archive)
        await pilot.press("r")
        await settle(pilot)
        said = question(pilot)
        assert "changes the network configuration" in said and "connected over SSH" in said
        assert "Trial: reverts in 10 min" in said
        await pilot.press("tab", "enter")
        await settle(pilot, rounds=5)
        assert isinstance(app.screen, RestoreTriggered)
    assert trial_status(settings).on_trial


def restored_on_trial(settings: Settings, seconds: float = 600) -> dict[str, bytes]:
    """A restore on trial done by the core (as after the reboot); returns the configuration before it."""
    archive, _ = backup_then_change_live(settings)
    before = file_bytes(settings.instance_root)
    restore_backup(settings, archive, trial=seconds)
    return before


async def test_banner_then_k_keeps_it(make_app: Callable[..., MftuiApp], settings: Settings) -> None:
    restored_on_trial(settings)
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, AdministrationScreen)
        text = banner(pilot)
        assert text.startswith("Trial of backup 'before': keep it? Put back in 9:") or "10:00" in text, text
        assert text.endswith("k keep, p put back now")
        assert "Keep trial" in key_bar(pilot)
        first = text
        await pilot.pause(1.2)
        assert banner(pilot) != first  # it ticks
        await pilot.press("k")
        await settle(pilot)
        assert trial_status(settings).state == "kept"
        assert "was kept" in banner(pilot)
        assert "Keep trial" not in key_bar(pilot)


async def test_banner_p_asks_no_first_then_puts_it_back_and_reboots(
    make_app: Callable[..., MftuiApp], settings: Settings
) -> None:
    before = restored_on_trial(settings)
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("p")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmRestore)
        assert "is on trial" in static_text(pilot, "#question")
        await pilot.press("x")  # any other key: No
        await settle(pilot)
        assert isinstance(app.screen, AdministrationScreen) and trial_status(settings).on_trial
        await pilot.press("p")
        await settle(pilot)
        await pilot.press("tab", "enter")
        await settle(pilot, rounds=5)
        assert isinstance(app.screen, MessageDialog)
        assert "Reverted" in static_text(pilot, "#message")
    assert file_bytes(settings.instance_root) == before
    assert trial_status(settings).state == "reverted"
    assert len(reboot_requests(settings)) == 1


async def test_after_the_time_ran_out_k_is_gone(
    make_app: Callable[..., MftuiApp], settings: Settings
) -> None:
    restored_on_trial(settings, seconds=2)
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert "keep it?" in banner(pilot)
        time.sleep(2.2)
        await pilot.pause(1.2)
        assert "time ran out" in banner(pilot)
        assert "Keep trial" not in key_bar(pilot)
        await pilot.press("k")  # no longer offered: nothing happens
        await settle(pilot)
        assert not isinstance(app.screen, ErrorDialog)
    assert trial_status(settings).state != "kept"


async def test_k_with_a_failing_health_check_says_why_in_one_sentence(
    make_app: Callable[..., MftuiApp], settings: Settings
) -> None:
    settings = dataclasses.replace(settings, trial=TrialSettings(checks=(Check(("false",), 5.0),)))
    restored_on_trial(settings)
    app = make_app(app_settings=settings)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("k")
        await settle(pilot, rounds=5)
        assert isinstance(app.screen, ErrorDialog)
        said = static_text(pilot, "#message")
        assert said.startswith("Not kept: the health check 'false' fails") or "health check 'false' fails" in said
        await pilot.press("enter")
        await settle(pilot)
        assert "keep it?" in banner(pilot)  # the banner as it was
    assert trial_status(settings).state != "kept"


async def test_no_trial_no_banner_no_timer(make_app: Callable[..., MftuiApp], settings: Settings) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        found = app.screen.query_one(TrialBanner)
        assert not found.display and found._timer is None
        assert "Keep trial" not in key_bar(pilot)


async def test_a_trial_put_back_while_away_is_said_without_a_timer(
    make_app: Callable[..., MftuiApp], settings: Settings
) -> None:
    from mftui.restore import revert_now

    before = restored_on_trial(settings)
    revert_now(settings, "its health check failed")  # as mftui watch does
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        found = app.screen.query_one(TrialBanner)
        assert found.display and found._timer is None
        said = banner(pilot)
        assert said.startswith("Reverted: the trial of backup 'before' was put back at") and "health check" in said
        assert "Keep trial" not in key_bar(pilot)
    assert file_bytes(settings.instance_root) == before
