"""Getting a backup off the box: an ``scp`` line, and a verified copy to a folder (a USB stick).

Used by the TUI's Download Zip (from a worker thread) and by ``mftui copy``.
"""

from __future__ import annotations

import errno
import getpass
import os
import shlex
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from ..digest import sha256_of
from ..durable import fsync_path
from ..errors import CopyError
from ..text import show_path

CHUNK = 1024 * 1024


@dataclass(frozen=True)
class CopyResult:
    """A copy that was read back and matches the original."""

    path: Path
    size: int
    sha256: str
    already_there: bool = False  # an identical copy was there before


def scp_line(archive: Path, environ: Mapping[str, str] | None = None, user: str | None = None) -> str | None:
    """A ready-to-paste ``scp`` command for the technician's own computer, or None.

    Only an SSH session says which address reached this box: the third field
    of ``SSH_CONNECTION`` ("client-ip client-port server-ip server-port").
    """
    env = os.environ if environ is None else environ
    fields = env.get("SSH_CONNECTION", "").split()
    if len(fields) < 3:
        return None
    host = fields[2]
    if ":" in host:  # IPv6: scp needs brackets
        host = f"[{host.split('%', 1)[0]}]"
    if user is None:
        try:
            user = getpass.getuser()
        except (KeyError, OSError):
            user = ""
    who = f"{user}@" if user else ""
    return f"scp {shlex.quote(f'{who}{host}:{archive}')} ."


def copy_verified(source: Path, folder: Path, expected_sha256: str | None = None) -> CopyResult:
    """Copy ``source`` into ``folder`` and prove the copy matches, byte for byte.

    The copy goes to a temporary name in the folder, is fsync'ed, read back
    (size and SHA-256 against the original), and only then renamed into
    place: a USB stick pulled half-way never holds a file with the backup's name.
    """
    folder = Path(os.path.expanduser(str(folder)))
    _check_folder(folder)
    original = expected_sha256 or _read_source_sha(source)
    size = source.stat().st_size
    final = folder / source.name
    if final.exists():
        if final.is_file() and final.stat().st_size == size and _sha256(final) == original:
            return CopyResult(final, size, original, already_there=True)
        raise CopyError(f"{show_path(final)} already exists and is a different file; choose another folder or "
                        "remove it")
    try:
        fd, tmp_name = tempfile.mkstemp(prefix=".partial-", suffix=".zip", dir=folder)
    except OSError as exc:
        raise CopyError(_reason(exc, folder)) from None
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as out, source.open("rb") as src:
            while chunk := src.read(CHUNK):
                out.write(chunk)
            out.flush()
            os.fsync(out.fileno())
            _drop_cache(out.fileno())  # read back from the device, not from memory
        copied_size = tmp.stat().st_size
        copied_sha = _sha256(tmp)
        if copied_size != size or copied_sha != original:
            raise CopyError(
                f"the copy in {show_path(folder)} does not match the original (size or checksum differ); "
                "the medium may be faulty: the copy was removed, try another one"
            )
        os.rename(tmp, final)
        fsync_path(folder, best_effort=True)
    except OSError as exc:
        raise CopyError(_reason(exc, folder)) from None
    finally:
        tmp.unlink(missing_ok=True)
    return CopyResult(final, size, original)


def _read_source_sha(source: Path) -> str:
    digest = sha256_of(source)
    if digest is None:
        raise CopyError(f"the backup {show_path(source)} cannot be read; check it is still there and readable")
    return digest


def _sha256(copy: Path) -> str:
    """The copy's SHA-256, read back; a copy that cannot be read back is no copy."""
    digest = sha256_of(copy)
    if digest is None:
        raise OSError(f"{copy} cannot be read back")
    return digest


def _check_folder(folder: Path) -> None:
    if not str(folder).strip():
        raise CopyError("type the folder to copy to, e.g. /media/usb")
    if not folder.exists():
        raise CopyError(f"the folder {show_path(folder)} does not exist; is the USB stick plugged in and mounted?")
    if not folder.is_dir():
        raise CopyError(f"{show_path(folder)} is not a folder; type the folder to copy into")
    if not os.access(folder, os.W_OK | os.X_OK):
        if os.statvfs(folder).f_flag & os.ST_RDONLY:
            raise CopyError(_reason(OSError(errno.EROFS, os.strerror(errno.EROFS)), folder))
        raise CopyError(f"the folder {show_path(folder)} cannot be written (read-only or permission denied)")


def _reason(exc: OSError, folder: Path) -> str:
    if exc.errno == errno.ENOSPC:
        return f"the folder {show_path(folder)} is full; free some space or use a bigger medium"
    if exc.errno == errno.EROFS:
        return (f"the folder {show_path(folder)} is on a read-only medium; check the USB stick's lock switch or "
                "mount it read-write")
    if exc.errno in (errno.EACCES, errno.EPERM):
        return f"the folder {show_path(folder)} cannot be written (permission denied)"
    return f"the copy to {show_path(folder)} failed ({exc.strerror or exc}); the original backup is untouched"


def _drop_cache(fd: int) -> None:
    try:
        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
    except (AttributeError, OSError):
        pass  # best effort: not every platform or filesystem supports it
