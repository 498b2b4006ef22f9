"""Keys that must never restore the unit: bursts, stray words, letters meant for a text field.

Each test checks the instance on disk: a restore did not happen (or did, when meant).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path

from textual.widgets import Input
from trees import file_bytes

from mftui.archive.writer import create_backup
from mftui.settings import Settings
from mftui.trial_settings import TrialSettings
from mftui.tui.app import MftuiApp
from mftui.tui.dialogs.confirm_restore import ConfirmRestore
from mftui.tui.dialogs.pick_backup import PickBackup
from mftui.tui.dialogs.restore_triggered import RestoreTriggered
from mftui.tui.screens.administration import AdministrationScreen
from mftui.tui.screens.backup_restore import BackupRestoreScreen

from .helpers import FROZEN, SIZE, burst, settle, static_text
from .test_restore import backup_then_change_live, details_text, open_backup_restore, upload


async def test_r_enter_y_in_one_burst_answers_no(make_app: Callable[..., MftuiApp], settings: Settings) -> None:
    """The Enter lands on the focused No before the y is looked at: nothing is restored."""
    archive, _ = backup_then_change_live(settings)
    live = file_bytes(settings.instance_root)
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await open_backup_restore(pilot)
        await upload(pilot, archive)
        assert app.focused is not None and app.focused.id == "restore"
        await burst(pilot, "r", "enter", "y")
        await settle(pilot, rounds=5)
        assert isinstance(app.screen, BackupRestoreScreen)
        assert "cancelled" in static_text(pilot, "#restore-status")
    assert file_bytes(settings.instance_root) == live
    assert not (settings.state_dir / "reboot-requests.jsonl").exists()


async def test_typing_a_word_on_the_restore_button_restores_nothing(
    make_app: Callable[..., MftuiApp], settings: Settings
) -> None:
    """ "ready" typed with the focus on Restore: r asks, e answers No; a, d, y do nothing harmful."""
    archive, _ = backup_then_change_live(settings)
    live = file_bytes(settings.instance_root)
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await open_backup_restore(pilot)
        await upload(pilot, archive)
        for word in ("ready", "yes", "ry", "r y"):
            await burst(pilot, *[{" ": "space"}.get(ch, ch) for ch in word])
            await settle(pilot)
            assert not isinstance(app.screen, RestoreTriggered), word
            if isinstance(app.screen, ConfirmRestore):
                await pilot.press("escape")
                await settle(pilot)
            # slowly, one key at a time, too
            for ch in word:
                await pilot.press({" ": "space"}.get(ch, ch))
                await settle(pilot)
            assert not isinstance(app.screen, RestoreTriggered), word
            while not isinstance(app.screen, BackupRestoreScreen):
                await pilot.press("escape")
                await settle(pilot)
            app.screen.query_one("#restore").focus()
            await settle(pilot)
    assert file_bytes(settings.instance_root) == live
    assert not (settings.state_dir / "reboot-requests.jsonl").exists()


async def test_any_key_but_the_confirming_act_answers_no(make_app: Callable[..., MftuiApp], settings: Settings) -> None:
    """(Up/Down and PageUp/PageDown read the question on a small screen: see test_sizes.py.)"""
    archive, _ = backup_then_change_live(settings)
    live = file_bytes(settings.instance_root)
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await open_backup_restore(pilot)
        await upload(pilot, archive)
        for key in ("y", "e", "space", "left", "right", "n", "escape", "enter", "backspace", "1", "f5"):
            app.screen.query_one("#restore").focus()
            await settle(pilot)
            await pilot.press("r")
            await settle(pilot)
            assert isinstance(app.screen, ConfirmRestore)
            await pilot.press(key)
            await settle(pilot)
            assert isinstance(app.screen, BackupRestoreScreen), key
            assert "cancelled" in static_text(pilot, "#restore-status"), key
        # Tab to Yes, then a stray letter: still No
        app.screen.query_one("#restore").focus()
        await pilot.press("r")
        await settle(pilot)
        await pilot.press("tab", "x")
        await settle(pilot)
        assert isinstance(app.screen, BackupRestoreScreen)
    assert file_bytes(settings.instance_root) == live


async def test_tab_to_yes_then_enter_restores(make_app: Callable[..., MftuiApp], settings: Settings) -> None:
    archive, backed_up = backup_then_change_live(settings)
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await open_backup_restore(pilot)
        await upload(pilot, archive)
        await pilot.press("r")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmRestore)
        assert app.focused is not None and app.focused.id == "no"
        await pilot.press("tab")
        assert app.focused is not None and app.focused.id == "yes"
        await pilot.press("enter")
        await settle(pilot, rounds=5)
        assert isinstance(app.screen, RestoreTriggered)
    assert file_bytes(settings.instance_root) == backed_up


async def test_letters_on_the_backup_button_go_to_the_name(
    make_app: Callable[..., MftuiApp], settings: Settings
) -> None:
    """Focus on the Backup button, "burst" typed as a name: no backup, no screen change; the name gets it."""
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("b")
        await settle(pilot)
        await pilot.press("tab")  # the Backup button
        assert app.focused is not None and app.focused.id == "backup"
        await burst(pilot, *"abured")
        await settle(pilot)
        assert isinstance(app.screen, BackupRestoreScreen)
        assert app.screen.query_one("#name").value == "abured"  # type: ignore[attr-defined]
        assert not settings.backups_dir.exists() or not list(settings.backups_dir.glob("*.zip"))


async def test_put_back_needs_tab_and_enter_too(make_app: Callable[..., MftuiApp], settings: Settings) -> None:
    settings = dataclasses.replace(settings, trial=TrialSettings(enabled=False))  # p on a trial: test_trial_tui
    archive, backed_up = backup_then_change_live(settings)
    app = make_app(app_settings=settings)
    async with app.run_test(size=SIZE) as pilot:
        await open_backup_restore(pilot)
        await upload(pilot, archive)
        await pilot.press("r")
        await settle(pilot)
        await pilot.press("tab", "enter")
        await settle(pilot, rounds=5)
        assert isinstance(app.screen, RestoreTriggered)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, AdministrationScreen)
        assert file_bytes(settings.instance_root) == backed_up
        await burst(pilot, "p", "enter", "y")  # the old burst
        await settle(pilot, rounds=5)
        assert isinstance(app.screen, AdministrationScreen)
        await burst(pilot, "p", "y")
        await settle(pilot, rounds=5)
        assert isinstance(app.screen, AdministrationScreen)
        assert "cancelled" in static_text(pilot, "#put-back-status")
        assert file_bytes(settings.instance_root) == backed_up
        await pilot.press("p")
        await settle(pilot)
        await pilot.press("tab", "enter")
        await settle(pilot, rounds=5)
        assert isinstance(app.screen, RestoreTriggered)
    assert file_bytes(settings.instance_root) != backed_up


async def test_a_path_typed_on_the_picker_list_goes_to_the_path_field(
    make_app: Callable[..., MftuiApp], settings: Settings, tmp_path: Path
) -> None:
    """The list has the focus; "/tmp/.../x.zip" typed lands in the field (the "." does not toggle hidden files)."""
    archive = create_backup(settings, "typed", now=FROZEN).path.rename(tmp_path / "typed.zip")
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await open_backup_restore(pilot)
        await pilot.press("u")
        await settle(pilot)
        assert isinstance(app.screen, PickBackup)
        assert app.focused is not None and not isinstance(app.focused, Input)
        await burst(pilot, *str(archive), "enter")
        await settle(pilot)
        assert isinstance(app.screen, BackupRestoreScreen)
        assert str(archive) in details_text(pilot)
