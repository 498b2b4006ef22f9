"""Opening a protected backup's payload: the plain format-v1 backup, into a partial file beside the backups.

The payload is read from the container (protected.py) through
payload_source.py: decrypted by age chunk by chunk (each chunk authenticated
before it is written), hashed meanwhile against the SHA-256 its public
backup.json pins, and written to ``.partial-<pid>-<random>.zip`` (mode 0600; removed afterwards, or by the
next backup when a crash left it). The plain backup is then checked like
any (validate.py), and its backup.json must say what the public one says.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Sequence
from pathlib import Path

from ..errors import ArchiveError
from . import age
from .format import BackupInfo
from .payload_source import NOT_PINNED, PayloadHash, PayloadSource
from .protected import ProtectedBackup
from .writer import OUT_BUFFER, PARTIAL_PREFIX

READ = 1024 * 1024


def open_payload(backup: ProtectedBackup, identities: Sequence[age.Identity], dest_dir: Path) -> Path:
    """The plain backup inside, as a new partial file in ``dest_dir``; ArchiveError (or NoMatchingKey) otherwise."""
    dest_dir.mkdir(parents=True, exist_ok=True)
    with PayloadSource(backup, identities) as source, source.checked():
        fd, name = tempfile.mkstemp(prefix=f"{PARTIAL_PREFIX}{os.getpid()}-", suffix=".zip", dir=dest_dir)
        path = Path(name)
        try:
            with os.fdopen(fd, "wb", buffering=0) as out:
                offset = 0
                while offset < source.size:
                    data = source.pread(OUT_BUFFER, offset)
                    out.write(data)  # unbuffered FileIO: writes it all, or raises
                    offset += len(data)
            source.finish()  # the SHA-256 backup.json pins, computed meanwhile on another core
        except BaseException as exc:
            path.unlink(missing_ok=True)
            if isinstance(exc, OSError):
                raise ArchiveError(f"the payload could not be written to {dest_dir} "
                                   f"({exc.strerror or exc})") from None
            raise
    return path


def check_payload_hash(backup: ProtectedBackup) -> None:
    """Without a key: the payload's bytes are those backup.json pins (size and SHA-256)."""
    try:
        with open(backup.path, "rb") as fh:
            digest = PayloadHash(fh.fileno(), backup.payload_offset, backup.protection.payload_size).result()
    except OSError as exc:
        raise ArchiveError(f"the backup cannot be read ({exc.strerror or exc})") from None
    if digest != backup.protection.payload_sha256:
        raise ArchiveError(NOT_PINNED)


_SAME = ("name", "created_at", "kind", "tool_version", "product", "product_version", "instance_id", "hostname")


def check_agreement(public: BackupInfo, inner: BackupInfo) -> None:
    """The public information must be the encrypted manifest's, or the backup is refused."""
    differ = [key for key in _SAME if getattr(public, key) != getattr(inner, key)]
    if public.components != inner.components:
        differ.append("components")
    if len(public.files) != len(inner.files) or public.total_bytes != inner.total_bytes:
        differ.append("totals")
    if inner.format_version != 1:
        differ.append("format_version")
    if differ:
        raise ArchiveError(f"the backup's public information disagrees with its encrypted manifest "
                           f"({', '.join(differ)}): it was altered; use another copy")
