"""A passphrase's scrypt is started on a thread as soon as the passphrase and the backup are known
(protection.derive_ahead), and the opening then waits for that one derivation instead of running another.
What unwrap would refuse (a work factor above what the unit gives) starts nothing."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from mftui.archive import age, age_keys
from mftui.archive.age_keys import ScryptIdentity, ScryptRecipient
from mftui.archive.protector import Protector
from mftui.archive.writer import create_backup
from mftui.protection import derive_ahead, verify_protected
from mftui.settings import Settings

PASSPHRASE = b"correct horse battery staple"


@pytest.fixture
def sealed(settings: Settings) -> Path:
    protect = Protector("passphrase", (ScryptRecipient(PASSPHRASE),), proof=(ScryptIdentity(PASSPHRASE),))
    return create_backup(settings, "sealed", protect=protect).path


def test_the_opening_uses_the_derivation_started_ahead(settings: Settings, sealed: Path) -> None:
    age_keys._derived.clear()  # the backup's own proof left its key here: start from nothing
    derive_ahead(sealed, PASSPHRASE)
    assert len(age_keys._derived) == 1
    (started,) = age_keys._derived.values()
    info, _described = verify_protected(settings, sealed, passphrase=PASSPHRASE)
    assert info.name == "sealed"
    assert list(age_keys._derived.values()) == [started] and started.done()  # the same one, not a second


def test_a_wrong_passphrase_ahead_is_still_refused(settings: Settings, sealed: Path) -> None:
    from mftui.protection import WrongKey

    derive_ahead(sealed, b"not the passphrase")
    with pytest.raises(WrongKey, match="passphrase is wrong"):
        verify_protected(settings, sealed, passphrase=b"not the passphrase")


def test_a_work_factor_unwrap_refuses_starts_nothing() -> None:
    age_keys._derived.clear()
    greedy = age.Stanza("scrypt", (age.b64encode(os.urandom(16)), "22"), os.urandom(32))  # 4 GiB of memory
    ScryptIdentity(PASSPHRASE).derive_ahead([greedy])
    malformed = age.Stanza("scrypt", ("not-base64!", "15"), os.urandom(32))
    ScryptIdentity(PASSPHRASE).derive_ahead([malformed])
    assert age_keys._derived == {}
    with pytest.raises(age.AgeError, match="work factor of 2\\^22"):
        ScryptIdentity(PASSPHRASE).unwrap([greedy])


def test_anything_but_a_passphrase_backup_starts_nothing(settings: Settings, tmp_path: Path) -> None:
    """A plain backup, a damaged file, a missing one: nothing started, nothing raised (the opening says why)."""
    age_keys._derived.clear()
    plain = create_backup(settings, "plain", protect=Protector()).path
    junk = tmp_path / "junk.zip"
    junk.write_bytes(b"PK\x05\x06" + b"\x00" * 18)
    for path in (plain, junk, tmp_path / "missing.zip"):
        derive_ahead(path, PASSPHRASE)
    assert age_keys._derived == {}
