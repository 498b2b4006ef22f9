"""The command line: the same core as the TUI, for scripts and fleets.

Exit codes: 0 ok, 1 the operation failed, 2 usage or settings error.
Textual is imported only when the TUI starts.
"""

from __future__ import annotations

import argparse
import os
import sys
import traceback
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, NoReturn

from . import __version__
from .cli_output import ProgressBar, _OutputLost, _print_json, _say, info_json, json_text
from .cli_protect import add_backup_options, add_key_options, add_keygen_parser
from .errors import MftuiError, UsageError
from .settings import Settings, load_settings, require_instance_root
from .text import show, show_path
from .wording import os_error_sentence

__all__ = ["ProgressBar", "build_parser", "info_json", "json_text", "main"]

EXIT_OK, EXIT_FAILED = 0, 1  # 2 (usage, settings) comes from the error's exit_code

EPILOG = """\
commands:
  (none)     start the terminal UI
  backup     back up the whole configuration into one .zip
  inspect    show a backup's information (--changes: what a restore would change)
  verify     check a backup's structure and every checksum
  list       list the backups, newest first
  copy       copy a backup to a folder (a USB stick), read back and checked
  restore    restore a backup (asks first; --yes for scripts; --trial 5m / --no-trial)
  keep       keep the restore that is on trial
  status     normal, on trial (deadline, checks), or reverted (when, why)
  watch      watch a trial: put it back when its time runs out or a check fails
  install-units  write the systemd units (recovery at boot, mftui watch)
  keygen     make an Ed25519 signing key for [protection] sign_key
{more}
exit codes:
  0  ok
  1  the operation failed (damaged archive, disk full, another backup running...)
  2  usage or settings error (bad option, broken settings file)

with --json, stdout holds one JSON value in every outcome ({"ok": false,
"reason": ...} on failure); messages for people go to stderr.

settings are read from --config, $MFTUI_CONFIG, /etc/mftui/config.toml or the
user config file; with none, mftui runs on its embedded demo instance.
"""


class _ArgumentError(Exception):
    """argparse's usage error, raised instead of exiting so that ``--json`` still gets its JSON."""

    def __init__(self, usage: str, prog: str, message: str) -> None:
        super().__init__(message)
        self.usage, self.prog, self.message = usage, prog, message


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise _ArgumentError(self.format_usage(), self.prog, message)


# Commands whose parser and code live in a module of their own. Each module has HELP (lines for the
# epilog), add_parsers(sub) and COMMANDS, and imports nothing heavy at the top: --help loads them all.
COMMAND_MODULES = ("cli_history", "cli_diff", "cli_transfer")


def _command_modules() -> list[Any]:
    import importlib

    return [importlib.import_module(f"{__package__}.{name}") for name in COMMAND_MODULES]


