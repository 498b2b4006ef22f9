"""One lock per instance, shared by backup and restore and by every mftui.

An advisory ``flock`` on a file in the instance's state folder: the kernel
drops it when the process dies, so a crash never leaves a stale lock behind.
The folder is checked first (mftui.state) and the file opened without
following links: a planted ``lock`` link never makes mftui truncate another file.
"""

from __future__ import annotations

import fcntl
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager

from .errors import LockBusy, StateError
from .settings import Settings
from .state import checked_state_dir, open_file

LOCK_NAME = "lock"


@contextmanager
def instance_lock(settings: Settings, action: str, wait: float = 0.0) -> Iterator[None]:
    """Hold the instance lock for ``action`` ("backup", "restore", "recovery").

    Waits up to ``wait`` seconds, then raises LockBusy naming what holds it.
    Raises StateError when the state folder or the lock file cannot be trusted or used.
    """
    state = checked_state_dir(settings, create=True)
    assert state is not None  # create=True
    try:
        fd = open_file(state, LOCK_NAME, os.O_RDWR | os.O_CREAT)
    except OSError as exc:
        raise StateError(f"cannot open the lock file in {state} ({exc.strerror}); run mftui as the user that "
                         "owns the instance") from None
    try:
        deadline = time.monotonic() + wait
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    holder = os.pread(fd, 200, 0).decode(errors="replace").strip() or "another mftui"
                    raise LockBusy(
                        f"another {holder} is in progress on this instance; "
                        f"wait for it to finish, then start the {action} again"
                    ) from None
                time.sleep(0.1)
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{action} (pid {os.getpid()})".encode(), 0)
        try:
            yield
        finally:
            os.ftruncate(fd, 0)
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)
