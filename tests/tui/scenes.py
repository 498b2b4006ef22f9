"""Every screen and dialog, reached the way a technician reaches it: for snapshots and screenshots.

The instance lives at a fixed path (``/tmp/mftui-snap``) so that paths shown
on screen are the same on every run; a lock keeps two test runs from sharing it.
"""

from __future__ import annotations

import dataclasses
import fcntl
import json
import os
import shutil
import time
import zipfile
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from textual.pilot import Pilot
from textual.widgets import Input

from mftui.archive.writer import create_backup
from mftui.demo import write_demo_tree
from mftui.settings import Settings

from .helpers import FROZEN, SIZE, frozen_now, settle, type_text

SNAP_ROOT = Path("/tmp/mftui-snap")
STAMP = FROZEN.timestamp()


@contextmanager
def scene_instance() -> Iterator[Settings]:
    """A fresh demo instance at the fixed path, held under a lock for the duration."""
    lock_path = Path("/tmp/mftui-snap.lock")
    with lock_path.open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        shutil.rmtree(SNAP_ROOT, ignore_errors=True)
        root = SNAP_ROOT / "site" / "mobiusflow"
        root.mkdir(parents=True)
        write_demo_tree(root)
        old_tz = os.environ.get("TZ")
        os.environ["TZ"] = "UTC"  # the picker shows local times
        time.tzset()
        try:
            yield Settings(instance_root=root, backups_dir=SNAP_ROOT / "backups", demo=True)
        finally:
            if old_tz is None:
                os.environ.pop("TZ", None)
            else:
                os.environ["TZ"] = old_tz
            time.tzset()
            shutil.rmtree(SNAP_ROOT, ignore_errors=True)


def snapshot(scene: Scene, snap_compare: Callable[..., bool], monkeypatch: Any, *, low_bandwidth: bool = True,
             size: tuple[int, int] = SIZE) -> bool:
    """``snap_compare`` of one scene, on a fresh instance, with its environment (no SSH unless it says so)."""
    from mftui.tui.app import MftuiApp

    for key, value in scene.env.items():
        monkeypatch.setenv(key, value)
    if "SSH_CONNECTION" not in scene.env:
        monkeypatch.delenv("SSH_CONNECTION", raising=False)
    with scene_instance() as settings:
        app = MftuiApp(scene.setup(settings), low_bandwidth=low_bandwidth, now=frozen_now)
        return snap_compare(app, terminal_size=size, run_before=scene.run_before)


def _freeze_times(settings: Settings) -> None:
    for path in [settings.backups_dir, *settings.backups_dir.glob("*"), SNAP_ROOT]:
        os.utime(path, (STAMP, STAMP))


def backup(settings: Settings, name: str = "before") -> Path:
    path = create_backup(settings, name, now=FROZEN).path
    _freeze_times(settings)
    return path


def change_live(settings: Settings) -> None:
    root = settings.instance_root
    (root / "flows" / "flows.json").write_text('[{"id": "f99", "type": "tab", "label": "new"}]\n')
    (root / "services" / "0ff.json").write_text('{"id": "0ff"}\n')


def damaged(settings: Settings) -> Path:
    good = backup(settings, "good")
    bad = settings.backups_dir / "damaged_2026-11-05T101500Z.zip"
    with zipfile.ZipFile(good) as src, zipfile.ZipFile(bad, "w") as dst:
        for item in src.infolist():
            data = src.read(item)
            if item.filename == "config/hub/psk.json":
                data = data.replace(b"keys", b"KEYS")
            dst.writestr(item, data)
    _freeze_times(settings)
    return bad


def other_unit(settings: Settings) -> None:
    backup(settings)
    change_live(settings)
    identity = settings.instance_root / "instance.json"
    data = json.loads(identity.read_text())
    data["hub_id"] = "77aa01"
    identity.write_text(json.dumps(data))


def restored(settings: Settings) -> None:
    """A backup restored over a changed live configuration: the configuration it replaced is kept."""
    from mftui.restore import restore_backup
    from mftui.restore.journal import read_journal, write_journal

    path = backup(settings)
    change_live(settings)
    restore_backup(settings, path)
    journal = read_journal(settings.state_dir)
    assert journal is not None
    journal.finished_at = journal.previous_at = FROZEN.isoformat(timespec="seconds")  # "replaced <when>" is shown
    write_journal(settings.state_dir, journal)
    _freeze_times(settings)


