"""Pinned backups: a pinned backup is never pruned.

Kept in the state folder as ``pins.json`` (``{"pinned": [archive file names]}``),
replaced atomically through state.replace_file; changes are made under a small
lock of their own (``pins.lock``), so a pin never waits for a backup or restore.
"""

from __future__ import annotations

import fcntl
import json
import os
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from ..errors import StateError, UsageError
from ..settings import Settings
from ..state import checked_state_dir, open_file, read_small, replace_file
from ..text import show, show_path
from .audit import record

PINS_NAME = "pins.json"
LOCK_NAME = "pins.lock"
LIMIT = 4 << 20  # 4 MiB: far more names than any backups folder holds


def check_name(settings: Settings, name: str) -> Path:
    """The path of backup ``name`` in the backups folder; UsageError for a path, ``..``, a link or a non-backup."""
    if not name or "/" in name or "\0" in name or name in (".", "..") or name.startswith("."):
        raise UsageError(f"{show(name)!r} is not the file name of a backup in {show_path(settings.backups_dir)}; "
                         "give a name as `mftui list` shows it, without a folder")
    path = settings.backups_dir / name
    if not name.lower().endswith(".zip"):
        raise UsageError(f"{show(name)!r} is not a backup (a backup's file name ends in .zip); see `mftui list`")
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        raise UsageError(f"there is no backup {show(name)!r} in {show_path(settings.backups_dir)}; "
                         "see `mftui list`") from None
    except OSError as exc:
        raise UsageError(f"the backup {show(name)!r} cannot be looked at ({exc.strerror})") from None
    if not stat.S_ISREG(st.st_mode):
        raise UsageError(f"{show(name)!r} in {show_path(settings.backups_dir)} is not a plain file (a link or a "
                         "folder), so it is not a backup mftui made; leave it, or remove it yourself")
    return path


def pinned(settings: Settings) -> frozenset[str]:
    """The file names of the pinned backups (StateError when the pins file is damaged)."""
    state = checked_state_dir(settings, create=False)
    if state is None:
        return frozenset()
    return frozenset(_read(state))


def set_pin(settings: Settings, name: str, pin: bool) -> None:
    """Pin (``pin=True``) or unpin a backup by file name; pinning needs the backup to be there.

    Unpinning a name that is no longer there is allowed (it tidies the list).
    Recorded in the audit log as pin or unpin.
    """
    if pin:
        path = check_name(settings, name)
    else:
        path = settings.backups_dir / name
    state = checked_state_dir(settings, create=True)
    assert state is not None  # create=True
    with _pins_lock(state):
        names = set(_read(state))
        if (name in names) == pin:
            return  # already so: nothing to write, nothing to record
        names.symmetric_difference_update({name})
        data = json.dumps({"pinned": sorted(names)}, indent=1, ensure_ascii=True) + "\n"
        try:
            replace_file(state, PINS_NAME, data.encode())
        except OSError as exc:
            raise StateError(f"cannot save the pins in {show_path(state)} ({exc.strerror}); nothing was "
                             "changed") from None
    record(settings, "pin" if pin else "unpin", "ok", archive=path)


def _read(state: Path) -> list[str]:
    try:
        raw = read_small(state, PINS_NAME, LIMIT)
    except (ValueError, OSError) as exc:
        raise StateError(f"the pins file {show_path(state / PINS_NAME)} cannot be read ({exc}); nothing is pruned "
                         "until it is fixed: remove it and pin the backups again") from None
    if raw is None:
        return []
    try:
        data = json.loads(raw)
        names = data["pinned"]
        if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
            raise ValueError("pinned is not a list of names")
    except (ValueError, KeyError, TypeError, UnicodeDecodeError):
        raise StateError(f"the pins file {show_path(state / PINS_NAME)} is damaged; nothing is pruned until it is "
                         "fixed: remove it and pin the backups again") from None
    return names


@contextmanager
def _pins_lock(state: Path) -> Iterator[None]:
    fd = open_file(state, LOCK_NAME, os.O_RDWR | os.O_CREAT)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)  # short: one read and one replace
        yield
    finally:
        os.close(fd)
