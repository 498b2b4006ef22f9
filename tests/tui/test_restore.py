"""Pilot tests of the restore side: Upload Zip, the pane, the confirmation, the reboot."""

from __future__ import annotations

import json
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest
from textual.widgets import Button, Input
from trees import file_bytes

from mftui.archive.writer import create_backup
from mftui.settings import Settings
from mftui.tui.app import MftuiApp
from mftui.tui.dialogs.confirm_restore import ConfirmRestore
from mftui.tui.dialogs.download_zip import DownloadZip
from mftui.tui.dialogs.message import ErrorDialog
from mftui.tui.dialogs.pick_backup import PickBackup
from mftui.tui.dialogs.restore_triggered import RestoreTriggered
from mftui.tui.screens.administration import AdministrationScreen
from mftui.tui.screens.backup_restore import BackupRestoreScreen
from mftui.tui.widgets.backup_details import BackupDetails

from .helpers import FROZEN, SIZE, paste_text, plain, settle, static_text, type_text


def backup_then_change_live(settings: Settings) -> tuple[Path, dict[str, bytes]]:
    """A backup of the demo; then the live configuration moves on (a flow edited, a service added)."""
    archive = create_backup(settings, "before", now=FROZEN).path
    backed_up = file_bytes(settings.instance_root)
    root = settings.instance_root
    (root / "flows" / "flows.json").write_text('[{"id": "f99", "type": "tab", "label": "new"}]\n')
    (root / "services" / "0ff.json").write_text('{"id": "0ff"}\n')
    return archive, backed_up


async def open_backup_restore(pilot) -> None:  # type: ignore[no-untyped-def]
    await settle(pilot)
    await pilot.press("b")
    await settle(pilot)
    assert isinstance(pilot.app.screen, BackupRestoreScreen)
    await pilot.press("tab", "tab")  # out of the backup form (letters type the name there): Upload Zip
    assert pilot.app.focused is not None and pilot.app.focused.id == "upload"


async def upload(pilot, path: Path) -> None:  # type: ignore[no-untyped-def]
    """Upload Zip: the picker opens in the backups folder; the technician types the path."""
    await pilot.press("u")
    await settle(pilot)
    picker = pilot.app.screen
    assert isinstance(picker, PickBackup)
    field = picker.query_one(Input)
    field.focus()
    field.value = str(path)
    await pilot.press("enter")
    await settle(pilot)
    assert isinstance(pilot.app.screen, BackupRestoreScreen)


def details_text(pilot) -> str:  # type: ignore[no-untyped-def]
    return plain(pilot.app.screen.query_one(BackupDetails).content, width=300)


async def test_upload_shows_information_verification_and_changes(
    make_app: Callable[..., MftuiApp], settings: Settings
) -> None:
    archive, _ = backup_then_change_live(settings)
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await open_backup_restore(pilot)
        await upload(pilot, archive)
        text = details_text(pilot)
        for expected in (
            "before",
            "2026-11-05 10:15:00 UTC",
            "hub 3fa2c1 (mobius-demo-01)",
            "MobiusFlow 4.2.1",
            "v1",
            "17 (",
            "services 5",
            "yes: structure and every checksum",
            "0 added, 1 changed, 1 removed",
            "flows: 1 changed",
            "services: 1 removed",
        ):
            assert expected in text, (expected, text)
        assert not app.screen.query_one("#restore", Button).disabled


async def test_cancel_at_the_confirmation_changes_nothing(
    make_app: Callable[..., MftuiApp], settings: Settings
) -> None:
    archive, _ = backup_then_change_live(settings)
    live_before = file_bytes(settings.instance_root)
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await open_backup_restore(pilot)
        await upload(pilot, archive)
        await pilot.press("r")
        await settle(pilot)
        dialog = app.screen
        assert isinstance(dialog, ConfirmRestore)
        assert app.focused is not None and app.focused.id == "no"  # the safe answer has the focus
        await pilot.press("tab", "shift+tab")  # to Yes and back: No has the focus again ...
        assert app.focused is not None and app.focused.id == "no"
        await pilot.press("enter")  # ... so Enter says no
        await settle(pilot)
        assert isinstance(app.screen, BackupRestoreScreen)
        assert "cancelled" in static_text(pilot, "#restore-status")

        await pilot.press("r")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmRestore)
        await pilot.press("escape")  # Esc means no
        await settle(pilot)
        assert isinstance(app.screen, BackupRestoreScreen)
    assert file_bytes(settings.instance_root) == live_before
    assert not (settings.state_dir / "reboot-requests.jsonl").exists()


