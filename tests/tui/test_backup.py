"""Pilot tests of the backup side: name it, make it, get it off the box."""

from __future__ import annotations

import hashlib
import subprocess
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path

import pytest
from textual.widgets import Button, Input

from mftui.settings import Settings
from mftui.tui.app import MftuiApp
from mftui.tui.dialogs.download_zip import DownloadZip
from mftui.tui.dialogs.message import ErrorDialog
from mftui.tui.screens.administration import AdministrationScreen
from mftui.tui.screens.backup_restore import BackupRestoreScreen

from .helpers import SIZE, burst, paste_text, screen_lines, settle, static_text, type_text

EXPECTED = "site-visit_2026-11-05T101500Z.zip"


async def open_backup_restore(pilot) -> None:  # type: ignore[no-untyped-def]
    await settle(pilot)
    assert isinstance(pilot.app.screen, AdministrationScreen)
    await pilot.press("b")
    await settle(pilot)
    assert isinstance(pilot.app.screen, BackupRestoreScreen)


async def test_name_a_backup_and_make_it(make_app: Callable[..., MftuiApp], settings: Settings) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await open_backup_restore(pilot)
        assert app.focused is not None and app.focused.id == "name"
        await type_text(pilot, "site visit")
        assert static_text(pilot, "#preview") == EXPECTED  # previewed as typed, time from the frozen clock
        await pilot.press("enter")  # Enter in the name makes the backup
        await settle(pilot)
        archive = settings.backups_dir / EXPECTED
        assert archive.is_file()
        assert str(archive) in static_text(pilot, "#result-path")
        assert "17 files" in static_text(pilot, "#result-summary")
        assert app.focused is not None and app.focused.id == "download"
        await pilot.press("enter")  # the focused Download Zip button
        await settle(pilot)
        assert isinstance(app.screen, DownloadZip)
        await pilot.press("escape")
        await settle(pilot)

        await pilot.press("n")  # Request new backup: back to the form
        await settle(pilot)
        assert app.focused is not None and app.focused.id == "name"
        assert app.screen.query_one("#name", Input).value == "site visit"


async def test_a_bad_name_is_shown_and_refused(make_app: Callable[..., MftuiApp], settings: Settings) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await open_backup_restore(pilot)
        app.screen.query_one("#name", Input).value = "x" * 70
        await settle(pilot)
        assert "keep it to 64" in static_text(pilot, "#preview")
        await pilot.press("enter")
        await settle(pilot)
        assert not settings.backups_dir.exists() or not list(settings.backups_dir.glob("*.zip"))
        assert app.focused is not None and app.focused.id == "name"


async def test_backup_button_and_key_make_a_backup(make_app: Callable[..., MftuiApp], settings: Settings) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await open_backup_restore(pilot)
        await pilot.press("tab")  # the Backup button
        assert app.focused is not None and app.focused.id == "backup"
        await pilot.press("enter")
        await settle(pilot)
        assert [p.name for p in settings.backups_dir.glob("*.zip")] == ["backup_2026-11-05T101500Z.zip"]


async def test_a_failed_backup_shows_the_reason(
    make_app: Callable[..., MftuiApp], settings: Settings, tmp_path: Path
) -> None:
    (tmp_path / "not-a-folder").write_text("")
    app = make_app(app_settings=replace(settings, backups_dir=tmp_path / "not-a-folder" / "backups"))
    async with app.run_test(size=SIZE) as pilot:
        await open_backup_restore(pilot)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, ErrorDialog)
        assert app.screen.query_one(".dialog").border_title == "Backup failed"
        message = static_text(pilot, "#message")
        assert "Cannot write into the backups folder" in message
        assert "Traceback" not in message
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, BackupRestoreScreen)
        assert not app.screen.query_one("#name", Input).disabled
        assert app.focused is not None and app.focused.id == "name"


async def test_an_unreadable_instance_is_reported_on_the_first_screen(
    make_app: Callable[..., MftuiApp], settings: Settings
) -> None:
    (settings.instance_root / "hub" / "link.json").symlink_to("hub.json")  # a configuration cannot hold links
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, ErrorDialog)
        assert "hub/link.json is a symbolic link" in static_text(pilot, "#message")
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, AdministrationScreen)
        assert "cannot be read" in static_text(pilot, "#instance")


async def make_backup_and_open_download(pilot) -> Path:  # type: ignore[no-untyped-def]
    await open_backup_restore(pilot)
    await type_text(pilot, "site visit")
    await pilot.press("enter")
    await settle(pilot)
    await pilot.press("d")
    await settle(pilot)
    assert isinstance(pilot.app.screen, DownloadZip)
    return pilot.app.screen.archive


async def test_download_zip_copies_to_a_folder_and_verifies(
    make_app: Callable[..., MftuiApp], usb: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SSH_CONNECTION", raising=False)
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        archive = await make_backup_and_open_download(pilot)
        assert str(archive) in static_text(pilot, "#archive-path")
        assert app.focused is not None and app.focused.id == "folder"
        await paste_text(pilot, str(usb))
        await pilot.press("enter")
        await settle(pilot)
        copy = usb / archive.name
        assert copy.read_bytes() == archive.read_bytes()
        assert "Copied and verified" in static_text(pilot, "#copy-status")
        assert not list(usb.glob(".partial-*"))
        assert app.screen.last_copy.sha256 == hashlib.sha256(archive.read_bytes()).hexdigest()
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, BackupRestoreScreen)


