"""Pilot tests of protected backups in the TUI: the pane's protection lines, the passphrase dialog, the restore."""

from __future__ import annotations

import dataclasses
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from textual.widgets import Input
from trees import file_bytes

from mftui.archive.writer import create_backup
from mftui.keys import keygen, public_line
from mftui.protection import protector_for
from mftui.protection_settings import ProtectionSettings, TrustSettings
from mftui.settings import Settings
from mftui.tui.app import MftuiApp
from mftui.tui.dialogs.confirm_restore import ConfirmRestore
from mftui.tui.dialogs.passphrase import AskPassphrase
from mftui.tui.dialogs.restore_triggered import RestoreTriggered
from mftui.tui.screens.backup_restore import BackupRestoreScreen

from .helpers import FROZEN, SIZE, settle, static_text, type_text
from .test_restore import details_text, open_backup_restore, upload

PASSPHRASE = "correct horse"


def signed_settings(settings: Settings, tmp: Path) -> Settings:
    """This unit signs its backups with a key the allowed_signers file names office@example."""
    key = tmp / "sign.key"
    (tmp / "allowed_signers").write_text(f"office@example {public_line(keygen(key))}\n")
    return dataclasses.replace(settings, protection=ProtectionSettings(sign_key=key),
                               trust=TrustSettings(allowed_signers=tmp / "allowed_signers"))


def encrypted_backup(settings: Settings) -> tuple[Path, dict[str, bytes]]:
    """A signed backup encrypted with PASSPHRASE; then the live configuration moves on."""
    protect = protector_for(settings, encrypt="passphrase", passphrase=PASSPHRASE.encode())
    archive = create_backup(settings, "sealed", now=FROZEN, protect=protect).path
    backed_up = file_bytes(settings.instance_root)
    (settings.instance_root / "flows" / "flows.json").write_text('[{"id": "f99"}]\n')
    return archive, backed_up


async def answer(pilot, text: str) -> None:  # type: ignore[no-untyped-def]
    assert isinstance(pilot.app.screen, AskPassphrase)
    await type_text(pilot, text)
    await pilot.press("enter")
    await settle(pilot, rounds=5)


async def test_wrong_passphrase_asks_again_then_the_right_one_restores(
    make_app: Callable[..., MftuiApp], settings: Settings, tmp_path: Path
) -> None:
    settings = signed_settings(settings, tmp_path)
    archive, backed_up = encrypted_backup(settings)
    live_before = file_bytes(settings.instance_root)
    app = make_app(app_settings=settings)
    async with app.run_test(size=SIZE) as pilot:
        await open_backup_restore(pilot)
        await pilot.press("u")
        await settle(pilot)
        field = app.screen.query_one(Input)
        field.focus()
        field.value = str(archive)
        await pilot.press("enter")
        await settle(pilot, rounds=5)
        dialog = app.screen
        assert isinstance(dialog, AskPassphrase)
        assert dialog.query_one("#passphrase", Input).password  # masked
        assert not dialog.query_one("#problem").display
        await answer(pilot, "not it")
        assert isinstance(app.screen, AskPassphrase)  # asked again, saying why
        assert "the passphrase is wrong" in static_text(pilot, "#problem")
        assert file_bytes(settings.instance_root) == live_before
        await answer(pilot, PASSPHRASE)
        assert isinstance(app.screen, BackupRestoreScreen)
        text = details_text(pilot)
        assert "Encrypted (passphrase)" in text
        assert "Signed by office@example (SHA256:" in text
        assert "yes: structure and every checksum" in text
        await pilot.press("r")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmRestore)
        await pilot.press("tab", "enter")
        await settle(pilot, rounds=5)
        assert isinstance(app.screen, RestoreTriggered)
    assert file_bytes(settings.instance_root) == backed_up
    left = sorted(p.name for p in settings.backups_dir.iterdir())
    assert [name for name in left if not name.endswith(".zip")] == []  # the opened payload is gone
    assert archive.exists()


async def test_esc_at_the_passphrase_gives_up_and_changes_nothing(
    make_app: Callable[..., MftuiApp], settings: Settings
) -> None:
    archive, _ = encrypted_backup(settings)
    live_before = file_bytes(settings.instance_root)
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await open_backup_restore(pilot)
        await pilot.press("u")
        await settle(pilot)
        field = app.screen.query_one(Input)
        field.focus()
        field.value = str(archive)
        await pilot.press("enter")
        await settle(pilot, rounds=5)
        assert isinstance(app.screen, AskPassphrase)
        await type_text(pilot, "half")
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, BackupRestoreScreen)
        text = details_text(pilot)
        assert "Encrypted (passphrase)" in text and "Not signed" in text
        assert "no passphrase given" in text
        assert app.screen.query_one("#restore").disabled
        await pilot.press("r")
        await settle(pilot)
        assert isinstance(app.screen, BackupRestoreScreen)
    assert file_bytes(settings.instance_root) == live_before


async def test_plain_backup_shows_no_protection_lines(
    make_app: Callable[..., MftuiApp], settings: Settings
) -> None:
    archive = create_backup(settings, "plain", now=FROZEN).path
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await open_backup_restore(pilot)
        await upload(pilot, archive)
        assert "Encrypted" not in details_text(pilot)


