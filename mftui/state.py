"""The state folder: where mftui keeps the lock, the restore journal, staging and the previous configuration.

It is trusted only if mftui made it, because a restore installs what it
finds there as root: a real folder (not a link), owned by the effective
user, that no other user can change (mode 0700; an older mftui's 0755 is
tightened), in a parent folder where no other user can rename it away
(owned by us or root, and not writable by others unless sticky, like /tmp).
Every file in it is opened with ``O_NOFOLLOW``, through :func:`open_file`.

Checked on every use, from an open descriptor (``O_NOFOLLOW|O_DIRECTORY``
then ``fstat``), so a link swapped in after a look is never followed.
"""

from __future__ import annotations

import errno
import os
import pwd
import stat
from pathlib import Path

from .durable import fsync_path
from .errors import StateError
from .settings import Settings
from .text import show_path

# What a state folder may be: ours, and changeable by nobody else.
PRIVATE = 0o700


def checked_state_dir(settings: Settings, *, create: bool) -> Path | None:
    """The instance's state folder, checked; None when it does not exist and ``create`` is false.

    Raises StateError, one sentence saying what is wrong and what to do,
    for a folder mftui did not make or a place it cannot be made.
    """
    state = settings.state_dir
    if not create and not os.path.lexists(state):
        return None  # nothing kept yet (a fresh unit): nothing to check
    _check_parent(state.parent)
    if create:
        try:
            os.mkdir(state, PRIVATE)
        except FileExistsError:
            pass
        except OSError as exc:
            raise StateError(
                f"cannot create the state folder {show_path(state)} ({exc.strerror}), where mftui keeps its lock "
                "and the restore journal; run mftui as the user that owns the instance, or set [instance] state_dir "
                "to a folder on the same disk"
            ) from None
    try:
        fd = os.open(state, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC)
    except FileNotFoundError:
        if create:  # removed between the mkdir and the open: someone is playing with it
            raise StateError(f"the state folder {show_path(state)} vanished as it was made; start mftui again") \
                from None
        return None
    except OSError as exc:
        raise _not_a_folder(state, exc) from None
    try:
        _check_ours(state, fd)
    finally:
        os.close(fd)
    return state


def _check_ours(state: Path, fd: int) -> None:
    """The open state folder is ours and nobody else can change it; too open but ours: made private."""
    st = os.fstat(fd)
    if st.st_uid != os.geteuid():
        raise StateError(
            f"the state folder {show_path(state)} belongs to {_user(st.st_uid)}, not to the user running mftui "
            f"({_user(os.geteuid())}); mftui did not make it, so it does not trust what is in it. Check who made "
            "it and remove it, then start mftui again"
        )
    mode = stat.S_IMODE(st.st_mode)
    if mode & 0o022:
        raise StateError(
            f"the state folder {show_path(state)} can be changed by other users (mode {mode:04o}); mftui keeps "
            "it private (0700) because a restore installs what is in it. Check it has not been tampered with "
            "and remove it, then start mftui again"
        )
    if mode != PRIVATE:
        os.fchmod(fd, PRIVATE)  # ours, and nobody else could write in it: only too open (an older mftui's umask)


def open_file(state: Path, name: str, flags: int, mode: int = 0o600) -> int:
    """Open a file directly in the (checked) state folder, never through a link.

    Raises StateError when the name is a link or not a regular file, and
    OSError for the rest (the caller words it).
    """
    path = state / name
    try:
        fd = os.open(path, flags | os.O_NOFOLLOW | os.O_CLOEXEC | os.O_NONBLOCK, mode)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise StateError(
                f"{show_path(path)} is a symbolic link; mftui never follows links in its state folder. Remove it "
                "(and check who put it there), then start mftui again"
            ) from None
        raise
    st = os.fstat(fd)
    if not stat.S_ISREG(st.st_mode) or st.st_uid != os.geteuid():
        os.close(fd)
        raise StateError(
            f"{show_path(path)} is not a plain file of mftui's; remove it (and check who put it there), then start "
            "mftui again"
        )
    os.set_blocking(fd, True)
    return fd


def _check_parent(parent: Path) -> None:
    """Refuse a parent folder where another user could rename the state folder away and put theirs."""
    try:
        st = os.stat(parent)
    except OSError as exc:
        raise StateError(
            f"the folder {show_path(parent)}, which holds mftui's state folder, cannot be used ({exc.strerror}); "
            "check [instance] root (or [instance] state_dir)"
        ) from None
    others_write = st.st_mode & 0o022 and not st.st_mode & stat.S_ISVTX
    if st.st_uid not in (0, os.geteuid()) or others_write:
        raise StateError(
            f"other users can rename what is in {show_path(parent)} (owner {_user(st.st_uid)}, mode "
            f"{stat.S_IMODE(st.st_mode):04o}), so they could swap mftui's state folder for their own; set "
            "[instance] state_dir to a folder on the same disk that only you can write in, or make "
            f"{show_path(parent)} writable only by its owner"
        )


def _not_a_folder(state: Path, exc: OSError) -> StateError:
    # O_NOFOLLOW|O_DIRECTORY on a link fails with ENOTDIR or ELOOP, depending on the kernel.
    if exc.errno in (errno.ELOOP, errno.ENOTDIR) and os.path.islink(state):
        try:
            target = f" (to {show_path(os.readlink(state))})"
        except OSError:
            target = ""
        return StateError(
            f"the state folder {show_path(state)} is a symbolic link{target}; mftui keeps its lock, journal and the "
            "previous configuration only in a real folder it made. Remove the link (and check who made it), then "
            "start mftui again"
        )
    if exc.errno == errno.ENOTDIR:
        return StateError(f"the state folder {show_path(state)} is not a folder; remove it, then start mftui again")
    return StateError(f"the state folder {show_path(state)} cannot be opened ({exc.strerror}); run mftui as the "
                      "user that owns the instance")


def _user(uid: int) -> str:
    try:
        return f"user {pwd.getpwuid(uid).pw_name} ({uid})"
    except KeyError:
        return f"user {uid}"


# --- the small files kept in it: the journal, the trial record, logs --------------------


def read_small(state: Path, name: str, limit: int) -> bytes | None:
    """A small file of the (checked) state folder whole; None when it does not exist.

    Raises ValueError when it is larger than ``limit`` (not a file of ours
    at all), StateError for a link, OSError when it cannot be read.
    """
    try:
        fd = open_file(state, name, os.O_RDONLY)
    except FileNotFoundError:
        return None
    with os.fdopen(fd, "rb") as fh:
        data = fh.read(limit + 1)
    if len(data) > limit:
        raise ValueError(f"{name} is larger than {limit} bytes")
    return data


def replace_file(state: Path, name: str, data: bytes) -> None:
    """Replace a file of the state folder atomically and durably: temporary file, fsync, rename, folder fsync.

    After a power cut it is the old file or the new one, whole.
    """
    tmp = name + ".tmp"
    fd = open_file(state, tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
    try:
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(state / tmp, state / name)
    fsync_path(state)


def append_line(state: Path, name: str, line: str) -> None:
    """Append one line to a log of the state folder, durably.

    One write of one short line to an ``O_APPEND`` file: concurrent writers
    cannot interleave inside a line.
    """
    fd = open_file(state, name, os.O_WRONLY | os.O_CREAT | os.O_APPEND)
    try:
        os.write(fd, line.encode())
        os.fsync(fd)
    finally:
        os.close(fd)
