"""Opening a protected backup's payload: the plain format-v1 backup, into a partial file beside the backups.

The payload is read from the container (protected.py) through
payload_source.py: decrypted by age chunk by chunk (each chunk authenticated
before it is written), hashed meanwhile against the SHA-256 its public
backup.json pins, and written to a file without a name (O_TMPFILE, read
through /proc/self/fd; gone with the process), or where the filesystem has
none, to ``.partial-<pid>-<random>.zip`` (mode 0600; removed afterwards, or
by the next backup when a crash left it). The plain backup is then checked like
any (validate.py), and its backup.json must say what the public one says.
"""

from __future__ import annotations

import errno
import os
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from ..errors import ArchiveError
from . import age
from .format import BackupInfo
from .partials import partial_prefix
from .payload_source import NOT_PINNED, PayloadHash, PayloadSource
from .protected import ProtectedBackup
from .writer import OUT_BUFFER

READ = 1024 * 1024


@dataclass(frozen=True)
class OpenedPayload:
    """The plain backup a payload was opened into: ``path`` to read it by; ``fd`` when the file has no name
    (``path`` is /proc/self/fd/N, and closing ``fd`` removes the file), None when it is a partial file."""

    path: Path
    fd: int | None

    def close(self) -> None:
        if self.fd is None:
            self.path.unlink(missing_ok=True)
        else:
            os.close(self.fd)


def open_payload(backup: ProtectedBackup, identities: Sequence[age.Identity], dest_dir: Path) -> OpenedPayload:
    """The plain backup inside, in a new file in ``dest_dir``; ArchiveError (or NoMatchingKey) otherwise.

    The file has no name where the filesystem allows it (O_TMPFILE): it holds every secret of the unit, and
    goes with the process whatever happens, read meanwhile through /proc/self/fd. Elsewhere (a FAT stick) it
    is a partial file, removed at close or by the next backup.
    """
    dest_dir.mkdir(parents=True, exist_ok=True)
    with PayloadSource(backup, identities) as source, source.checked():
        opened, write_fd = _new_file(dest_dir)
        try:
            with os.fdopen(write_fd, "wb", buffering=0) as out:
                offset = 0
                while offset < source.size:
                    data = source.pread(OUT_BUFFER, offset)
                    out.write(data)  # unbuffered FileIO: writes it all, or raises
                    offset += len(data)
            source.finish()  # the SHA-256 backup.json pins, computed meanwhile on another core
        except BaseException as exc:
            opened.close()
            if isinstance(exc, OSError):
                raise ArchiveError(f"the payload could not be written to {dest_dir} "
                                   f"({exc.strerror or exc})") from None
            raise
    return opened


def _new_file(dest_dir: Path) -> tuple[OpenedPayload, int]:
    """A file without a name in ``dest_dir`` (mode 0600), else a partial file; and a descriptor to write it."""
    if hasattr(os, "O_TMPFILE") and os.path.isdir("/proc/self/fd"):
        try:
            fd = os.open(dest_dir, os.O_TMPFILE | os.O_RDWR | os.O_CLOEXEC, 0o600)
        except OSError as exc:
            if exc.errno not in (errno.EOPNOTSUPP, errno.EISDIR, errno.EINVAL):
                raise ArchiveError(f"the payload could not be written to {dest_dir} ({exc.strerror})") from None
        else:
            return OpenedPayload(Path(f"/proc/self/fd/{fd}"), fd), os.dup(fd)
    try:
        fd, name = tempfile.mkstemp(prefix=partial_prefix(), suffix=".zip", dir=dest_dir)
    except OSError as exc:
        raise ArchiveError(f"the payload could not be written to {dest_dir} ({exc.strerror})") from None
    return OpenedPayload(Path(name), None), fd


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
