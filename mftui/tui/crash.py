"""Unexpected errors: a short reason on screen, the traceback in a log file."""

from __future__ import annotations

import os
import traceback
from pathlib import Path
from typing import TextIO

import platformdirs
from rich.console import Console

MAX_REASON = 160


class _LazyFile:
    """A file opened on first write, so a run without errors creates nothing."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fh: TextIO | None = None

    def write(self, text: str) -> int:
        if self._fh is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._fh = open(self.path, "a", encoding="utf-8")  # noqa: SIM115 - kept open for the run
        return self._fh.write(text)

    def flush(self) -> None:
        if self._fh is not None:
            self._fh.flush()

    def isatty(self) -> bool:
        return False


class CrashLog:
    """Where tracebacks go (the platformdirs user log dir), and the one line that is shown."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path or Path(platformdirs.user_log_dir("mftui")) / "tui-errors.log"
        self.error: BaseException | None = None
        self._file = _LazyFile(self.path)
        self._logged: set[int] = set()

    def console(self) -> Console:
        return Console(file=self._file, markup=False, highlight=False, width=100, color_system=None)  # type: ignore[arg-type]

    def record(self, error: BaseException) -> None:
        """An error that ends the app: remembered (run_tui says it once) and logged."""
        if self.error is None:
            self.error = error
        self.log(error)

    def describe(self, error: BaseException) -> str:
        """``unexpected error (KeyError: 'x'); details in <log>``: short, never a traceback; writes nothing."""
        reason = f"{type(error).__name__}: {error}".strip().rstrip(":")
        if len(reason) > MAX_REASON:
            reason = reason[: MAX_REASON - 3] + "..."
        return f"unexpected error ({reason}); nothing more was done. Details are in {self.path}"

    def log(self, error: BaseException) -> None:
        """The traceback into the log file, once per error."""
        if id(error) in self._logged:
            return
        self._logged.add(id(error))
        try:
            lines = traceback.format_exception(type(error), error, error.__traceback__)
            self._file.write(f"--- pid {os.getpid()}\n" + "".join(lines))
            self._file.flush()
        except OSError:
            pass  # the log is a convenience; never fail the UI over it
