"""A protected backup is encrypted while the plain one is written (archive/protect_writer.py).

The container follows the plain archive as its members finish; a large
member's local header is patched only at its end, so the bytes from that
header on must wait. What ``age`` decrypts must be, byte for byte, the plain
backup the same tree makes at the same second, however often the follower
runs; and a backup that fails part way leaves no file behind, plain or
encrypted.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import zipfile
from datetime import UTC, datetime
from pathlib import Path

import pytest

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
@pytest.mark.parametrize("step", [protect_writer.FOLLOW_STEP, 1, 64 * 1024 + 3])
def test_the_payload_is_the_plain_backup_byte_for_byte(settings: Settings, tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch, step: int) -> None:
    """Whether the follower streams every few MiB, after every member, or at odd offsets."""
    _tree_with_large_members(settings)
    plain = create_backup(Settings(instance_root=settings.instance_root, backups_dir=tmp_path / "plain"), "b",
                          now=NOW, protect=Protector())
    key, protect = _office_key(tmp_path)
    monkeypatch.setattr(protect_writer, "FOLLOW_STEP", step)
    sealed = create_backup(settings, "b", now=NOW, protect=protect)
    payload = zipfile.ZipFile(sealed.path).read("config.zip.age")
    opened = subprocess.run(["age", "-d", "-i", str(key)], input=payload, check=True, capture_output=True).stdout
    assert opened == plain.path.read_bytes()
    assert [p.name for p in settings.backups_dir.iterdir()] == [sealed.path.name]  # no partial file left


@pytest.mark.parametrize("size", ["5m", "6m", "7m", "8m"])  # full at different points of the two files
def test_a_backup_that_runs_out_of_space_leaves_nothing(settings: Settings, tmp_path: Path, size: str) -> None:
    """The plain and the encrypted partial files fill a real small disk; both are removed, and it says why."""
    disk = tmp_path / "stick"
    disk.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(disk)],
                      capture_output=True).returncode != 0:
        pytest.skip("needs root to mount a tmpfs")
    try:
        (settings.instance_root / "flows" / "firmware.bin").write_bytes(os.urandom(4 * 1024 * 1024))
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
