"""One lock per instance, shared by backup and restore and by every mftui.

An advisory ``flock`` on a file in the instance's state dir: the kernel drops
it when the process dies, so a crash never leaves a stale lock behind.
"""

from __future__ import annotations

import fcntl
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager

from .errors import LockBusy
from .settings import Settings


@contextmanager
def instance_lock(settings: Settings, action: str, wait: float = 0.0) -> Iterator[None]:
    """Hold the instance lock for ``action`` ("backup", "restore", "recovery").

    Waits up to ``wait`` seconds, then raises LockBusy naming what holds it.
    """
    state = settings.state_dir
    state.mkdir(parents=True, exist_ok=True)
    path = state / "lock"
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
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