async def test_restore_confirm_reboot_and_show_the_restored_instance(
    make_app: Callable[..., MftuiApp], settings: Settings
) -> None:
    archive, backed_up = backup_then_change_live(settings)
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await open_backup_restore(pilot)
        await upload(pilot, archive)
        await pilot.press("r")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmRestore)
        await pilot.press("tab", "enter")  # Tab to Yes, then Enter
        await settle(pilot, rounds=5)
        dialog = app.screen
        assert isinstance(dialog, RestoreTriggered)
        assert "will now reboot" in static_text(pilot, "#restored")
        assert "no real reboot happened" in static_text(pilot, "#reboot").lower()
        requests = (settings.state_dir / "reboot-requests.jsonl").read_text().splitlines()
        assert len(requests) == 1 and json.loads(requests[0])["backend"] == "demo"
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, AdministrationScreen)
        assert "17 files" in static_text(pilot, "#instance")
    assert file_bytes(settings.instance_root) == backed_up


async def test_a_damaged_archive_shows_the_reason_and_restore_stays_disabled(
    make_app: Callable[..., MftuiApp], settings: Settings, tmp_path: Path
) -> None:
    good = create_backup(settings, "good", now=FROZEN).path
    damaged = tmp_path / "damaged.zip"
    with zipfile.ZipFile(good) as src, zipfile.ZipFile(damaged, "w") as dst:
        for item in src.infolist():
            data = src.read(item)
            if item.filename == "config/hub/psk.json":
                data = data.replace(b"keys", b"KEYS")
            dst.writestr(item, data)
    live_before = file_bytes(settings.instance_root)
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await open_backup_restore(pilot)
        await upload(pilot, damaged)
        text = details_text(pilot)
        assert "NO:" in text and "hub/psk.json" in text, text
        assert "cannot be restored" in text
        assert app.screen.query_one("#restore", Button).disabled
        await pilot.press("r")  # the key does nothing either
        await settle(pilot)
        assert isinstance(app.screen, BackupRestoreScreen)
    assert file_bytes(settings.instance_root) == live_before


async def test_a_file_that_is_not_a_zip_is_refused(
    make_app: Callable[..., MftuiApp], settings: Settings, tmp_path: Path
) -> None:
    notes = tmp_path / "notes.txt"
    notes.write_text("not a backup\n")
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await open_backup_restore(pilot)
        await upload(pilot, notes)
        text = details_text(pilot)
        assert "NO:" in text and "not a readable zip" in text, text
        assert app.screen.query_one("#restore", Button).disabled


async def test_a_backup_from_another_unit_needs_its_hub_id_typed(
    make_app: Callable[..., MftuiApp], settings: Settings
) -> None:
    archive, backed_up = backup_then_change_live(settings)
    identity = settings.instance_root / "instance.json"
    data = json.loads(identity.read_text())
    data["hub_id"] = "77aa01"  # this unit is now another hub
    identity.write_text(json.dumps(data))
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await open_backup_restore(pilot)
        await upload(pilot, archive)
        assert "Warning" in details_text(pilot)
        assert "Mode         clone" in details_text(pilot)  # another unit's backup: its identity stays out
        await pilot.press("m")  # replace: the backup's unit comes back whole
        await settle(pilot)
        assert "Mode         replace" in details_text(pilot)
        await pilot.press("r")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmRestore)
        assert app.focused is not None and app.focused.id == "no"
        await pilot.press("tab")
        assert app.focused is not None and app.focused.id == "hub-id"  # no Yes button to Tab to
        await pilot.press("tab")
        assert app.focused is not None and app.focused.id == "no"
        await pilot.press("tab")
        await type_text(pilot, "3fa2c2")
        await pilot.press("enter")  # wrong id: still asking
        await settle(pilot)
        assert isinstance(app.screen, ConfirmRestore)
        assert "Not 3fa2c1" in static_text(pilot, "#type-hint")
        app.screen.query_one("#hub-id", Input).value = ""
        await type_text(pilot, "3fa2c1")
        await pilot.press("enter")
        await settle(pilot, rounds=5)
        assert isinstance(app.screen, RestoreTriggered)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, AdministrationScreen)
        assert "hub 3fa2c1" in static_text(pilot, "#title")  # the unit is the backup's unit again
    assert file_bytes(settings.instance_root) == backed_up


