"""The plain backup a restore opens from an encrypted one has no name (archive/payload.py).

It holds every secret of the unit, and the TUI keeps it open while the
technician reads the confirmation. It is an O_TMPFILE file read through
/proc/self/fd: nothing in the backups folder shows it, and a restore killed
meanwhile leaves none of its bytes on disk. Where the filesystem cannot make
such a file, a partial file is used, and removed at close.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from children import killed_at

from mftui.archive.age_keys import X25519Identity
from mftui.archive.protector import Protector
from mftui.archive.writer import create_backup
from mftui.protection import is_opened_payload, open_backup
from mftui.restore import verify_backup
from mftui.settings import Settings

KEY = X25519Identity.generate()


@pytest.fixture
def sealed(settings: Settings) -> tuple[Path, bytes]:
    """An encrypted backup whose hub.key is random bytes (stored as they are inside the plain backup)."""
    secret = os.urandom(4096)
    (settings.instance_root / "certs" / "hub.key").write_bytes(secret)
    recipient = KEY.recipient()
    path = create_backup(settings, "sealed", protect=Protector("recipients", (recipient,), (str(recipient),))).path
    return path, secret


def test_an_opened_payload_has_no_name(settings: Settings, sealed: tuple[Path, bytes]) -> None:
    path, _secret = sealed
    opened = open_backup(settings, path, [KEY])
    try:
        assert str(opened.plain).startswith("/proc/self/fd/")
        assert sorted(p.name for p in settings.backups_dir.iterdir()) == [path.name]
        assert is_opened_payload(opened.plain)
        assert verify_backup(settings, opened.plain).name == "sealed"
        fd = int(opened.plain.name)
    finally:
        opened.close()
    with pytest.raises(OSError):
        os.fstat(fd)  # closed: the file is gone


CHILD = """
import sys, time
from pathlib import Path
from mftui.archive.age_keys import X25519Identity
from mftui.protection import open_backup
from mftui.settings import Settings

key = X25519Identity(bytes.fromhex(sys.argv[3]))
settings = Settings(instance_root=Path(sys.argv[1]), backups_dir=Path(sys.argv[2]).parent)
opened = open_backup(settings, Path(sys.argv[2]), [key])
print("opened", flush=True)
time.sleep(600)
"""


def test_a_restore_killed_while_its_payload_is_open_leaves_no_plain_byte(settings: Settings,
                                                                        sealed: tuple[Path, bytes]) -> None:
    """As the TUI holds it while the confirmation is shown: a kill -9 then leaves only the backup."""
    path, secret = sealed
    with killed_at(CHILD, str(settings.instance_root), str(path), KEY.secret.hex(), word="opened"):
        pass
    assert sorted(p.name for p in settings.backups_dir.iterdir()) == [path.name]
    assert secret[:64] not in path.read_bytes()


def test_without_o_tmpfile_a_partial_file_is_used_and_removed(settings: Settings, sealed: tuple[Path, bytes],
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """A filesystem without O_TMPFILE (a FAT stick), or a Python without it: a partial file, removed at close."""
    path, secret = sealed
    monkeypatch.delattr(os, "O_TMPFILE")
    with open_backup(settings, path, [KEY]) as opened:
        assert opened.plain.parent == settings.backups_dir and opened.plain.name.startswith(".partial-")
        assert secret in opened.plain.read_bytes()
        assert verify_backup(settings, opened.plain).name == "sealed"
    assert sorted(p.name for p in settings.backups_dir.iterdir()) == [path.name]