def still_cursors(pilot: Pilot[Any]) -> None:
    """No blinking cursor in a picture: it would be caught on or off at random."""
    for screen in pilot.app.screen_stack:
        for field_ in screen.query(Input):
            field_.cursor_blink = False


async def _open(pilot: Pilot[Any]) -> None:
    await settle(pilot)
    await pilot.press("b")
    await settle(pilot)


async def _upload(pilot: Pilot[Any], path: Path) -> None:
    await _open(pilot)
    await pilot.press("tab", "tab", "u")
    await settle(pilot)
    picker_input = pilot.app.screen.query_one(Input)
    picker_input.focus()
    picker_input.value = str(path)
    await pilot.press("enter")
    await settle(pilot)


async def administration(pilot: Pilot[Any]) -> None:
    await settle(pilot)


async def backup_form(pilot: Pilot[Any]) -> None:
    await _open(pilot)
    await type_text(pilot, "site visit")


async def backup_name_problem(pilot: Pilot[Any]) -> None:
    await _open(pilot)
    pilot.app.screen.query_one("#name", Input).value = "a name far too long for any file system " * 2
    await settle(pilot)


async def backup_result(pilot: Pilot[Any]) -> None:
    await backup_form(pilot)
    await pilot.press("enter")
    await settle(pilot)


async def download_zip(pilot: Pilot[Any]) -> None:
    await backup_result(pilot)
    await pilot.press("d")
    await settle(pilot)
    await type_text(pilot, "/media/usb")


async def backup_failed(pilot: Pilot[Any]) -> None:
    await _open(pilot)
    await pilot.press("enter")
    await settle(pilot)


async def upload_picker(pilot: Pilot[Any]) -> None:
    await _open(pilot)
    await pilot.press("tab", "tab", "u")
    await settle(pilot)


async def restore_pane(pilot: Pilot[Any]) -> None:
    await _upload(pilot, SNAP_ROOT / "backups" / "before_2026-11-05T101500Z.zip")


async def restore_damaged(pilot: Pilot[Any]) -> None:
    await _upload(pilot, SNAP_ROOT / "backups" / "damaged_2026-11-05T101500Z.zip")


async def restore_confirm(pilot: Pilot[Any]) -> None:
    await restore_pane(pilot)
    await pilot.press("r")
    await settle(pilot)


class _FrozenWallClock:
    """The ``time`` module with time.time() at the frozen instant (the trial's deadline is shown)."""

    def __getattr__(self, name: str) -> Any:
        return getattr(time, name)

    def time(self) -> float:
        return STAMP


@contextmanager
def frozen_writer_clock() -> Iterator[None]:
    """The safety archive a restore writes is named by the clock, and a trial's deadline is shown:
    both frozen while one scene restores."""
    import mftui.archive.writer as writer
    import mftui.restore.trial as trial

    class Frozen(datetime):
        @classmethod
        def now(cls, tz: Any = None) -> Frozen:  # type: ignore[override]
            return cls.fromtimestamp(STAMP, tz)

    real, real_time = writer.datetime, trial.time
    writer.datetime = Frozen  # type: ignore[misc]
    trial.time = _FrozenWallClock()  # type: ignore[assignment]
    try:
        yield
    finally:
        writer.datetime = real  # type: ignore[misc]
        trial.time = real_time


async def restore_triggered(pilot: Pilot[Any]) -> None:
    """A real restore: the checked backup, Tab to Yes, Enter."""
    await restore_confirm(pilot)
    with frozen_writer_clock():
        await pilot.press("tab", "enter")
        await settle(pilot, rounds=5)


PASSPHRASE = "correct horse"


