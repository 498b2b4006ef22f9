"""ZMODEM over the console line: the real ``sz`` and ``rz`` of lrzsz on the controlling terminal.

The line is ``/dev/tty`` when there is one (so stdout stays free for the
result, ``--json``), else stdin and stdout (a terminal program connected
through a pipe or a socket). The terminal's settings are saved before and
restored after, whatever happens (tty.py). A received file lands in a
private folder and reaches ``incoming/`` only once checked (incoming.py).
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from ..digest import sha256_of
from ..errors import CopyError
from ..settings import Settings
from ..text import show, show_path
from .incoming import PrivateFolder, Received, finish
from .tty import drain, kept_terminal

PACKAGE = "lrzsz"
RZ_TIMEOUT = "100"  # tenths of a second without data before rz gives up a step (its default)


@dataclass(frozen=True)
class Sent:
    """A file sent with sz; the receiver acknowledged every byte."""

    path: Path
    size: int
    sha256: str


def missing(tool: str) -> str | None:
    """None when ``tool`` (sz or rz) is installed, else the sentence saying what to install."""
    if shutil.which(tool):
        return None
    return (f"{tool} is not installed: install the Debian package {PACKAGE} (apt-get install {PACKAGE}) "
            "to transfer over this terminal, or use --text")


@contextmanager
def console_line() -> Iterator[tuple[int, int]]:
    """The (input, output) file descriptors of the line: /dev/tty, else stdin and stdout."""
    try:
        fd = os.open("/dev/tty", os.O_RDWR | os.O_NOCTTY | os.O_CLOEXEC)
    except OSError:
        yield 0, 1
        return
    try:
        yield fd, fd
    finally:
        os.close(fd)


class HungUp(Exception):
    """The line hung up (SIGHUP) during a transfer."""


@contextmanager
def _hangup_stops() -> Iterator[None]:
    """A hang-up (a dropped serial line, a closed SSH session) ends the transfer like an error: cleaned up."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def hung_up(signum: int, frame: object) -> None:
        raise HungUp

    previous = signal.signal(signal.SIGHUP, hung_up)
    try:
        yield
    finally:
        signal.signal(signal.SIGHUP, previous)


ZFIN = b"**\x18B08"  # a ZFIN hex header: the receiver ending the session, waiting for "OO"


def _run(argv: list[str], line: tuple[int, int], cwd: Path | None = None,
         answers: tuple[tuple[bytes, bytes], ...] = ()) -> tuple[int, str]:
    """Run sz or rz on the line with the terminal's settings kept; (exit status, its last message).

    A hang-up while it runs fails it; once it has ended, a hang-up (while the
    line is drained) changes nothing: the transfer is complete.
    """
    done: list[subprocess.CompletedProcess[bytes]] = []
    try:
        with _hangup_stops(), kept_terminal(line[0]) as tty:
            done.append(subprocess.run(argv, stdin=line[0], stdout=line[1], stderr=subprocess.PIPE, cwd=cwd,
                                       check=False))
            if tty is not None:
                if done[0].returncode == 0 and answers:
                    os.write(tty, b"OO")  # sz's own may have been flushed away as it exited (TCIOFLUSH)
                drain(tty, answers=answers)  # the other end's last bytes are no keys for what runs next
    except (HungUp, OSError):
        if not done:
            return -1, "the line hung up"
    proc = done[0]
    said = [s.strip() for s in proc.stderr.decode(errors="replace").replace("\r", "\n").splitlines() if s.strip()]
    return proc.returncode, show(said[-1], limit=160) if said else ""


def send(path: Path, line: tuple[int, int] | None = None) -> Sent:
    """Send the backup at ``path`` with ``sz``; raise CopyError (one sentence) if it did not arrive whole."""
    problem = missing("sz")
    if problem:
        raise CopyError(problem)
    if not path.is_file():
        raise CopyError(f"{show_path(path)} is not a backup file; give the path of a .zip (see mftui list)")
    digest = sha256_of(path)
    if digest is None:
        raise CopyError(f"the backup {show_path(path)} cannot be read; check it is there and readable")
    with _line(line) as fds:
        status, said = _run(["sz", "--binary", "--quiet", str(path)], fds, answers=((ZFIN, b"OO"),))
    if status != 0:
        why = f" ({said})" if said else ""
        raise CopyError(f"the transfer did not complete{why}: it was cancelled or the line dropped; the backup "
                        "is untouched, start it again")
    return Sent(path, path.stat().st_size, digest)


def receive(settings: Settings, line: tuple[int, int] | None = None) -> Received:
    """Receive one backup with ``rz`` into incoming/; checked before it gets its name there."""
    problem = missing("rz")
    if problem:
        raise CopyError(problem)
    with PrivateFolder(settings) as folder, _line(line) as fds:
        status, said = _run(["rz", "--binary", "--restricted", "--quiet", "--timeout", RZ_TIMEOUT], fds,
                            cwd=folder.path)
        if status != 0:
            why = f" ({said})" if said else ""
            raise CopyError(f"the transfer did not complete{why}: it was cancelled or the line dropped; nothing "
                            "was kept, send the file again")
        return finish(settings, folder)


@contextmanager
def _line(given: tuple[int, int] | None) -> Iterator[tuple[int, int]]:
    if given is not None:
        yield given
        return
    with console_line() as fds:
        yield fds