def build_parser() -> argparse.ArgumentParser:
    modules = _command_modules()
    parser = _Parser(
        prog="mftui",
        description="Back up and restore a MobiusFlow-style instance's configuration.",
        epilog=EPILOG.replace("{more}", "".join(f"  {line}\n" for m in modules for line in m.HELP)),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--config", metavar="PATH", help="settings file (TOML)")
    parser.add_argument("--version", action="version", version=f"mftui {__version__}")
    parser.add_argument("--no-mouse", action="store_true", help="TUI: turn mouse reporting off")
    parser.add_argument(
        "--low-bandwidth",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="TUI: fewest bytes for a slow serial line (default: on for TERM=linux/vt100; env MFTUI_LOW_BANDWIDTH=1/0)",
    )
    parser.add_argument(
        "--ascii",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="TUI: +-| borders and focus in reverse video, for a VT100 or a non-UTF-8 console "
             "(default: from TERM and the locale; env MFTUI_ASCII=1/0)",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    p = sub.add_parser("backup", help="back up the whole configuration")
    p.add_argument("--name", default="", help="a name for the backup (the date and time are appended)")
    p.add_argument("--json", action="store_true", help="print a JSON object")
    p.add_argument("--scheduled", action="store_true", help="a scheduled backup (kind scheduled; for the timer)")
    p.add_argument("--if-changed", action="store_true",
                   help="make none when the configuration is byte for byte the newest backup's (exit 0)")
    add_backup_options(p)

    p = sub.add_parser("inspect", help="show a backup's information")
    p.add_argument("file", type=Path)
    p.add_argument("--json", action="store_true", help="print a JSON object")
    p.add_argument("--changes", action="store_true", help="also compare it with the live configuration")
    add_key_options(p)

    p = sub.add_parser("verify", help="check structure and every checksum")
    p.add_argument("file", type=Path)
    p.add_argument("--json", action="store_true", help="print a JSON object")
    add_key_options(p)

    p = sub.add_parser("list", help="list the backups, newest first")
    p.add_argument("--json", action="store_true", help="print a JSON array")

    p = sub.add_parser("copy", help="copy a backup to a folder (a USB stick), read back and checked")
    p.add_argument("file", type=Path, help="the backup archive (.zip)")
    p.add_argument("folder", type=Path, help="the folder to copy into, e.g. /media/usb")
    p.add_argument("--json", action="store_true", help="print a JSON object")

    p = sub.add_parser("restore", help="restore a backup, then reboot")
    p.add_argument("file", type=Path, nargs="?", help="the backup archive (.zip)")
    p.add_argument("--previous", action="store_true",
                   help="put back the configuration the last restore replaced, instead of a FILE")
    p.add_argument("--yes", action="store_true", help="do not ask (for scripts)")
    p.add_argument("--no-reboot", action="store_true", help="do not ask the reboot service to reboot")
    p.add_argument("--discard-previous", action="store_true",
                   help="when the disk is short of space, discard the configuration the last restore replaced "
                        "(it can then no longer be put back)")
    add_key_options(p)
    trial = p.add_mutually_exclusive_group()
    trial.add_argument("--trial", metavar="DURATION",
                       help='a trial restore: put back unless kept (mftui keep) within DURATION, e.g. "5m"')
    trial.add_argument("--no-trial", action="store_true", help="not a trial (refused when the restore changes "
                                                                 "the network configuration over SSH)")
    scope = p.add_mutually_exclusive_group()
    scope.add_argument("--keep-identity", action="store_true",
                       help="clone: keep this unit's identity files (network, hostname, licence, keys); the "
                            "default for a backup of another unit")
    scope.add_argument("--take-identity", action="store_true",
                       help="replace: take everything from the backup; the default for a backup of this unit")
    p.add_argument("--json", action="store_true", help="print a JSON object")

    p = sub.add_parser("keep", help="keep the restore that is on trial")
    p.add_argument("--json", action="store_true", help="print a JSON object")
    p = sub.add_parser("status", help="normal, on trial, or reverted")
    p.add_argument("--json", action="store_true", help="print a JSON object")
    p = sub.add_parser("watch", help="watch a trial restore (started at boot)")
    p.add_argument("--json", action="store_true", help="print a JSON object at the end")
    p = sub.add_parser("install-units", help="write the systemd units for recovery at boot and mftui watch")
    p.add_argument("--dir", type=Path, default=Path("/etc/systemd/system"), help="where (default %(default)s)")
    p.add_argument("--product-unit", default="mobiusflow.service",
                   help="the product's service, which recovery runs before (default %(default)s)")
    p.add_argument("--json", action="store_true", help="print a JSON object")
    add_keygen_parser(sub)
    for module in modules:
        module.add_parsers(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command (or the TUI); every outcome is an exit code and words, never a traceback."""
    _forgiving_streams()
    try:
        code = _main(argv)
        sys.stdout.flush()  # to a pipe or a file, the end of the output is written here
    except (_OutputLost, OSError) as exc:
        return _output_lost(exc.error if isinstance(exc, _OutputLost) else exc)
    return code


def _main(argv: Sequence[str] | None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        args = build_parser().parse_args(argv)
    except _ArgumentError as exc:
        sys.stderr.write(exc.usage)
        _say(f"{exc.prog}: error: {exc.message}", sys.stderr)
        if "--json" in argv:
            _print_json({"ok": False, "reason": exc.message})
        return 2
    try:
        # Recovery runs before anything insists the instance root exists: a restore cut between
        # its two renames (no RENAME_EXCHANGE) leaves no root until recovery puts one back.
        settings = load_settings(args.config, require_root=False)
        _recover(settings)
        require_instance_root(settings)
        if args.command is None:
            _need_a_terminal()
            from .tui.app import run_tui

            return run_tui(settings, mouse=not args.no_mouse, low_bandwidth=args.low_bandwidth, ascii_only=args.ascii)
        return _command(args.command)(settings, args)
    except MftuiError as exc:
        return _failed(args, str(exc), exc.exit_code, restored=False)
    except KeyboardInterrupt:
        return _failed(args, "interrupted; nothing was changed", EXIT_FAILED, restored=False)
    except OSError as exc:  # what the core did not word itself: one sentence with what to do
        return _failed(args, os_error_sentence(exc), EXIT_FAILED, restored=None)
    except _OutputLost:
        raise  # main says it, on stderr if that still works
    except Exception as exc:  # a bug: one line and where the details are, never a traceback
        log, problem = _crash_log(exc)
        reason = show(f"{type(exc).__name__}: {exc}".strip().rstrip(":"), limit=160)
        where = f"the details are in {show_path(log)}" if problem is None else \
            f"its details could not be saved in {show_path(log)} ({problem})"
        return _failed(args, f"unexpected error ({reason}); this is a bug in mftui: {where}; "
                             "please send them with what you did", EXIT_FAILED, restored=None,
                       crash_log=str(log) if problem is None else None)


def _failed(args: argparse.Namespace, reason: str, code: int, *, restored: bool | None,
            crash_log: str | None = None) -> int:
    """Say why on stderr; with --json, also print ``{"ok": false, "reason": ...}`` on stdout."""
    _say(f"mftui: {reason}", sys.stderr)
    if getattr(args, "json", False):
        data: dict[str, Any] = {"ok": False, "reason": reason}
        if args.command == "restore":
            data["restored"] = restored  # null: not known (the next mftui finishes or rolls back a restore)
        if crash_log is not None:
            data["crash_log"] = crash_log
        _print_json(data)
    return code


def _output_lost(error: OSError) -> int:
    """Exit 1 quietly when the reader has gone (``| head``); otherwise say so on stderr, if it still works."""
    try:  # nothing more goes to stdout, not even the interpreter's last flush of what is buffered
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError):
        pass  # not a real file (a test's capture): nothing is flushed at exit either
    if not isinstance(error, BrokenPipeError):
        try:
            sys.stderr.write(f"mftui: cannot write the output: {os_error_sentence(error)}\n")
            sys.stderr.flush()
        except (OSError, ValueError):
            pass
    return EXIT_FAILED


def _need_a_terminal() -> None:
    """The TUI needs a terminal on stdin and stdout; a script gets a sentence instead of escape codes."""
    if not (sys.stdin.isatty() and sys.stdout.isatty()):
        raise UsageError(
            "no command given, and there is no terminal for the terminal UI (stdin and stdout are not a "
            "terminal): give a command, such as mftui list, mftui backup --json or mftui verify FILE "
            "(all of them: mftui --help)"
        )


def crash_log_path() -> Path:
    """Where the command line writes the traceback of an unexpected error (the user log folder)."""
    import platformdirs

    return Path(platformdirs.user_log_dir("mftui")) / "cli-errors.log"


def _crash_log(exc: BaseException) -> tuple[Path, str | None]:
    """Append ``exc``'s traceback to the crash log: (its path, None or why it could not be written)."""
    path = crash_log_path()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
        with os.fdopen(fd, "a", encoding="utf-8", errors="backslashreplace") as log:
            log.write(f"--- {datetime.now(UTC).isoformat(timespec='seconds')} pid {os.getpid()} "
                      f"mftui {__version__}\n")
            log.write("".join(traceback.format_exception(type(exc), exc, exc.__traceback__)))
    except OSError as problem:
        return path, os_error_sentence(problem)
    return path, None


def _forgiving_streams() -> None:
    """Never fail on printing: a character the terminal's encoding lacks is written as an escape, and a
    stream the caller closed (``>&-``) is the null device, so the other one stays clean."""
    if sys.stdout is None:
        sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - for the whole run
    if sys.stderr is None:
        sys.stderr = open(os.devnull, "w")  # noqa: SIM115 - for the whole run
    for stream in (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None:
            try:
                reconfigure(errors="backslashreplace")
            except (ValueError, OSError):  # pragma: no cover - a closed or odd stream: leave it
                pass


def _recover(settings: Settings) -> None:
    """Finish or roll back an interrupted restore before anything else runs."""
    from .restore import recover  # cheap: a look at the state folder unless a restore was interrupted

    message = recover(settings)
    if message:
        _say(f"mftui: {message}", sys.stderr)


# --- which code runs each command -------------------------------------------


def _lazy(module: str, function: str) -> Callable[[Settings, argparse.Namespace], int]:
    """A command whose code is imported only when it runs (``mftui --help`` and ``list`` stay light)."""

    def run(settings: Settings, args: argparse.Namespace) -> int:
        import importlib

        command: Callable[[Settings, argparse.Namespace], int] = getattr(
            importlib.import_module(f"{__package__}.{module}"), function)
        return command(settings, args)

    return run


def _command(name: str) -> Callable[[Settings, argparse.Namespace], int]:
    if name in COMMANDS:
        return COMMANDS[name]
    run: Callable[[Settings, argparse.Namespace], int] = next(
        m.COMMANDS[name] for m in _command_modules() if name in m.COMMANDS)
    return run


COMMANDS: dict[str, Callable[[Settings, argparse.Namespace], int]] = {
    "backup": _lazy("cli_backups", "cmd_backup"),
    "inspect": _lazy("cli_verify", "inspect"),
    "verify": _lazy("cli_verify", "verify"),
    "list": _lazy("cli_backups", "cmd_list"),
    "copy": _lazy("cli_backups", "cmd_copy"),
    "restore": _lazy("cli_restore", "cmd_restore"),
    "keep": _lazy("cli_trial", "cmd_keep"),
    "status": _lazy("cli_trial", "cmd_status"),
    "watch": _lazy("cli_trial", "cmd_watch"),
    "install-units": _lazy("cli_trial", "cmd_install_units"),
    "keygen": _lazy("cli_protect", "cmd_keygen"),
}
