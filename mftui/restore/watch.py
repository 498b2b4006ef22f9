"""``mftui watch``: the long-running watcher of a trial restore.

Started at boot (the ``mftui-watch.service`` unit that ``mftui install-units``
writes, or the container's start step on balena). It holds its own lock
(``watch.lock`` in the state folder: one watcher per instance; a second one
says so and exits), then, while a restore is on trial: runs the health checks
every ``[trial] check_every`` and puts the previous configuration back at once
when one fails; puts it back when the deadline passes (measured as
trial_record.py explains: boot-time clock within a boot, the recorded
wall-clock deadline across a reboot); and asks for the one reboot a put back
needs. It exits when nothing is (or is any longer) on trial.
"""

from __future__ import annotations

import fcntl
import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from ..errors import LockBusy, StateError
from ..settings import Settings
from ..state import checked_state_dir, open_file
from ..text import show
from .trial import (
    record_checks,
    request_reboot_after_revert,
    revert_now,
    run_checks,
    trial_status,
)
from .trial_record import ON_TRIAL, REVERTED, TrialError, audit, human_duration

WATCH_LOCK = "watch.lock"
POLL = 1.0  # seconds between looks at the clock


@contextmanager
def watch_lock(settings: Settings) -> Iterator[None]:
    """One watcher per instance: LockBusy naming the running one otherwise."""
    state = checked_state_dir(settings, create=True)
    assert state is not None
    try:
        fd = open_file(state, WATCH_LOCK, os.O_RDWR | os.O_CREAT)
    except OSError as exc:
        raise StateError(f"cannot open the watch lock in {state} ({exc.strerror})") from None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 100, 0).decode(errors="replace").strip() or "another process"
            raise LockBusy(f"another mftui watch is already running on this instance ({show(holder)}); "
                           "one is enough, this one exits") from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"pid {os.getpid()}".encode(), 0)
        yield
    finally:
        os.close(fd)  # closing drops the flock


def watch(settings: Settings, say: Callable[[str], None], poll: float = POLL) -> str:
    """Watch the trial until it is kept or put back (or there is none); the last sentence to say."""
    with watch_lock(settings):
        said = request_reboot_after_revert(settings)  # a put back finished by recovery still needs its reboot
        if said:
            return said
        status = trial_status(settings)
        if not status.on_trial:
            return f"nothing to watch: {status.describe()}"
        say(f"watching: {status.describe()}")
        audit(settings.state_dir, "watch-started", f"pid {os.getpid()}, {human_duration(status.seconds_left or 0)} "
                                                   "left")
        next_checks = 0.0  # boot-time clock: checks first thing, then every check_every
        while True:
            status = trial_status(settings)
            if not status.on_trial:
                return status.describe()
            left = status.seconds_left or 0.0
            if left <= 0:
                return _put_back(settings, say, f"the trial time ({human_duration(status.timeout)}) ran out and "
                                                "no one kept it")
            if settings.trial.checks and time.monotonic() >= next_checks:
                ok, results = run_checks(settings)
                try:
                    record_checks(settings, results)
                except LockBusy:
                    pass  # a backup holds the lock: the results are recorded with the next round
                if not ok:
                    name, _ok, detail = results[-1]
                    return _put_back(settings, say, f"the health check '{name}' failed ({detail})")
                next_checks = time.monotonic() + settings.trial.check_every
            time.sleep(max(0.05, min(poll, left)))


def _put_back(settings: Settings, say: Callable[[str], None], reason: str) -> str:
    say(f"putting back the configuration from before the trial: {reason}")
    while True:
        try:
            status = revert_now(settings, reason)
            break
        except LockBusy as busy:  # a backup or a restore is running: wait for it, the put back comes next
            say(f"waiting: {busy}")
            time.sleep(1.0)
        except TrialError as exc:
            now = trial_status(settings)
            if now.state != ON_TRIAL:  # kept (or put back by hand) a moment ago
                return now.describe()
            raise exc
    said = request_reboot_after_revert(settings)
    return f"{status.describe()}. {said}" if status.state == REVERTED else status.describe()