async def test_backup_with_a_passphrase_asks_twice_and_the_backup_opens_with_it(
    make_app: Callable[..., MftuiApp], settings: Settings
) -> None:
    from mftui.protection import WrongKey, open_backup

    settings = dataclasses.replace(settings, protection=ProtectionSettings(encrypt="passphrase"))
    app = make_app(app_settings=settings)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("b")
        await settle(pilot)
        await type_text(pilot, "sealed")
        await pilot.press("enter")
        await settle(pilot)
        dialog = app.screen
        assert isinstance(dialog, AskPassphrase)
        assert all(field.password for field in dialog.query(Input))
        await pilot.press("enter")  # empty: refused, asked again
        await settle(pilot)
        assert "empty" in static_text(pilot, "#problem")
        await type_text(pilot, PASSPHRASE)
        await pilot.press("enter")
        await type_text(pilot, PASSPHRASE + "x")
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, AskPassphrase)
        assert "differ" in static_text(pilot, "#problem")
        assert not list(settings.backups_dir.glob("*.zip"))  # nothing made (no folder yet is none too)
        await type_text(pilot, PASSPHRASE)
        await pilot.press("enter")
        await type_text(pilot, PASSPHRASE)
        await pilot.press("enter")
        await settle(pilot, rounds=6)
        assert isinstance(app.screen, BackupRestoreScreen)
    [archive] = settings.backups_dir.glob("sealed_*.zip")
    try:
        open_backup(settings, archive, passphrase=b"wrong").close()
        raise AssertionError("a wrong passphrase opened it")
    except WrongKey:
        pass
    with open_backup(settings, archive, passphrase=PASSPHRASE.encode()) as opened:
        assert opened.described.protection is not None and opened.described.protection.encryption == "passphrase"


async def test_esc_at_the_new_passphrase_makes_no_backup(
    make_app: Callable[..., MftuiApp], settings: Settings
) -> None:
    settings = dataclasses.replace(settings, protection=ProtectionSettings(encrypt="passphrase"))
    app = make_app(app_settings=settings)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("b")
        await settle(pilot)
        await type_text(pilot, "sealed")
        await pilot.press("enter")
        await settle(pilot)
        await type_text(pilot, PASSPHRASE)
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, BackupRestoreScreen)
        assert "cancelled" in static_text(pilot, "#backup-status")
    assert not list(settings.backups_dir.glob("*.zip"))  # nothing made (no folder yet is none too)


async def test_the_safety_copy_is_encrypted_with_a_passphrase_typed_twice(
    make_app: Callable[..., MftuiApp], settings: Settings
) -> None:
    from mftui.protection import describe_backup, open_backup

    archive = create_backup(settings, "plain", now=FROZEN).path  # made before the unit encrypted its backups
    backed_up = file_bytes(settings.instance_root)
    (settings.instance_root / "flows" / "flows.json").write_text('[{"id": "f99"}]\n')
    settings = dataclasses.replace(settings, protection=ProtectionSettings(encrypt="passphrase"))
    app = make_app(app_settings=settings)
    async with app.run_test(size=SIZE) as pilot:
        await open_backup_restore(pilot)
        await upload(pilot, archive)
        await pilot.press("r")
        await settle(pilot)
        await pilot.press("tab", "enter")
        await settle(pilot)
        assert isinstance(app.screen, AskPassphrase)  # for the safety copy
        for _ in range(2):
            await type_text(pilot, PASSPHRASE)
            await pilot.press("enter")
        await settle(pilot, rounds=6)
        assert isinstance(app.screen, RestoreTriggered)
    assert file_bytes(settings.instance_root) == backed_up
    [safety] = settings.backups_dir.glob("pre-restore_*.zip")
    protection = describe_backup(settings, safety).protection
    assert protection is not None and protection.encryption == "passphrase"
    with open_backup(settings, safety, passphrase=PASSPHRASE.encode()) as opened:
        assert opened.plain.exists()


@pytest.mark.skipif(not shutil.which("ssh-keygen"), reason="needs ssh-keygen")
async def test_recipients_the_pane_says_which_key_then_identity_file_opens_it(
    make_app: Callable[..., MftuiApp], settings: Settings, tmp_path: Path
) -> None:
    key = tmp_path / "office"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(key)], check=True)
    protect = protector_for(settings, encrypt="recipients", recipients_file=key.with_suffix(".pub"))
    archive = create_backup(settings, "for-office", now=FROZEN, protect=protect).path
    backed_up = file_bytes(settings.instance_root)
    (settings.instance_root / "flows" / "flows.json").write_text('[{"id": "f99"}]\n')
    live_before = file_bytes(settings.instance_root)
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await open_backup_restore(pilot)
        await upload(pilot, archive)  # no dialog: a passphrase would not open it
        text = details_text(pilot)
        assert "Encrypted for:" in text and "[protection] identity_file" in text, text
        assert app.screen.query_one("#restore").disabled
    assert file_bytes(settings.instance_root) == live_before

    with_key = dataclasses.replace(settings, protection=ProtectionSettings(identity_file=key))
    app = make_app(app_settings=with_key)
    async with app.run_test(size=SIZE) as pilot:
        await open_backup_restore(pilot)
        await upload(pilot, archive)
        assert "yes: structure and every checksum" in details_text(pilot)
        await pilot.press("r")
        await settle(pilot)
        await pilot.press("tab", "enter")
        await settle(pilot, rounds=5)
        assert isinstance(app.screen, RestoreTriggered)
    assert file_bytes(settings.instance_root) == backed_up
