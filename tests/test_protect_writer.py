"""A protected backup is encrypted while the plain one is laid out (archive/protect_writer.py).

The container takes the plain archive's bytes as each member finishes; a
large member's local header is patched only at its end, so it waits, in
memory or, past HOLD bytes, in an unlinked file. What ``age`` decrypts must
be, byte for byte, the plain backup the same tree makes at the same second,
whichever way its members waited; a backup that fails part way leaves no
file behind; and one killed part way leaves only encrypted bytes on disk.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import zipfile
from datetime import UTC, datetime
from pathlib import Path

import pytest
from children import killed_at

from mftui.archive import protect_writer
from mftui.archive.age_keys import X25519Identity
from mftui.archive.protector import Protector
from mftui.archive.writer import create_backup
from mftui.errors import BackupError
from mftui.settings import Settings

NOW = datetime(2026, 11, 30, 8, 15, tzinfo=UTC)


def _office_key(tmp_path: Path) -> tuple[Path, Protector]:
    key = X25519Identity.generate()
    path = tmp_path / "office-key.txt"
    path.write_text(f"{key}\n")
    recipient = key.recipient()
    return path, Protector("recipients", (recipient,), (str(recipient),))


def _tree_with_large_members(settings: Settings) -> None:
    """Small files, and files over the packer's 1 MiB chunk (framed, then patched at their end): one that
    compresses and one that does not."""
    flows = settings.instance_root / "flows"
    (flows / "firmware.bin").write_bytes(os.urandom(3 * 1024 * 1024 + 17))
    (flows / "history.json").write_bytes(b'{"point": 21.5, "unit": "C"}\n' * 120_000)
    for n in range(40):
        (flows / f"node-{n:02}.json").write_text(f'{{"id": {n}, "label": "node {n}"}}\n' * (n + 1))


@pytest.mark.skipif(not shutil.which("age"), reason="needs age (Debian: age; .ci/run installs it)")
@pytest.mark.parametrize("hold", [protect_writer.HOLD, 1, 64 * 1024 + 3])
def test_the_payload_is_the_plain_backup_byte_for_byte(settings: Settings, tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch, hold: int) -> None:
    """Whether a large member waits in memory, or in the spill file from its first byte, or from an odd
    offset inside it (its local header patched in memory or in the file)."""
    _tree_with_large_members(settings)
    plain = create_backup(Settings(instance_root=settings.instance_root, backups_dir=tmp_path / "plain"), "b",
                          now=NOW, protect=Protector())
    key, protect = _office_key(tmp_path)
    monkeypatch.setattr(protect_writer, "HOLD", hold)
    sealed = create_backup(settings, "b", now=NOW, protect=protect)
    payload = zipfile.ZipFile(sealed.path).read("config.zip.age")
    opened = subprocess.run(["age", "-d", "-i", str(key)], input=payload, check=True, capture_output=True).stdout
    assert opened == plain.path.read_bytes()
    assert [p.name for p in settings.backups_dir.iterdir()] == [sealed.path.name]  # no partial file left


@pytest.mark.parametrize("size", ["3m", "4m", "5m"])  # full while the files are packed / at the end
def test_a_backup_that_runs_out_of_space_leaves_nothing(settings: Settings, tmp_path: Path, size: str) -> None:
    """The encrypted partial file (and the spill file of a large member) fill a real small disk: nothing is
    left, and it says why."""
    disk = tmp_path / "stick"
    disk.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(disk)],
                      capture_output=True).returncode != 0:
        pytest.skip("needs root to mount a tmpfs")
    try:
        (settings.instance_root / "flows" / "firmware.bin").write_bytes(os.urandom(4 * 1024 * 1024))
        (settings.instance_root / "flows" / "z-firmware.bin").write_bytes(os.urandom(1024 * 1024 + 1))
        _key, protect = _office_key(tmp_path)
        small = Settings(instance_root=settings.instance_root, backups_dir=disk)
        with pytest.raises(BackupError) as err:
            create_backup(small, "x", now=NOW, protect=protect)
        assert "not enough space in the backups folder" in str(err.value), err.value
        assert list(disk.iterdir()) == []
    finally:
        subprocess.run(["umount", str(disk)], check=True)


def test_a_payload_near_4_gib_keeps_a_plain_local_header(settings: Settings, tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """The container is read without ZIP64, so its payload never gets a ZIP64 local header, even where the
    plain archive's large members do (zipstream's thresholds lowered, as test_validate_hostile does): the
    backup is made, and it verifies with its key."""
    from mftui.archive import zipstream
    from mftui.protection import verify_protected

    monkeypatch.setattr(zipstream, "ZIP64_LOCAL_AT", 64 * 1024)
    (settings.instance_root / "flows" / "firmware.bin").write_bytes(os.urandom(3 * 1024 * 1024))
    key, protect = _office_key(tmp_path)
    from mftui.keys import read_identities

    sealed = create_backup(settings, "b", now=NOW, protect=protect)
    with zipfile.ZipFile(sealed.path) as zf:
        assert zf.getinfo("config.zip.age").file_size > zipstream.ZIP64_LOCAL_AT
    info, _described = verify_protected(settings, sealed.path, read_identities(key))
    assert any(f.path == "flows/firmware.bin" for f in info.files)


KILLED_CHILD = """
import sys, time
from mftui.archive import packer, writer
from mftui.archive.age_keys import X25519Identity
from mftui.archive.protector import Protector
from mftui.settings import Settings
from pathlib import Path

