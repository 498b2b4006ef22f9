"""Extract a checked archive into a fresh staging directory (phase one of a restore).

Every file is created with ``O_CREAT | O_EXCL | O_NOFOLLOW`` inside folders
this module made itself, so nothing can be written through a link or over an
existing file. Size, CRC and SHA-256 are checked as the bytes are written
(by :meth:`Archive.chunks`); the first problem stops the extraction and the
caller removes the staging directory.

Modes come from the manifest (permission bits only: never setuid, setgid or
sticky). Folders take the mode, and when running as root the owner, of the
same folder in the live instance, or of its nearest existing parent; files
take the owner of the live file they replace, or of their live folder. A
restore must not leave the product unable to read or write its own
configuration.

Durability is the caller's job: one ``syncfs`` after staging, instead of an
``fsync`` per file (the restore journal is written only after it).
"""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Callable
from pathlib import Path

from ..errors import RestoreError
from ..progress import Progress, no_progress
from .validate import Archive

# Test seam: when set, called with a description ("mkdir hub", "open hub/hub.json",
# "write hub/hub.json", "chmod ...") before each write to staging; it may raise
# OSError to simulate ENOSPC or EIO at exactly that point.
fault_hook: Callable[[str], None] | None = None

_AS_ROOT = os.geteuid() == 0 if hasattr(os, "geteuid") else False


def _fault(what: str) -> None:
    if fault_hook is not None:
        fault_hook(what)


class _Owners:
    """Mode and owner to give staged folders and files, looked up in the live tree."""

    def __init__(self, live_root: Path) -> None:
        self.live_root = live_root
        self._dirs: dict[str, tuple[int, int, int]] = {}
        root = os.stat(live_root)
        self._root = (stat.S_IMODE(root.st_mode) & 0o777, root.st_uid, root.st_gid)

    def folder(self, rel: str) -> tuple[int, int, int]:
        """(mode, uid, gid) of the live folder at ``rel``, or of its nearest live parent."""
        if rel == "":
            return self._root
        if rel not in self._dirs:
            try:
                st = os.lstat(self.live_root / rel)
                found = stat.S_ISDIR(st.st_mode)
            except OSError:
                found = False
            if found:
                self._dirs[rel] = (stat.S_IMODE(st.st_mode) & 0o777, st.st_uid, st.st_gid)
            else:
                self._dirs[rel] = self.folder(os.path.dirname(rel))
        return self._dirs[rel]

    def file_owner(self, rel: str) -> tuple[int, int]:
        try:
            st = os.lstat(self.live_root / rel)
            if stat.S_ISREG(st.st_mode):
                return st.st_uid, st.st_gid
        except OSError:
            pass
        _mode, uid, gid = self.folder(os.path.dirname(rel))
        return uid, gid


def stage(archive: Archive, staging: Path, live_root: Path, progress: Progress = no_progress) -> None:
    """Write every entry of ``archive`` under the empty directory ``staging``.

    Raises ArchiveError for a bad entry and RestoreError for a write that
    fails (disk full, I/O error); either way the caller removes staging.
    """
    owners = _Owners(live_root)
    made: list[str] = []  # folders created, to get their final modes at the end
    made_set: set[str] = {""}
    total = archive.total_bytes
    done = 0
    for member, entry in archive.entries():
        rel = entry.path
        parent = os.path.dirname(rel)
        _make_parents(staging, parent, made, made_set)
        progress(done, total, rel)
        target = staging / rel
        try:
            _fault(f"open {rel}")
            fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
        except OSError as exc:
            raise _write_error(exc, rel) from None
        try:
            for chunk in archive.chunks(member, entry):
                _write_all(fd, chunk, rel)
                done += len(chunk)
                progress(done, total, rel)
            try:
                _fault(f"chmod {rel}")
                os.fchmod(fd, entry.mode & 0o777)
                if _AS_ROOT:
                    uid, gid = owners.file_owner(rel)
                    _fault(f"chown {rel}")
                    os.fchown(fd, uid, gid)
            except OSError as exc:
                raise _write_error(exc, rel) from None
        finally:
            os.close(fd)
    # Folder modes last: a read-only live folder must not stop us filling its copy.
    for rel in [*made, ""]:
        mode, uid, gid = owners.folder(rel)
        path = staging / rel if rel else staging
        try:
            _fault(f"chmod {rel or '.'}/")
            if _AS_ROOT:
                os.chown(path, uid, gid, follow_symlinks=False)
            os.chmod(path, mode, follow_symlinks=False)
        except OSError as exc:
            raise _write_error(exc, rel or ".") from None
    progress(total, total, "staged")


def _make_parents(staging: Path, parent: str, made: list[str], made_set: set[str]) -> None:
    if parent in made_set:
        return
    _make_parents(staging, os.path.dirname(parent), made, made_set)
    try:
        _fault(f"mkdir {parent}")
        os.mkdir(staging / parent, 0o700)
    except OSError as exc:
        raise _write_error(exc, parent + "/") from None
    made.append(parent)
    made_set.add(parent)


def _write_all(fd: int, data: bytes, rel: str) -> None:
    view = memoryview(data)
    while view:
        try:
            _fault(f"write {rel}")
            written = os.write(fd, view)
        except OSError as exc:
            raise _write_error(exc, rel) from None
        view = view[written:]


def _write_error(exc: OSError, rel: str) -> RestoreError:
    """A technician's sentence for a failed write while staging; the live configuration is untouched."""
    unchanged = "nothing was changed: the live configuration is as it was"
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return RestoreError(
            f"the disk holding the instance is full (while writing {rel}); free some space "
            f"(old backups, logs) and try again; {unchanged}"
        )
    if exc.errno == errno.EIO:
        return RestoreError(
            f"the disk reported an I/O error while writing {rel}; the storage may be failing; {unchanged}"
        )
    if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return RestoreError(f"cannot write {rel} while staging the restore ({exc.strerror}); {unchanged}")
    return RestoreError(f"writing {rel} while staging the restore failed ({exc.strerror or exc}); {unchanged}")
