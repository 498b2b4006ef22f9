"""Every hostile archive, sealed as the payload of an encrypted backup, is refused by ``verify`` with its key.

Anyone with the office's public key can encrypt a payload, so the plain
backup inside an encrypted one is as untrusted as an upload. ``verify``
reads it where it lies (archive/payload_source.py) instead of from a file,
and must refuse each of test_validate_hostile's archives, for the same
reason, as the plain checks do. The public backup.json is made consistent
(it pins the payload's SHA-256 and repeats the hostile manifest's
information, as a forger would), so that a refusal can only be about the planted defect.
"""

from __future__ import annotations

import dataclasses
import hashlib
import io
import json
import re
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest
from hostile import make_backup, read_tree
from test_validate_hostile import CASES
from trees import snapshot

from mftui.archive import age
from mftui.archive.age_keys import X25519Identity
from mftui.archive.format import BackupInfo
from mftui.archive.protected import ENCRYPTED_PAYLOAD, METADATA, Protection, public_json
from mftui.errors import ArchiveError
from mftui.protection import verify_protected
from mftui.settings import Budgets, Settings

Files = dict[str, tuple[bytes, int]]
KEY = X25519Identity.generate()


def _manifest(plain: bytes) -> BackupInfo:
    with zipfile.ZipFile(io.BytesIO(plain)) as zf:
        return BackupInfo.from_json(json.loads(zf.read("backup.json")))


def _public(plain: bytes, files: Files) -> BackupInfo:
    """What the hostile archive's own manifest says, where zipfile and the format read it (so the public
    information agrees with it, as a forger would make it); the good manifest's otherwise."""
    try:
        return _manifest(plain)
    except Exception:  # noqa: BLE001 - any reason the manifest cannot be read: the archive is broken there
        return _manifest(make_backup(files))


def seal(dest: Path, plain: bytes, public: BackupInfo) -> Path:
    """An encrypted backup whose payload is ``plain``, for KEY, with a consistent public backup.json."""
    out = io.BytesIO()
    enc = age.Encryptor(out, [KEY.recipient()])
    enc.write(plain)
    enc.close()
    payload = out.getvalue()
    protection = Protection("recipients", (str(KEY.recipient()),), ENCRYPTED_PAYLOAD, len(payload),
                            hashlib.sha256(payload).hexdigest())
    with zipfile.ZipFile(dest, "w", zipfile.ZIP_STORED) as zf:
        zf.writestr(ENCRYPTED_PAYLOAD, payload)
        zf.writestr(METADATA, public_json(public, protection))
    return dest


@pytest.fixture
def files(settings: Settings) -> Files:
    return read_tree(settings.instance_root)


def test_the_sealed_good_archive_verifies(settings: Settings, files: Files, tmp_path: Path) -> None:
    """Control: without a defect, the sealed hand-laid archive passes verify with the key."""
    plain = make_backup(files)
    info, _described = verify_protected(settings, seal(tmp_path / "good.zip", plain, _manifest(plain)), [KEY])
    assert len(info.files) == len(files)


@pytest.mark.parametrize(("case", "build", "reason", "budgets"), CASES, ids=[c[0] for c in CASES])
def test_a_hostile_payload_is_refused_by_verify(
    settings: Settings, files: Files, tmp_path: Path, case: str, build: Callable[[Files], bytes], reason: str,
    budgets: Budgets | None,
) -> None:
    if budgets is not None:
        settings = dataclasses.replace(settings, budgets=budgets)
    plain = build(files)
    path = seal(tmp_path / f"{case}.zip", plain, _public(plain, files))
    before = snapshot(tmp_path)
    with pytest.raises(ArchiveError) as err:
        verify_protected(settings, path, [KEY])
    message = str(err.value)
    assert re.search(reason, message), message
    assert "\n" not in message and len(message) < 400
    assert snapshot(tmp_path) == before  # verify writes nothing