async def test_the_picker_starts_in_the_backups_folder(make_app: Callable[..., MftuiApp], settings: Settings) -> None:
    create_backup(settings, "one", now=FROZEN)
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await open_backup_restore(pilot)
        await pilot.press("u")
        await settle(pilot)
        assert isinstance(app.screen, PickBackup)
        from textual_fspicker.parts import DirectoryNavigation

        assert app.screen.query_one(DirectoryNavigation).location == settings.backups_dir
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, BackupRestoreScreen)
        assert "No backup chosen" in details_text(pilot)


async def test_one_enter_on_a_highlighted_backup_opens_it(
    make_app: Callable[..., MftuiApp], settings: Settings
) -> None:
    """Keys only: Enter on a folder opens it, Enter on a .zip chooses it (no second Enter in the input)."""
    create_backup(settings, "newer", now=FROZEN)
    elsewhere = settings.backups_dir / "site-b"
    elsewhere.mkdir()
    chosen = create_backup(settings, "site-b", now=FROZEN).path.rename(elsewhere / "site-b.zip")
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await open_backup_restore(pilot)
        await pilot.press("u")
        await settle(pilot)
        assert isinstance(app.screen, PickBackup)
        from textual_fspicker.parts import DirectoryNavigation

        listing = app.screen.query_one(DirectoryNavigation)
        assert app.focused is listing
        await pilot.press("up", "enter")  # from the newest backup up to the folder site-b: Enter opens it
        await settle(pilot)
        assert isinstance(app.screen, PickBackup)
        assert listing.location == elsewhere
        await pilot.press("enter")  # the cursor starts on site-b.zip: one Enter chooses it
        await settle(pilot)
        assert isinstance(app.screen, BackupRestoreScreen)
        text = details_text(pilot)
        assert str(chosen) in text and "yes: structure and every checksum" in text, text
        assert not app.screen.query_one("#restore", Button).disabled


async def test_a_typed_path_still_works_in_the_picker(
    make_app: Callable[..., MftuiApp], settings: Settings, tmp_path: Path
) -> None:
    archive = create_backup(settings, "typed", now=FROZEN).path.rename(tmp_path / "typed.zip")
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await open_backup_restore(pilot)
        await pilot.press("u")
        await settle(pilot)
        await pilot.press("tab")  # from the list to the input
        await paste_text(pilot, str(archive))
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, BackupRestoreScreen)
        assert str(archive) in details_text(pilot)

        await pilot.press("u")
        await settle(pilot)
        await pilot.press("tab")
        await paste_text(pilot, str(tmp_path / "missing.zip"))
        await pilot.press("enter")  # checked: a file that is not there is not returned
        await settle(pilot)
        assert isinstance(app.screen, PickBackup)
        from textual_fspicker.base_dialog import Dialog

        assert app.screen.query_one(Dialog).border_subtitle == "The file must exist"


async def test_a_backup_replaced_after_it_was_checked_is_not_restored(
    make_app: Callable[..., MftuiApp], settings: Settings, tmp_path: Path
) -> None:
    """The file is swapped (rename) while the confirmation is read: nothing is restored, not the new file."""
    archive, _ = backup_then_change_live(settings)
    live = file_bytes(settings.instance_root)
    (settings.instance_root / "users" / "users.json").write_text('{"users": []}\n')
    other = create_backup(settings, "swapped", now=FROZEN).path  # another backup, valid too
    (settings.instance_root / "users" / "users.json").write_bytes(live["users/users.json"])
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await open_backup_restore(pilot)
        await upload(pilot, archive)
        await pilot.press("r")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmRestore)
        other.rename(archive)  # a different backup now has the checked one's name
        await pilot.press("tab", "enter")
        await settle(pilot, rounds=5)
        assert isinstance(app.screen, ErrorDialog), app.screen
        assert "Restore failed" == app.screen.query_one(".dialog").border_title
    assert file_bytes(settings.instance_root) == live
    assert not (settings.state_dir / "reboot-requests.jsonl").exists()


