"""Transfers over the console line from the TUI: the terminal is handed to sz/rz (or a paste) and back.

``App.suspend()`` gives the terminal back as it was before the app started
(cooked, the main screen); the transfer runs; on the way back the screen
diff forgets what the terminal showed and the whole screen is painted
again (what sz/rz or the paste printed is gone). A headless app (tests with
Pilot) cannot hand its terminal over: that is said, and nothing runs.
"""

from __future__ import annotations

import signal
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

from textual.app import App, SuspendNotSupported

from ...settings import Settings
from ...text import show
from ...transfer import line_speed, zmodem
from ...transfer.audit import audited
from ...transfer.incoming import Received
from ...transfer.paste import receive_text, send_text
from ...transfer.tty import kept_terminal, terminal_lines
from ...wording import human_size

T = TypeVar("T")
CANNOT = "this terminal cannot be handed over to a transfer here (no real terminal); use mftui send or receive"
SEND_HINT = ("\nmftui: sending {name} ({size}) with ZMODEM{eta}. Tera Term, SecureCRT and MobaXterm start "
             "receiving by themselves; minicom: Ctrl+A R; Ctrl+X five times cancels.")
RECEIVE_HINT = ("\nmftui: waiting for a backup: send it from your terminal now (Tera Term: File > Transfer > "
                "ZMODEM > Send; minicom: Ctrl+A S, zmodem). Ctrl+X five times cancels.")
PASTE_HINT = ("\nmftui: paste the lines printed by 'mftui send --text' (from 'mftui-armour v1' to 'mftui-armour "
              "end'); they are not echoed. Ctrl+D or Ctrl+C cancels.")


class Cancelled(Exception):
    """Ctrl+C while the terminal was handed over."""


def hand_over(app: App[object], work: Callable[[], T]) -> T:
    """Run ``work`` with the terminal handed over, then repaint all of it; raise what ``work`` raised.

    Textual's ``suspend`` resumes the app only when its block ends normally:
    so nothing may leave the block by an exception (it would stay suspended).
    """
    done: list[T] = []
    failed: list[BaseException] = []
    try:
        with app.suspend(), _ctrl_c_interrupts():
            try:
                done.append(work())
            except KeyboardInterrupt:
                failed.append(Cancelled("cancelled with Ctrl+C; nothing was kept"))
            except Exception as exc:  # noqa: BLE001 (raised again below, once the app is back)
                failed.append(exc)
    except SuspendNotSupported:
        raise Cancelled(CANNOT) from None
    finally:
        repaint(app)
    if failed:
        raise failed[0]
    return done[0]


@contextmanager
def _ctrl_c_interrupts() -> Iterator[None]:
    """Ctrl+C stops the paste at once (KeyboardInterrupt), instead of asyncio's handler cancelling the app.

    asyncio.run's SIGINT handler would cancel the app's main task (it quits when the paste ends) and only
    a second Ctrl+C would interrupt the read.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def repaint(app: App[object]) -> None:
    """Forget what the terminal shows (the screen diff) and paint every cell again, as Ctrl+L does."""
    diff = getattr(app, "screen_diff", None)
    if diff is not None:
        diff.invalidate(clear=True)
    app.screen.refresh(repaint=True, layout=True)


def _say(text: str) -> None:
    err = sys.__stderr__
    if err is not None:
        err.write(text + "\n")
        err.flush()


def estimate(size: int) -> str:
    """``about 2 minutes at 9600 baud (text: about 4 minutes)`` on a serial console, else ""."""
    fd = sys.__stdin__.fileno() if sys.__stdin__ else None
    zmodem_time = line_speed.estimate(size, fd)
    if zmodem_time is None:
        return ""
    text_time = line_speed.estimate(size, fd, text=True) or ""
    return f"{zmodem_time} (text: {text_time.split(' at ')[0]})"


def _estimate(size: int, *, text: bool) -> str:
    said = line_speed.estimate(size, sys.__stdin__.fileno() if sys.__stdin__ else None, text=text)
    return f": {said}" if said else ""


def send_zmodem(settings: Settings, archive: Path) -> str:
    """sz on the terminal; the sentence to show after."""
    size = archive.stat().st_size
    _say(SEND_HINT.format(name=show(archive.name), size=human_size(size), eta=_estimate(size, text=False)))
    with audited(settings, "send", archive, detail="zmodem"):
        sent = zmodem.send(archive)
    return f"Sent with ZMODEM ({human_size(sent.size)}): the receiver acknowledged every byte."


def print_text(settings: Settings, archive: Path) -> str:
    """The armoured lines, between two Enters (start the terminal's log, then stop it)."""
    size = archive.stat().st_size
    _say(f"\nmftui: {show(archive.name)} ({human_size(size)}) as text{_estimate(size, text=True)}. Start your "
         "terminal's log now (PuTTY: Session > Logging, 'Printable output'), then press Enter.")
    _read_line()
    with audited(settings, "send", archive, detail="text"):
        lines = send_text(archive, sys.__stdout__ or sys.stdout)
    _say(f"mftui: {lines} lines printed. Stop the log, then press Enter to go back to mftui.")
    _read_line()
    return (f"Printed as {lines} text lines. On your computer: sed -nE 's/^[0-9]+ ([A-Za-z0-9+/=]+) "
            "[0-9a-f]{8}.*/\\1/p' capture.txt | base64 -d > backup.zip")


def _read_line() -> str:
    stdin = sys.__stdin__
    return stdin.readline() if stdin else ""


def receive_zmodem(settings: Settings) -> Received:
    _say(RECEIVE_HINT)
    with audited(settings, "receive", None, detail="zmodem") as note:
        received = zmodem.receive(settings)
        note.archive, note.sha256 = received.path, received.sha256
    return received


def receive_paste(settings: Settings) -> Received:
    stdin = sys.__stdin__
    if stdin is None:
        raise Cancelled(CANNOT)
    with audited(settings, "receive", None, detail="text") as note, kept_terminal(stdin, echo=False):
        _say(PASTE_HINT)  # once echo is off: a paste that follows at once is not sent back
        received = receive_text(settings, terminal_lines(stdin.fileno()), _progress)
        note.archive, note.sha256 = received.path, received.sha256
    return received


def _progress(done: int, total: int) -> None:
    err = sys.__stderr__
    if err is not None and (done % 50 == 0 or done == total):
        err.write(f"\rmftui: line {done} of {total}")
        err.flush()
