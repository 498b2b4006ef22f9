"""The trial banner at the top of Administration: keep the restored configuration, or it is put back.

While a restore is on trial it says whose backup, the time left, and the two
keys, and ticks once a second. Only the minutes and seconds change, so a
tick costs a few bytes on a slow line; with nothing on trial there is no
timer at all, and an idle screen sends nothing. A trial that ended (kept,
reverted, or that could not be put back) is said once, in the core's words,
without a timer.
"""

from __future__ import annotations

import time
from typing import Any

from textual.timer import Timer
from textual.widgets import Static

from ...restore.trial_record import human_duration
from ...text import show
from ..wrap import Wrapped

SAID_ONCE = ("kept", "reverted", "revert-failed", "reverting")


class TrialBanner(Static):
    """Shows one TrialStatus (``restore.TrialStatus``); hidden when the unit is in its normal state."""

    def __init__(self, *, dash: str = "\u2014", id: str | None = None) -> None:
        super().__init__("", id=id, markup=False)
        self.status: Any = None  # the TrialStatus last read
        self._dash = dash  # "-" on a console without Unicode
        self._read_at = 0.0  # time.monotonic() when the status was read
        self._timer: Timer | None = None
        self.display = False

    @property
    def on_trial(self) -> bool:
        return self.status is not None and self.status.on_trial

    def seconds_left(self) -> float:
        if not self.on_trial:
            return 0.0
        left = float(self.status.seconds_left or 0)
        return max(0.0, left - (time.monotonic() - self._read_at))

    def show_status(self, status: Any) -> None:
        """A status as read by the core: on trial, ticks; just ended, said once; normal, hidden."""
        self.status = status
        self._read_at = time.monotonic()
        self._stop()
        self.remove_class("-ended")
        if status is not None and status.on_trial:
            self.display = True
            self._tick()
            self._timer = self.set_interval(1.0, self._tick)
        elif status is not None and status.state in SAID_ONCE:
            self.display = True
            self.add_class("-ended")
            self.update(Wrapped.path(status.describe()))
        else:
            self.display = False

    def say(self, text: str) -> None:
        """A sentence in place of the banner (the outcome of k or p), no timer."""
        self._stop()
        self.display = True
        self.add_class("-ended")
        self.update(Wrapped.path(text))

    def text(self) -> Wrapped:
        """The banner; on a narrow screen it wraps between words, never inside "k keep, p put back now"."""
        name = show(self.status.backup_name) if self.status is not None else "?"
        left = self.seconds_left()
        if left <= 0:
            return Wrapped.path(f"Trial of backup '{name}': its time ran out; it is being put back (by mftui watch).")
        words = f"Trial of backup '{name}': keep it? Put back in {human_duration(left)} ".split(" ")
        return Wrapped([word + " " for word in words if word] + [f"{self._dash} k keep, p put back now"])

    def _tick(self) -> None:
        self.update(self.text())  # the screen diff sends only the changed digits
        if self.seconds_left() <= 0:
            self._stop()
            self.screen.refresh_bindings()  # k is no longer offered

    def _stop(self) -> None:
        if self._timer is not None:
            self._timer.stop()
            self._timer = None
