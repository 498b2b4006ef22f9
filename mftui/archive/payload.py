"""Opening a protected backup's payload: the plain format-v1 backup, into a partial file beside the backups.

The payload is read from the container (protected.py) 1 MiB at a time,
hashed against the SHA-256 its public backup.json pins, decrypted by age
chunk by chunk (each chunk authenticated before it is written), and written
to ``.partial-<pid>-<random>.zip`` (mode 0600; removed afterwards, or by the
next backup when a crash left it). The plain backup is then checked like
any (validate.py), and its backup.json must say what the public one says.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import BinaryIO

from ..errors import ArchiveError
from . import age
from .background import Background
from .format import BackupInfo
from .protected import ProtectedBackup
from .writer import OUT_BUFFER, PARTIAL_PREFIX

READ = 1024 * 1024
NOT_PINNED = ("the backup's payload does not match the SHA-256 its backup.json pins (it was altered, damaged, or "
               "swapped in from another backup); use another copy")


class _Slice:
    """The payload's bytes of the container file, hashed (on a thread) as they are read."""

    def __init__(self, fh: BinaryIO, size: int) -> None:
        self.fh = fh
        self.left = size
        self.sha = hashlib.sha256()
        self.hasher = Background(self.sha.update, size=READ // 16)

    def read(self, n: int = -1) -> bytes:
        n = self.left if n < 0 else min(n, self.left)
        data = self.fh.read(n)
        self.left -= len(data)
        self.hasher.put(data)
        return data

    def hexdigest(self) -> str:
        self.hasher.close()
        return self.sha.hexdigest()

    def __enter__(self) -> _Slice:
        return self

    def __exit__(self, *exc: object) -> None:
        try:
            self.hasher.close()  # its thread ends, whatever happened
        except BaseException:
            if exc[0] is None:
                raise


class _Writer:
    """Writes the plain backup 1 MiB at a time on a thread of its own."""

    def __init__(self, fd: int) -> None:
        self.fd = fd
        self.parts: list[bytes] = []
        self.size = 0
        self.writer = Background(self._write_all, size=OUT_BUFFER)

    def _write_all(self, data: bytes) -> None:
        view = memoryview(data)
        while view:
            view = view[os.write(self.fd, view) :]

    def write(self, data: bytes) -> None:
        self.parts.append(data)
        self.size += len(data)
        if self.size >= OUT_BUFFER:
            self.writer.put(b"".join(self.parts))
            self.parts, self.size = [], 0

    def __enter__(self) -> _Writer:
        return self

    def __exit__(self, *exc: object) -> None:
        try:
            if self.parts and exc[0] is None:
                self.writer.put(b"".join(self.parts))
            self.writer.close()
        finally:
            os.close(self.fd)


def _plain_chunks(backup: ProtectedBackup, src: _Slice, identities: Sequence[age.Identity]) -> Iterator[bytes]:
    if not backup.protection.encrypted:
        while data := src.read(READ):
            yield data
        return
    yield from age.decrypt(src, identities, size=backup.protection.payload_size)  # type: ignore[arg-type]


def open_payload(backup: ProtectedBackup, identities: Sequence[age.Identity], dest_dir: Path) -> Path:
    """The plain backup inside, as a new partial file in ``dest_dir``; ArchiveError (or NoMatchingKey) otherwise."""
    dest_dir.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=f"{PARTIAL_PREFIX}{os.getpid()}-", suffix=".zip", dir=dest_dir)
    path = Path(name)
    try:
        with open(backup.path, "rb") as fh, _Writer(fd) as out, _Slice(fh, backup.protection.payload_size) as src:
            fh.seek(backup.payload_offset)
            try:
                for chunk in _plain_chunks(backup, src, identities):
                    out.write(chunk)
            except age.AgeError:
                while src.read(READ):  # damaged, or altered? the SHA-256 backup.json pins tells
                    pass
                if src.hexdigest() == backup.protection.payload_sha256:
                    raise
            if src.left or src.hexdigest() != backup.protection.payload_sha256:
                raise ArchiveError(NOT_PINNED)
    except BaseException as exc:
        path.unlink(missing_ok=True)
        if isinstance(exc, OSError):
            raise ArchiveError(f"the payload could not be written to {dest_dir} ({exc.strerror or exc})") from None
        raise
    return path


def check_payload_hash(backup: ProtectedBackup) -> None:
    """Without a key: the payload's bytes are those backup.json pins (size and SHA-256)."""
    try:
        with open(backup.path, "rb") as fh, _Slice(fh, backup.protection.payload_size) as src:
            fh.seek(backup.payload_offset)
            while src.read(READ):
                pass
            if src.left or src.hexdigest() != backup.protection.payload_sha256:
                raise ArchiveError(NOT_PINNED)
    except OSError as exc:
        raise ArchiveError(f"the backup cannot be read ({exc.strerror or exc})") from None


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