def sealed(settings: Settings) -> Settings:
    """A backup encrypted with PASSPHRASE and signed by office@example, whom this unit trusts."""
    from mftui.keys import keygen, public_line
    from mftui.protection import protector_for
    from mftui.protection_settings import ProtectionSettings, TrustSettings

    key, signers = SNAP_ROOT / "sign.key", SNAP_ROOT / "allowed_signers"
    SNAP_ROOT.mkdir(parents=True, exist_ok=True)
    signers.write_text(f"office@example {public_line(keygen(key))}\n")
    settings = dataclasses.replace(settings, protection=ProtectionSettings(sign_key=key),
                                   trust=TrustSettings(allowed_signers=signers))
    protect = protector_for(settings, encrypt="passphrase", passphrase=PASSPHRASE.encode())
    create_backup(settings, "sealed", now=FROZEN, protect=protect)
    change_live(settings)
    _freeze_times(settings)
    return settings


def _sealed_path() -> Path:
    return next((SNAP_ROOT / "backups").glob("sealed_*.zip"))


async def passphrase_asked(pilot: Pilot[Any]) -> None:
    await _upload(pilot, _sealed_path())
    await settle(pilot, rounds=5)


async def passphrase_wrong(pilot: Pilot[Any]) -> None:
    await passphrase_asked(pilot)
    await type_text(pilot, "not it")
    await pilot.press("enter")
    await settle(pilot, rounds=5)


async def sealed_pane(pilot: Pilot[Any]) -> None:
    await passphrase_asked(pilot)
    await type_text(pilot, PASSPHRASE)
    await pilot.press("enter")
    await settle(pilot, rounds=5)


def on_trial(settings: Settings) -> None:
    """A backup restored on trial (10 minutes) by the core, as the unit is after the restore's reboot."""
    from mftui.restore import restore_backup

    path = backup(settings)
    change_live(settings)
    restore_backup(settings, path, trial=600)


async def help_screen(pilot: Pilot[Any]) -> None:
    await settle(pilot)
    await pilot.press("question_mark")
    await settle(pilot)


async def put_back_confirm(pilot: Pilot[Any]) -> None:
    await settle(pilot)
    await pilot.press("p")
    await settle(pilot)


@dataclass(frozen=True)
class Scene:
    """How to reach one screen or dialog: set the instance up, then press keys."""

    run: Callable[[Pilot[Any]], Awaitable[None]]
    prepare: Callable[[Settings], object] = lambda _settings: None
    env: dict[str, str] = field(default_factory=dict)

    def setup(self, settings: Settings) -> Settings:
        """Prepare the instance; a prepare that returns Settings (keys, trust) gives the app's settings."""
        made = self.prepare(settings)
        return made if isinstance(made, Settings) else settings

    async def run_before(self, pilot: Pilot[Any]) -> None:
        await self.run(pilot)
        still_cursors(pilot)
        await pilot.pause()


def _unwritable_backups(settings: Settings) -> None:
    settings.backups_dir.parent.mkdir(parents=True, exist_ok=True)
    settings.backups_dir.write_text("a file where the backups folder should be\n")


SSH = {"SSH_CONNECTION": "192.0.2.99 51234 192.0.2.20 22", "USER": "tech", "LOGNAME": "tech"}

SCENES: dict[str, Scene] = {
    "administration": Scene(administration),
    "backup-form": Scene(backup_form),
    "backup-name-problem": Scene(backup_name_problem),
    "backup-result": Scene(backup_result),
    "download-zip": Scene(download_zip, env=SSH),
    "backup-failed": Scene(backup_failed, prepare=_unwritable_backups),
    "upload-picker": Scene(upload_picker, prepare=backup),
    "restore-pane": Scene(restore_pane, prepare=lambda s: (backup(s), change_live(s))),
    "restore-damaged": Scene(restore_damaged, prepare=damaged),
    "restore-confirm": Scene(restore_confirm, prepare=lambda s: (backup(s), change_live(s))),
    "restore-confirm-other-unit": Scene(restore_confirm, prepare=other_unit),
    "restore-triggered": Scene(restore_triggered, prepare=lambda s: (backup(s), change_live(s))),
    "put-back-confirm": Scene(put_back_confirm, prepare=restored),
    "help": Scene(help_screen),
    # Pictures only (scripts/screenshots.py): a signing key is made afresh, and the trial's clock runs.
    "passphrase": Scene(passphrase_asked, prepare=sealed),
    "passphrase-wrong": Scene(passphrase_wrong, prepare=sealed),
    "protected-pane": Scene(sealed_pane, prepare=sealed),
    "trial-banner": Scene(administration, prepare=on_trial),
}
