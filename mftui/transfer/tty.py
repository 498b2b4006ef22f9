"""The terminal's settings kept across a transfer: whatever happens, the technician gets a usable line back.

``sz``/``rz`` put the line in raw mode and restore it when they end; killed,
or cut off by five Ctrl+X, they may not. So the settings are saved with
``termios.tcgetattr`` before and put back after, on errors too.
"""

from __future__ import annotations

import os
import select
import sys
import termios
import time
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


def drain(fd: int, quiet: float = 0.5, limit: float = 5.0, answers: tuple[tuple[bytes, bytes], ...] = ()) -> int:
    """Read and drop what the other end still sends after a transfer; the number of bytes dropped.

    A ZMODEM session ends with a few bytes in flight (the receiver's ZFIN,
    the sender's "OO"); left in the line they would reach the TUI as keys
    (Ctrl+X, Enter, XON which is Ctrl+Q: Quit). Read, without canonical mode
    or echo, until the line has been quiet for ``quiet`` seconds (at most
    ``limit``); ``answers``: (what arrives, what to send back), e.g. the
    "OO" a receiver still waits for, which sz may have flushed away as it
    exited. The caller restores the settings after.
    """
    try:
        attrs = termios.tcgetattr(fd)
        attrs[3] &= ~(termios.ICANON | termios.ECHO | termios.ISIG)
        attrs[6][termios.VMIN], attrs[6][termios.VTIME] = 0, 0
        termios.tcsetattr(fd, termios.TCSANOW, attrs)
    except termios.error:
        return 0
    dropped, seen = 0, b""
    end = time.monotonic() + limit
    while time.monotonic() < end:
        ready, _, _ = select.select([fd], [], [], quiet)
        if not ready:
            break
        try:
            chunk = os.read(fd, 4096)
        except OSError:
            break
        if not chunk:
            break
        dropped += len(chunk)
        seen = (seen + chunk)[-64:]
        for arrived, reply in answers:
            if arrived in seen:
                os.write(fd, reply)
                seen = b""
    return dropped


def terminal_lines(fd: int) -> Iterator[str]:
    """The lines typed or pasted into a terminal (canonical mode), read unbuffered; ends at Ctrl+D.

    Python's buffered stdin swallows the end-of-file of a Ctrl+D typed after
    a partial line, so a third Ctrl+D would be needed; read(2) on the
    terminal gives each line as it comes and 0 bytes at the end.
    """
    pending = b""
    while True:
        chunk = os.read(fd, 4096)
        if not chunk:
            if pending:
                yield pending.decode(errors="replace")
            return
        pending += chunk
        while b"\n" in pending:
            line, pending = pending.split(b"\n", 1)
            yield line.decode(errors="replace") + "\n"
