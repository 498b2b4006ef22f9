"""Filesystem primitives of the restore transaction: exchange, sync, identify, remove."""

from __future__ import annotations

import ctypes
import errno
import os
import shutil
import stat
import subprocess
import threading
from pathlib import Path

from ..errors import RestoreError
from ..mounts import unescape

_AT_FDCWD = -100
_RENAME_EXCHANGE = 2
# Errors that mean "this kernel or filesystem cannot exchange": fall back to two renames.
_NO_EXCHANGE = {errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP, errno.ENOTSUP}

_libc: ctypes.CDLL | None
try:
    _libc = ctypes.CDLL(None, use_errno=True)
except OSError:  # pragma: no cover - no C library to load
    _libc = None


# Test seam: True makes exchange() behave as on a filesystem without RENAME_EXCHANGE.
force_renames = False


class ExchangeUnsupported(Exception):
    """The kernel or filesystem has no RENAME_EXCHANGE; use the journalled pair of renames."""


def exchange(a: Path, b: Path) -> None:
    """Atomically swap two directory entries (``renameat2(RENAME_EXCHANGE)``).

    Raises ExchangeUnsupported when the kernel, the C library or the
    filesystem cannot, and OSError for a real failure.
    """
    func = getattr(_libc, "renameat2", None) if _libc is not None else None
    if func is None or force_renames:
        raise ExchangeUnsupported
    func.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    func.restype = ctypes.c_int
    if func(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE) == 0:
        return
    err = ctypes.get_errno()
    if err in _NO_EXCHANGE:
        raise ExchangeUnsupported
    raise OSError(err, os.strerror(err), str(a), None, str(b))


def sync_filesystem(path: Path) -> None:
    """Flush every dirty page of the filesystem holding ``path``, once.

    One ``syncfs`` replaces an ``fsync`` per staged file: the journal that
    makes staging matter is written only after it returns. Falls back to
    ``sync()`` where there is no ``syncfs``.
    """
    func = getattr(_libc, "syncfs", None) if _libc is not None else None
    if func is None:
        os.sync()
        return
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        if func(fd) != 0:
            err = ctypes.get_errno()
            raise OSError(err, os.strerror(err), str(path))
    finally:
        os.close(fd)


def identity(path: Path) -> tuple[int, int] | None:
    """(device, inode) of a directory entry without following links; None when absent.

    Trees are recognised by inode across renames, crashes and reboots: the
    journal names each tree by identity, not by where it was.
    """
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return None
    return st.st_dev, st.st_ino


def remove_tree(path: Path) -> None:
    """Remove a folder we made (staging, a discarded previous tree); quiet if absent."""
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return
    if not stat.S_ISDIR(st.st_mode):
        os.unlink(path)
        return
    # Read-only folders inside (copied modes) would stop rmtree: open them up first.
    for dirpath, dirnames, _files in os.walk(path):
        for name in dirnames:
            full = os.path.join(dirpath, name)
            try:
                if not os.path.islink(full):
                    os.chmod(full, 0o700)
            except OSError:
                pass
    try:
        os.chmod(path, 0o700)
    except OSError:
        pass
    shutil.rmtree(path)


def is_mount_point(path: Path) -> bool:
    """Whether ``path`` is a mount point (a folder that cannot be renamed)."""
    try:
        if os.path.ismount(path):
            return True
    except OSError:
        return False
    # Bind mounts of the same device escape ismount(); /proc knows them.
    real = os.path.realpath(path)
    try:
        with open("/proc/self/mountinfo", encoding="utf-8", errors="replace") as fh:
            for line in fh:
                fields = line.split()
                if len(fields) > 4 and unescape(fields[4]) == real:
                    return True
    except OSError:
        pass
    return False


def mounts_under(path: Path) -> list[str]:
    """Mount points strictly inside ``path`` (partitions, bind mounts, tmpfs), from /proc/self/mountinfo."""
    top = os.path.realpath(path).rstrip("/") + "/"
    found = []
    try:
        with open("/proc/self/mountinfo", encoding="utf-8", errors="replace") as fh:
            for line in fh:
                fields = line.split()
                if len(fields) > 4:
                    point = unescape(fields[4])
                    if point.startswith(top):
                        found.append(point)
    except OSError:
        pass
    return sorted(set(found))


# --- trees of ours: size, space, removal -------------------------------------------


def tree_bytes(top: Path) -> int:
    """Bytes in the files of a tree (not following links)."""
    total = 0
    for dirpath, _dirs, files in os.walk(top):
        for name in files:
            try:
                total += os.lstat(os.path.join(dirpath, name)).st_size
            except OSError:
                pass
    return total


def remove_in_background(path: Path) -> None:
    """Remove a tree of ours without waiting: a detached ``rm -rf``, or a thread without one."""
    rm = shutil.which("rm")
    if rm is not None:
        try:
            subprocess.Popen(
                [rm, "-rf", "--", str(path)],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                start_new_session=True,  # survives us, and a Ctrl+C on the terminal
            )
            return
        except OSError:
            pass
    threading.Thread(target=remove_quietly, args=(path,), name="mftui-remove", daemon=True).start()


def free_bytes(path: Path) -> int:
    st = os.statvfs(path)
    return st.f_bavail * st.f_frsize


def must_identity(path: Path) -> tuple[int, int]:
    found = identity(path)
    if found is None:
        raise RestoreError(f"{path} vanished during the restore; nothing was changed")
    return found


def empty_dir(path: Path) -> bool:
    try:
        return path.is_dir() and not path.is_symlink() and not any(os.scandir(path))
    except OSError:
        return False


def remove_quietly(path: Path) -> None:
    try:
        remove_tree(path)
    except OSError:
        pass  # recovery removes leftovers at the next start