async def test_download_zip_shows_an_scp_line_over_ssh(
    make_app: Callable[..., MftuiApp], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SSH_CONNECTION", "192.0.2.99 51234 192.0.2.20 22")
    monkeypatch.setattr("getpass.getuser", lambda: "tech")
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        archive = await make_backup_and_open_download(pilot)
        assert static_text(pilot, "#scp") == f"scp tech@192.0.2.20:{archive} ."


async def test_download_zip_to_a_missing_folder_says_so(make_app: Callable[..., MftuiApp], tmp_path: Path) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await make_backup_and_open_download(pilot)
        await paste_text(pilot, str(tmp_path / "nousb"))
        await pilot.press("enter")
        await settle(pilot)
        status = static_text(pilot, "#copy-status")
        assert "does not exist" in status and "mounted" in status
        assert isinstance(app.screen, DownloadZip)  # the technician fixes the path and tries again
        assert not app.screen.query_one("#copy", Button).disabled
        (tmp_path / "nousb").mkdir()  # the stick is mounted now: Enter again copies
        await pilot.press("enter")
        await settle(pilot)
        assert "Copied and verified" in static_text(pilot, "#copy-status")
        assert len(list((tmp_path / "nousb").glob("*.zip"))) == 1


@contextmanager
def read_only_mount(folder: Path) -> Iterator[Path]:
    """A real read-only filesystem (tmpfs mounted ro) at ``folder``: even root cannot write there."""
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "ro,size=1m", "tmpfs", str(folder)], capture_output=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a read-only tmpfs here: {done.stderr.decode().strip()}")
    try:
        yield folder
    finally:
        subprocess.run(["umount", str(folder)], check=True)


async def test_download_zip_to_a_read_only_folder_says_so(make_app: Callable[..., MftuiApp], usb: Path) -> None:
    with read_only_mount(usb):
        app = make_app()
        async with app.run_test(size=SIZE) as pilot:
            archive = await make_backup_and_open_download(pilot)
            await paste_text(pilot, str(usb))
            await pilot.press("tab")  # the Copy button
            assert app.focused is not None and app.focused.id == "copy"
            await pilot.press("enter")
            await settle(pilot)
            status = static_text(pilot, "#copy-status")
            assert "is on a read-only medium" in status, status
            assert str(usb) in status
            assert isinstance(app.screen, DownloadZip)
        assert not list(usb.iterdir())
    assert not (usb / archive.name).exists()


async def test_letters_typed_on_the_copy_button_go_to_the_folder(make_app: Callable[..., MftuiApp], usb: Path) -> None:
    """A path typed with the focus on Copy: every letter (c too) lands in the folder field; nothing is copied."""
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await make_backup_and_open_download(pilot)
        await pilot.press("tab")
        assert app.focused is not None and app.focused.id == "copy"
        await burst(pilot, *str(usb / "c"))
        assert app.screen.query_one("#folder", Input).value == str(usb / "c")
        assert "Copying" not in static_text(pilot, "#copy-status")
        assert not list(usb.iterdir())


async def test_the_scp_line_is_one_line_even_when_longer_than_the_dialog(
    make_app: Callable[..., MftuiApp], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A command to be copied is never broken: a 64-character name gives a line wider than 80 columns."""
    monkeypatch.setenv("SSH_CONNECTION", "192.0.2.99 51234 192.0.2.20 22")
    monkeypatch.setattr("getpass.getuser", lambda: "technician")
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("b")
        await settle(pilot)
        await type_text(pilot, "n" * 64)
        await pilot.press("enter")
        await settle(pilot)
        await pilot.press("d")
        await settle(pilot)
        line = static_text(pilot, "#scp")
        assert line.startswith("scp technician@192.0.2.20:") and len(line) > 80
        rows = [row for row in screen_lines(pilot) if "scp " in row or "nnnn" in row]
        assert len([row for row in rows if "scp " in row]) == 1
        assert not any(row.strip().startswith(("n", "_2026")) for row in rows if "scp" not in row and "/" not in row)


async def test_esc_and_back_keep_the_name_and_the_chosen_backup(
    make_app: Callable[..., MftuiApp], settings: Settings
) -> None:
    from .test_restore import backup_then_change_live, details_text, upload

    archive, _ = backup_then_change_live(settings)
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await open_backup_restore(pilot)
        await type_text(pilot, "half typed")
        await pilot.press("tab", "tab")
        await upload(pilot, archive)
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, AdministrationScreen)
        await pilot.press("b")
        await settle(pilot)
        assert isinstance(app.screen, BackupRestoreScreen)
        assert app.screen.query_one("#name", Input).value == "half typed"
        assert str(archive) in details_text(pilot)


async def test_a_name_with_no_latin_letter_says_it_becomes_backup(make_app: Callable[..., MftuiApp]) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await open_backup_restore(pilot)
        app.screen.query_one("#name", Input).value = "Склад"
        await settle(pilot)
        preview = static_text(pilot, "#preview")
        assert preview.startswith("backup_2026-11-05T101500Z.zip") and "named 'backup'" in preview, preview


async def test_the_result_says_what_retention_removed(make_app: Callable[..., MftuiApp], settings: Settings) -> None:
    from datetime import UTC, datetime

    from mftui.archive.writer import create_backup
    from mftui.retention_settings import RetentionSettings

    old = [create_backup(settings, f"old{i}", now=datetime(2026, 10, i + 1, tzinfo=UTC)).path for i in range(3)]
    app = make_app(app_settings=replace(settings, retention=RetentionSettings(keep_last=2)))
    async with app.run_test(size=SIZE) as pilot:
        await open_backup_restore(pilot)
        await pilot.press("tab", "enter")  # the Backup button
        await settle(pilot)
        summary = static_text(pilot, "#result-summary")
        assert "[retention] removed 2 older backups:" in summary, summary
        assert old[0].name in summary and old[1].name in summary and old[2].name not in summary, summary
        assert not old[0].exists() and not old[1].exists() and old[2].exists()
