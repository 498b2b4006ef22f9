"""Reading the plain backup inside an encrypted payload where it lies (archive/payload_source.py).

Reads of any size at any offset give the plain backup, checked against a
front-to-back decryption and the real ``age`` program's; a damaged chunk is
refused whichever read touches it.
"""

from __future__ import annotations

import os
import random
import subprocess
import zipfile
from pathlib import Path

import pytest
from test_protected_cli import rebuild

from mftui.archive import age
from mftui.archive.age_keys import ScryptIdentity, ScryptRecipient
from mftui.archive.payload_source import PayloadSource
from mftui.archive.protected import read_protected
from mftui.archive.protector import Protector
from mftui.archive.writer import create_backup
from mftui.settings import Settings

PASSPHRASE = b"correct horse battery staple"


@pytest.fixture
def sealed(settings: Settings) -> Path:
    """An encrypted backup of several age chunks (a file of random bytes makes it long)."""
    (settings.instance_root / "flows" / "firmware-notes.bin").write_bytes(os.urandom(300_000))
    protect = Protector("passphrase", (ScryptRecipient(PASSPHRASE),), proof=(ScryptIdentity(PASSPHRASE),))
    return create_backup(settings, "sealed", protect=protect).path


def plain_of(path: Path, tmp_path: Path) -> bytes:
    """The plain backup, decrypted front to back by the streaming decrypter (checked on age's test vectors)."""
    payload = tmp_path / "payload.age"
    payload.write_bytes(zipfile.ZipFile(path).read("config.zip.age"))
    with payload.open("rb") as fh:
        return b"".join(age.decrypt(fh, [ScryptIdentity(PASSPHRASE)]))


def test_small_and_large_reads_give_the_plain_backup(sealed: Path, tmp_path: Path) -> None:
    plain = plain_of(sealed, tmp_path)
    assert len(plain) > 3 * age.CHUNK
    rng = random.Random(7)
    with PayloadSource(read_protected(sealed), [ScryptIdentity(PASSPHRASE)]) as source:
        assert source.size == len(plain)
        for _ in range(300):
            size = rng.choice([1, 22, 30, 64, 65, 100, 4096, age.CHUNK - 1, age.CHUNK, 3 * age.CHUNK // 2])
            offset = rng.randrange(0, len(plain))
            assert source.pread(size, offset) == plain[offset : offset + size], (size, offset)
        for offset in (0, age.CHUNK - 10, len(plain) - 5, len(plain)):  # across a chunk's end, at the end
            assert source.pread(30, offset) == plain[offset : offset + 30]
        source.finish()


def test_a_damaged_chunk_is_refused_by_a_small_read(sealed: Path, tmp_path: Path) -> None:
    payload = zipfile.ZipFile(sealed).read("config.zip.age")
    damaged = bytearray(payload)
    start = payload.index(b"\n---") + 1
    start = payload.index(b"\n", start) + 1 + age.NONCE  # the first chunk starts here
    damaged[start + 2 * age.CHUNK + 40] ^= 0x01  # inside the third chunk
    copy = rebuild(sealed, tmp_path / "damaged.zip", payload=bytes(damaged), pin=True)
    with PayloadSource(read_protected(copy), [ScryptIdentity(PASSPHRASE)]) as source:
        assert source.pread(30, 0)  # an undamaged chunk
        with pytest.raises(age.AgeError, match="fails its authentication"):
            source.pread(30, 2 * age.CHUNK)  # a local header's worth: its whole chunk is authenticated first


def test_the_reads_give_what_the_real_age_decrypts(settings: Settings, tmp_path: Path) -> None:
    """A payload for an age key (X25519, so that age -d runs without a terminal): every read, small or large,
    gives the bytes the real age program decrypts."""
    (settings.instance_root / "flows" / "firmware-notes.bin").write_bytes(os.urandom(200_000))
    key = tmp_path / "key.txt"
    subprocess.run(["age-keygen", "-o", str(key)], check=True, capture_output=True)
    from mftui.keys import read_identities, read_recipients

    recipients = tmp_path / "recipients.txt"
    recipients.write_text(subprocess.run(["age-keygen", "-y", str(key)], check=True, capture_output=True,
                                         text=True).stdout)
    readers = read_recipients(recipients)
    backup = create_backup(settings, "office", protect=Protector(
        "recipients", readers.recipients, readers.names)).path
    (tmp_path / "payload.age").write_bytes(zipfile.ZipFile(backup).read("config.zip.age"))
    by_age = subprocess.run(["age", "-d", "-i", str(key), str(tmp_path / "payload.age")], check=True,
                            capture_output=True).stdout
    with PayloadSource(read_protected(backup), read_identities(key)) as source:
        assert source.pread(len(by_age), 0) == by_age
        assert b"".join(source.pread(25, at) for at in range(0, len(by_age), 25)) == by_age  # peeks only
        source.finish()