real = packer.Packer._record

def record(self, cf, sha):
    real(self, cf, sha)
    if len(self.entries) == len(self.files_seen) - 1:  # every file laid out but the last: then stop, forever
        print("writing", flush=True)
        time.sleep(600)

def run(self, files):
    self.files_seen = files
    return real_run(self, files)

real_run = packer.Packer.run
packer.Packer.run = run
packer.Packer._record = record
recipient = X25519Identity.generate().recipient()
settings = Settings(instance_root=Path(sys.argv[1]), backups_dir=Path(sys.argv[2]))
writer.create_backup(settings, "killed", protect=Protector("recipients", (recipient,), (str(recipient),)))
"""


def test_a_killed_encrypted_backup_leaves_no_plain_byte_on_disk(settings: Settings, tmp_path: Path) -> None:
    """The plain archive is never a file: a backup killed once every secret has been read and laid out
    leaves only its encrypted partial file (which the next backup removes), holding none of the secrets'
    bytes (random, so stored as they are in a plain zip, and found there if they were written out)."""
    secret = os.urandom(4096)
    (settings.instance_root / "certs" / "hub.key").write_bytes(secret)
    (settings.instance_root / "flows" / "firmware.bin").write_bytes(os.urandom(3 * 1024 * 1024))  # a large one
    backups = tmp_path / "backups"
    with killed_at(KILLED_CHILD, str(settings.instance_root), str(backups), word="writing") as proc:
        pass
    left = [p for p in backups.iterdir()]
    assert [p.name.startswith(f".partial-{proc.pid}-") for p in left] == [True], left  # the container only
    for path in left:
        data = path.read_bytes()
        assert secret[:64] not in data and secret[-64:] not in data
    create_backup(Settings(instance_root=settings.instance_root, backups_dir=backups), "next", now=NOW)
    assert not any(p.name.startswith(".partial-") for p in backups.iterdir())  # removed by the next backup


def test_a_payload_too_large_for_the_container_is_refused_in_words(settings: Settings, tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """4 GiB and more do not fit the container's 32-bit payload size (its limit lowered here): one sentence
    saying what to do, and nothing left behind."""
    monkeypatch.setattr(protect_writer, "MAX_PAYLOAD", 256 * 1024)
    (settings.instance_root / "flows" / "firmware.bin").write_bytes(os.urandom(300_000))
    _key, protect = _office_key(tmp_path)
    with pytest.raises(BackupError) as err:
        create_backup(settings, "big", now=NOW, protect=protect)
    message = str(err.value)
    assert "holds less than 4 GiB" in message and "[instance] exclude" in message, message
    assert list(settings.backups_dir.iterdir()) == []
