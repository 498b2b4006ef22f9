"""Core progress callbacks, called in a worker thread, shown in the UI thread.

Each update repaints a bar, and each repaint is bytes on a slow line, so an
update is passed on only when the whole percentage changes, at most a few
times a second.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from textual.app import App

MIN_INTERVAL = 0.25  # seconds between two updates of the bar


class BackupStopped(Exception):
    """The technician quit (or the terminal went away) during a backup: the writer removes its partial archive."""


class ThreadProgress:
    """A core ``Progress`` that forwards to ``show(percent, what)`` in the UI thread.

    With ``stop``, the work is stopped at its next progress report once the
    event is set (a backup: the writer then removes its partial archive).
    """

    def __init__(self, app: App[Any], show: Callable[[int, str], None], stop: threading.Event | None = None) -> None:
        self._app = app
        self._show = show
        self._stop = stop
        self._percent = -1
        self._last = 0.0

    def __call__(self, done: int, total: int, what: str) -> None:
        if self._stop is not None and self._stop.is_set():
            raise BackupStopped("the backup was stopped: mftui is quitting")
        percent = 100 if total <= 0 else min(100, done * 100 // total)
        now = time.monotonic()
        if percent == self._percent or (now - self._last < MIN_INTERVAL and percent < 100):
            return
        self._percent = percent
        self._last = now
        self._app.call_from_thread(self._show, percent, what)
