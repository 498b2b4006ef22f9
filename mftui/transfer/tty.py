"""The terminal's settings kept across a transfer: whatever happens, the technician gets a usable line back.

``sz``/``rz`` put the line in raw mode and restore it when they end; killed,
or cut off by five Ctrl+X, they may not. So the settings are saved with
``termios.tcgetattr`` before and put back after, on errors too.
"""

from __future__ import annotations

import os
import sys
import termios
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any


def _fd(stream: Any) -> int | None:
    try:
        fd = stream if isinstance(stream, int) else stream.fileno()
    except (AttributeError, OSError, ValueError):
        return None
    return fd if isinstance(fd, int) and os.isatty(fd) else None


@contextmanager
def kept_terminal(stream: Any = None, *, echo: bool = True) -> Iterator[int | None]:
    """Save the settings of ``stream``'s terminal (a file or an fd; stdin by default), put them back on the way out.

    ``echo=False`` turns echo off meanwhile (a paste of thousands of lines is
    not sent back over a slow line). Yields the terminal's fd, or None when
    ``stream`` is not a terminal (a pipe, a file: nothing to keep).
    """
    fd = _fd(sys.stdin if stream is None else stream)
    saved = termios.tcgetattr(fd) if fd is not None else None
    try:
        if fd is not None and not echo:
            quiet = termios.tcgetattr(fd)
            quiet[3] &= ~(termios.ECHO | termios.ECHONL)
            termios.tcsetattr(fd, termios.TCSANOW, quiet)
        yield fd
    finally:
        if fd is not None and saved is not None:
            try:
                termios.tcflush(fd, termios.TCIFLUSH)  # what a cancelled transfer left unread is no input
                termios.tcsetattr(fd, termios.TCSAFLUSH, saved)
            except termios.error:
                pass  # the line has gone (hung up): nothing to give back