async def test_files_left_behind_by_a_restore_are_listed_escaped(
    make_app: Callable[..., MftuiApp], settings: Settings
) -> None:
    """RestoreResult.left_behind (the unit's own files not carried over) is shown, as plain escaped text."""
    from mftui.restore import RestoreResult, plan_restore

    archive = create_backup(settings, "kept", now=FROZEN).path
    plan = plan_restore(settings, archive)
    result = RestoreResult(
        info=plan.info,
        safety_backup=archive,
        changes=plan.changes,
        previous=settings.state_dir / "previous",
        left_behind=("services/old/unit-data.tmp", "[/nope]\x1b[2J.tmp"),
    )
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.restore_done(result, archive.name)
        await settle(pilot, rounds=5)
        assert isinstance(app.screen, RestoreTriggered)
        text = static_text(pilot, "#left-behind")
        assert "Not carried over" in text and str(settings.state_dir / "previous") in text
        assert "services/old/unit-data.tmp" in text and "[/nope]\\x1b[2J.tmp" in text, text


async def test_the_picker_lists_newest_first_and_remembers_where_it_was(
    make_app: Callable[..., MftuiApp], settings: Settings, tmp_path: Path
) -> None:
    import os

    from textual_fspicker.parts import DirectoryNavigation

    older = create_backup(settings, "older", now=FROZEN).path
    newer = create_backup(settings, "newer", now=FROZEN).path
    os.utime(older, (1_700_000_000, 1_700_000_000))
    os.utime(newer, (1_800_000_000, 1_800_000_000))  # named "newer", and newer on disk (not the same second)
    usb = settings.backups_dir / "usb"
    usb.mkdir()
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await open_backup_restore(pilot)
        await pilot.press("u")
        await settle(pilot)
        listing = app.screen.query_one(DirectoryNavigation)
        names = [option.location.name for option in listing.options]  # type: ignore[attr-defined]
        assert names == ["..", "usb", newer.name, older.name]
        assert listing.highlighted == 2  # on the newest backup
        await pilot.press("up", "enter")  # into usb/
        await settle(pilot)
        assert listing.location == usb
        await pilot.press("backspace")
        await settle(pilot)
        assert listing.highlighted == 1  # on usb/, the folder just left
        await pilot.press("enter", "escape")  # into usb/ again, then cancel
        await settle(pilot)
        await pilot.press("u")
        await settle(pilot)
        assert app.screen.query_one(DirectoryNavigation).location == usb  # where it was left


async def test_any_chosen_backup_can_be_downloaded(
    make_app: Callable[..., MftuiApp], settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """d on the restore pane: Download Zip for the backup chosen there (not only one made since start);
    a relative folder is reported as the absolute path it really is."""
    archive, _ = backup_then_change_live(settings)
    monkeypatch.chdir(tmp_path)
    (tmp_path / "usb").mkdir()
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await open_backup_restore(pilot)
        await upload(pilot, archive)
        await pilot.press("d")
        await settle(pilot)
        assert isinstance(app.screen, DownloadZip) and app.screen.archive == archive
        await type_text(pilot, "usb")
        await pilot.press("enter")
        await settle(pilot)
        status = static_text(pilot, "#copy-status")
        assert f"Copied and verified (size and SHA-256 match): {tmp_path / 'usb' / archive.name}" in status, status
    assert (tmp_path / "usb" / archive.name).read_bytes() == archive.read_bytes()


@pytest.mark.parametrize("size", [(80, 24), (60, 20)])
async def test_the_pickers_filter_list_opens_inside_the_dialog(
    make_app: Callable[..., MftuiApp], settings: Settings, size: tuple[int, int]
) -> None:
    """The filter's drop-down opens above it, inside the dialog: it never draws over the dialog's border."""
    from textual.widgets import Select
    from textual.widgets._select import SelectOverlay

    app = make_app()
    async with app.run_test(size=size) as pilot:
        await open_backup_restore(pilot)
        await pilot.press("u")
        await settle(pilot)
        assert isinstance(app.screen, PickBackup)
        select = app.screen.query_one(Select)
        select.focus()
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        overlay = select.query_one(SelectOverlay)
        assert overlay.display
        dialog = app.screen.query_one(".dialog") if app.screen.query(".dialog") else app.screen.children[0]
        inside = dialog.region.shrink((1, 1, 1, 1))  # within the border
        assert inside.contains_region(overlay.region), (overlay.region, dialog.region)
        await pilot.press("escape")
