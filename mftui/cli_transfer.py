"""The command line of transfers without a network: ``send``, ``receive`` (issue 14).

Registered by cli.py (COMMAND_MODULES): HELP lines go in ``mftui --help``, add_parsers adds the
subcommands, COMMANDS runs them. Import only what --help needs at the top; the work is imported lazily.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path

from .settings import Settings

HELP: list[str] = [
    "send       send a backup over this terminal (ZMODEM, or --text lines to capture)",
    "receive    receive a backup over this terminal (ZMODEM, or --text: paste the lines)",
]
EXIT_OK = 0
RECEIVE_HINT = ("waiting for the file: send it from your terminal now (Tera Term: File > Transfer > ZMODEM > "
                "Send; minicom: Ctrl+A S, zmodem); Ctrl+X five times cancels")
PASTE_HINT = ("paste the lines printed by 'mftui send --text' (from the line 'mftui-armour v1' to the line "
              "'mftui-armour end'); Ctrl+D or Ctrl+C cancels")


def add_parsers(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add this module's subcommands to mftui's parser."""
    p = sub.add_parser("send", help="send a backup over this terminal (ZMODEM, or --text lines)")
    p.add_argument("file", type=Path, help="the backup archive (.zip)")
    how = p.add_mutually_exclusive_group()
    how.add_argument("--text", action="store_true",
                     help="print the backup as numbered base64 lines, for a terminal's log (no ZMODEM needed)")
    how.add_argument("--json", action="store_true", help="print a JSON object (ZMODEM)")
    p = sub.add_parser("receive", help="receive a backup over this terminal into incoming/ (checked)")
    p.add_argument("--text", action="store_true", help="read the lines of 'mftui send --text' from stdin (a paste)")
    p.add_argument("--json", action="store_true", help="print a JSON object")


def _outlive_a_hangup() -> None:
    """A line dropped after the transfer ended must not kill mftui halfway through checking or placing the file.

    During the transfer a hang-up still fails it (zmodem.py catches SIGHUP itself).
    """
    import signal

    signal.signal(signal.SIGHUP, signal.SIG_IGN)


def cmd_send(settings: Settings, args: argparse.Namespace) -> int:
    from .cli_output import _print_json, _say
    from .text import show_path
    from .transfer import zmodem
    from .transfer.audit import audited
    from .transfer.paste import send_text
    from .wording import human_size

    path: Path = args.file
    _outlive_a_hangup()
    if args.text:
        if not path.is_file():
            from .errors import CopyError

            raise CopyError(f"{show_path(path)} is not a backup file; give the path of a .zip (see mftui list)")
        _say_estimate(path.stat().st_size, text=True)
        with audited(settings, "send", path, detail="text"):
            send_text(path, sys.stdout)
        return EXIT_OK
    problem = zmodem.missing("sz")
    if problem is None and path.is_file():
        _say_estimate(path.stat().st_size, text=False)
    with audited(settings, "send", path, detail="zmodem"):
        sent = zmodem.send(path)
    if args.json:
        _print_json({"ok": True, "path": str(sent.path), "bytes": sent.size, "sha256": sent.sha256,
                     "method": "zmodem"})
    else:
        _say(f"sent {show_path(sent.path)} ({human_size(sent.size)}, SHA-256 {sent.sha256}); the receiver "
             "acknowledged every byte", sys.stderr)
    return EXIT_OK


def _say_estimate(size: int, *, text: bool) -> None:
    from .cli_output import _say
    from .transfer import line_speed, zmodem

    with zmodem.console_line() as (fd, _out):
        said = line_speed.estimate(size, fd, text=text)
    if said:
        _say(f"mftui: this takes {said}", sys.stderr)


def cmd_receive(settings: Settings, args: argparse.Namespace) -> int:
    from .cli_output import _print_json, _say
    from .text import show_path
    from .transfer import zmodem
    from .transfer.audit import audited
    from .transfer.paste import receive_text
    from .transfer.tty import kept_terminal, terminal_lines

    _outlive_a_hangup()
    if args.text:
        with audited(settings, "receive", None, detail="text") as note, kept_terminal(sys.stdin, echo=False):
            if sys.stdin.isatty():
                _say(f"mftui: {PASTE_HINT}", sys.stderr)  # once echo is off: a paste at once is not sent back
            lines = terminal_lines(sys.stdin.fileno()) if sys.stdin.isatty() else sys.stdin
            received = receive_text(settings, lines, _Progress() if sys.stderr.isatty() else None)
            note.archive = received.path
            note.sha256 = received.sha256
    else:
        problem = zmodem.missing("rz")
        if problem is None:
            _say(f"mftui: {RECEIVE_HINT}", sys.stderr)
        with audited(settings, "receive", None, detail="zmodem") as note:
            received = zmodem.receive(settings)
            note.archive = received.path
            note.sha256 = received.sha256
    if args.json:
        _print_json(received.to_json())
    else:
        checked = "checked" if received.complete else "partly checked"
        _say(f"{show_path(received.path)}\n{checked}: {received.summary}")
    return EXIT_OK


class _Progress:
    """``line 150 of 894`` on stderr, every 50 lines (a slow line has better things to carry)."""

    def __init__(self) -> None:
        self.shown = -1

    def __call__(self, done: int, total: int) -> None:
        if done != self.shown and (done % 50 == 0 or done == total):
            self.shown = done
            sys.stderr.write(f"\rmftui: line {done} of {total}" + ("\n" if done == total else ""))
            sys.stderr.flush()


COMMANDS: dict[str, Callable[[Settings, argparse.Namespace], int]] = {"send": cmd_send, "receive": cmd_receive}
