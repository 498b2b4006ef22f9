"""The command line: the same core as the TUI, for scripts and fleets.

Exit codes: 0 ok, 1 the operation failed, 2 usage or settings error.
Textual is imported only when the TUI starts.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import time
import traceback
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, NoReturn, TextIO

from . import __version__
from .errors import MftuiError, UsageError
from .settings import Settings, load_settings, require_instance_root
from .text import show, show_path
from .wording import human_size, info_rows, os_error_sentence

EXIT_OK, EXIT_FAILED = 0, 1  # 2 (usage, settings) comes from the error's exit_code

EPILOG = """\
commands:
  (none)     start the terminal UI
  backup     back up the whole configuration into one .zip
  inspect    show a backup's information (--changes: what a restore would change)
  verify     check a backup's structure and every checksum
  list       list the backups, newest first
  restore    restore a backup (asks first; --yes for scripts; --trial 5m / --no-trial)
  keep       keep the restore that is on trial
  status     normal, on trial (deadline, checks), or reverted (when, why)
  watch      watch a trial: put it back when its time runs out or a check fails
  install-units  write the systemd units (recovery at boot, mftui watch)

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


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="mftui",
        description="Back up and restore a MobiusFlow-style instance's configuration.",
        epilog=EPILOG,
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
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    p = sub.add_parser("backup", help="back up the whole configuration")
    p.add_argument("--name", default="", help="a name for the backup (the date and time are appended)")
    p.add_argument("--json", action="store_true", help="print a JSON object")

    p = sub.add_parser("inspect", help="show a backup's information")
    p.add_argument("file", type=Path)
    p.add_argument("--json", action="store_true", help="print a JSON object")
    p.add_argument("--changes", action="store_true", help="also compare it with the live configuration")

    p = sub.add_parser("verify", help="check structure and every checksum")
    p.add_argument("file", type=Path)
    p.add_argument("--json", action="store_true", help="print a JSON object")

    p = sub.add_parser("list", help="list the backups, newest first")
    p.add_argument("--json", action="store_true", help="print a JSON array")

    p = sub.add_parser("restore", help="restore a backup, then reboot")
    p.add_argument("file", type=Path, nargs="?", help="the backup archive (.zip)")
    p.add_argument("--previous", action="store_true",
                   help="put back the configuration the last restore replaced, instead of a FILE")
    p.add_argument("--yes", action="store_true", help="do not ask (for scripts)")
    p.add_argument("--no-reboot", action="store_true", help="do not ask the reboot service to reboot")
    p.add_argument("--discard-previous", action="store_true",
                   help="when the disk is short of space, discard the configuration the last restore replaced "
                        "(it can then no longer be put back)")
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

            return run_tui(settings, mouse=not args.no_mouse, low_bandwidth=args.low_bandwidth)
        return COMMANDS[args.command](settings, args)
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


class _OutputLost(Exception):
    """stdout or stderr cannot be written (the reader of a pipe has gone, a full disk): nothing more to say there."""

    def __init__(self, error: OSError) -> None:
        super().__init__(str(error))
        self.error = error


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


# --- commands ---------------------------------------------------------------


def cmd_backup(settings: Settings, args: argparse.Namespace) -> int:
    from .archive.writer import create_backup

    with ProgressBar("backup") as bar:
        result = create_backup(settings, args.name, progress=bar)
    info = result.info
    if args.json:
        _print_json({
            "ok": True,
            "path": str(result.path),
            "name": info.name,
            "created_at": info.created_at,
            "files": len(info.files),
            "bytes": info.total_bytes,
            "archive_bytes": result.archive_bytes,
            "components": info.components,
        })
    else:
        _say(show_path(result.path))
    return EXIT_OK


def cmd_inspect(settings: Settings, args: argparse.Namespace) -> int:
    from .archive.reader import read_info

    info = read_info(args.file)
    data = {"ok": True, **info_json(info)}
    text = ""
    if args.changes:
        from .cli_trial import both_scopes

        text = both_scopes(settings, args.file, info, data)
    if args.json:
        _print_json(data)
        return EXIT_OK
    _say(format_info(info))
    if text:
        _say()
        _say(text)
    return EXIT_OK


def cmd_verify(settings: Settings, args: argparse.Namespace) -> int:
    from .restore import verify_backup

    try:
        with ProgressBar("verify") as bar:
            info = verify_backup(settings, args.file, progress=bar)
    except MftuiError as exc:
        named = str(args.file) in str(exc) or show_path(args.file) in str(exc)
        _say(f"mftui: {exc}" if named else f"mftui: {show_path(args.file)}: {exc}", sys.stderr)
        if args.json:
            _print_json({"ok": False, "reason": str(exc)})
        return EXIT_FAILED
    if args.json:
        _print_json({"ok": True, "files": len(info.files), "bytes": info.total_bytes})
    else:
        _say(f"{show_path(args.file)}: ok ({len(info.files)} files, {human_size(info.total_bytes)}, "
             "every checksum matches)")
    return EXIT_OK


def cmd_list(settings: Settings, args: argparse.Namespace) -> int:
    from .archive.catalog import list_backups
    from .restore import previous_configuration

    backups = list_backups(settings.backups_dir)
    previous = previous_configuration(settings)  # the tree the last restore replaced, kept whole
    if args.json:
        rows = [b.to_json() for b in backups]
        if previous is not None:
            rows.append({"kind": "previous", "ok": True, **previous.to_json()})
        _print_json(rows)
        return EXIT_OK
    if not backups:
        _say(f"no backups in {show_path(settings.backups_dir)}")
    for b in backups:
        if b.info is None:
            _say(f"{show_path(b.path.name)}  (unreadable: {b.problem})")
        else:
            kind = "  [safety copy]" if b.info.kind == "safety" else ""
            _say(f"{show_path(b.path.name)}  {show(b.info.created_at, limit=40)}  {len(b.info.files)} files  "
                 f"{human_size(b.size)}{kind}")
    if previous is not None:
        _say(f"{previous.describe()}\n  put it back with: mftui restore --previous")
    return EXIT_OK


def cmd_restore(settings: Settings, args: argparse.Namespace) -> int:
    """Restore a backup (or the previous configuration), asking first unless --yes; then reboot.

    Exit 0: restored (and the reboot requested, unless --no-reboot). Exit 1:
    refused, cancelled, failed (the live configuration is unchanged), or
    restored but the reboot request failed ("restored": true in --json).
    Exit 2: no FILE, or no terminal to ask on and no --yes. With --json,
    a failure is ``{"ok": false, "restored": false, "reason": ...}`` (main prints it).
    """
    if args.previous and args.file is not None:
        raise UsageError("restore takes a backup FILE or --previous, not both")
    if not args.previous and args.file is None:
        raise UsageError("restore needs the backup FILE to restore, or --previous to put back what the last "
                         "restore replaced")
    if not args.yes and not sys.stdin.isatty():
        raise UsageError("restore asks for confirmation on the terminal and there is none: "
                         "add --yes to restore from a script")
    if args.previous and (args.trial or args.keep_identity or args.take_identity):
        raise UsageError("putting the previous configuration back is never a trial and has no scope: leave out "
                         "--trial, --keep-identity and --take-identity")
    return _restore(settings, args)


def _restore(settings: Settings, args: argparse.Namespace) -> int:
    from .cli_trial import choose_scope, choose_trial, say_trial
    from .restore import restore_backup, restore_previous

    # What the technician reads goes to stdout, or to stderr when stdout is for JSON.
    out = sys.stderr if args.json else sys.stdout
    plan = None
    scope, trial = "replace", None
    if not args.previous:
        scope = choose_scope(settings, args)
        trial = choose_trial(settings, args, scope)
    if not args.yes:
        plan, confirmed = _ask_first(settings, args, out, scope, trial)
        if not confirmed:
            _say("mftui: restore cancelled; nothing was changed", sys.stderr)
            if args.json:
                _print_json({"ok": False, "restored": False, "reason": "cancelled"})
            return EXIT_FAILED
    try:
        with ProgressBar("restore") as bar:
            if args.previous:
                result = restore_previous(settings, progress=bar)
            else:  # the plan: exactly what was shown
                result = restore_backup(settings, plan or args.file, progress=bar,
                                        discard_previous=args.discard_previous, scope=scope, trial=trial)
    except KeyboardInterrupt:
        # Interrupted in the middle: say honestly where the instance stands.
        from .restore import recover

        said = recover(settings)
        _say(f"mftui: interrupted; {said or 'nothing was changed'}", sys.stderr)
        if args.json:
            _print_json({"ok": False, "restored": None, "reason": f"interrupted; {said or 'nothing was changed'}"})
        return EXIT_FAILED
    data: dict[str, Any] = {
        "ok": True,
        "restored": True,
        "name": result.info.name,
        "instance_id": result.info.instance_id,
        "files": len(result.info.files),
        "bytes": result.info.total_bytes,
        "safety_backup": str(result.safety_backup),
        "safety_archive": str(result.safety_archive) if result.safety_archive else None,
        "previous": str(result.previous),
        "method": result.method,
        "carried_over": result.carried,
        "left_behind": list(result.left_behind),
        "changes": result.changes.to_json(),
    }
    if not args.previous:
        data["path"] = str(args.file)
        data["scope"] = result.scope
        data["trial"] = {"deadline": result.trial_deadline, "timeout_seconds": trial} if trial else None
    _say(result.summary, out)
    if trial:
        say_trial(settings, result.trial_deadline, trial, out)
    _say_left_behind(result, out)
    code = _reboot_after(settings, args, data, out)
    if args.json:
        _print_json(data)
    return code


def _say_left_behind(result: Any, out: TextIO) -> None:
    if result.left_behind:
        _say(f"Not carried over ({len(result.left_behind)}): not configuration, but the backup has a file or folder "
             f"at the same place. Each stays in the previous configuration, {show_path(result.previous)}, "
             "which the next restore discards: move what you need by hand.", out)
        for path in result.left_behind:
            _say(f"  {show_path(path)}", out)


def _reboot_after(settings: Settings, args: argparse.Namespace, data: dict[str, Any], out: TextIO) -> int:
    """Ask the reboot service (unless --no-reboot); ``data["reboot"]`` says what happened."""
    if args.no_reboot:
        data["reboot"] = {"requested": False}
        _say("Not rebooting (--no-reboot): restart the unit to run the restored configuration.", out)
        return EXIT_OK
    from .errors import RebootError
    from .reboot import reboot_service

    try:
        outcome = reboot_service(settings).request_reboot()
    except RebootError as exc:
        data["ok"] = False
        data["reboot"] = {"requested": True, "ok": False, "message": str(exc)}
        _say(f"mftui: the restore is committed, but the reboot request failed: {exc}", sys.stderr)
        return EXIT_FAILED
    data["reboot"] = {"requested": True, "ok": True, "backend": outcome.backend, "real": outcome.real,
                      "message": outcome.message}
    _say(outcome.message, out)
    return EXIT_OK


def _ask_first(settings: Settings, args: argparse.Namespace, out: TextIO, scope: str,
               trial: float | None) -> tuple[Any, bool]:
    """Show what the restore does (the mode, the trial, the lockout risk) and ask; (the plan shown, yes?)."""
    from .cli_trial import explain_plan
    from .restore import plan_restore, previous_configuration
    from .restore.trial_record import human_duration

    plan = None
    if args.previous:
        prev = previous_configuration(settings)
        if prev is None:
            from .errors import RestoreError

            raise RestoreError("there is no previous configuration to go back to: it is kept only after a "
                               "restore, until the next one")
        _say(f"Put back the {prev.describe()}", out)
        question = "Put the previous configuration back over the live one?"
        expected_id = ""
    else:
        with ProgressBar("checking") as bar:
            plan = plan_restore(settings, args.file, progress=bar, scope=scope)
        _say(format_info(plan.info), out)
        _say(file=out)
        _say(plan.changes.describe(), out)
        _say(file=out)
        _say(explain_plan(plan, trial), out)
        mode = f"{plan.scope}, trial {human_duration(trial)}" if trial else f"{plan.scope}, no trial"
        question = f"Restore backup '{show(plan.info.name)}' over the live configuration? ({mode})"
        expected_id = plan.changes.archive_instance_id if plan.changes.other_unit else ""
    return plan, _confirm(question, expected_id)


def _confirm(question: str, expected_id: str = "") -> bool:
    """Ask on the terminal; the default is No. A clone must be confirmed by typing the source hub id."""
    try:
        if expected_id:
            _say(
                f"{question}\nThis backup comes from another unit. To clone it onto this one, type its hub id "
                f"({show(expected_id, limit=40)}); anything else cancels: ", sys.stderr, end=""
            )
            sys.stderr.flush()
            return sys.stdin.readline().strip().lower() == expected_id.strip().lower()
        _say(f"{question} [y/N] ", sys.stderr, end="")
        sys.stderr.flush()
        return sys.stdin.readline().strip().lower() in ("y", "yes")
    except (EOFError, OSError):
        return False


def _trial_command(settings: Settings, args: argparse.Namespace) -> int:
    """keep, status, watch, install-units: in cli_trial.py (imported only when one of them runs)."""
    from . import cli_trial

    return cli_trial.COMMANDS[args.command](settings, args)


COMMANDS: dict[str, Callable[[Settings, argparse.Namespace], int]] = {
    "backup": cmd_backup,
    "inspect": cmd_inspect,
    "verify": cmd_verify,
    "list": cmd_list,
    "restore": cmd_restore,
    "keep": _trial_command,
    "status": _trial_command,
    "watch": _trial_command,
    "install-units": _trial_command,
}



# --- output -----------------------------------------------------------------


def info_json(info: Any) -> dict[str, Any]:
    """The flat JSON form of a backup's information (documented in the README)."""
    return {
        "name": info.name,
        "kind": info.kind,
        "created_at": info.created_at,
        "format_version": info.format_version,
        "tool_version": info.tool_version,
        "product": info.product,
        "product_version": info.product_version,
        "instance_id": info.instance_id,
        "hostname": info.hostname,
        "files": len(info.files),
        "bytes": info.total_bytes,
        "components": info.components,
    }


def format_info(info: Any) -> str:
    return "\n".join(f"{label + ':':<13}{value}" for label, value in info_rows(info))


def _say(text: object = "", file: TextIO | None = None, end: str = "\n") -> None:
    """Print for a person. Every line goes through :func:`show` as well: whatever a message holds (a
    name from an archive, a path, a core message), no control character ever reaches the terminal."""
    lines = str(text).split("\n")
    try:
        (file or sys.stdout).write("\n".join(show(line, limit=None) for line in lines) + end)
    except OSError as exc:
        raise _OutputLost(exc) from exc


_NOT_PLAIN_ASCII = re.compile(r"[^\x20-\x7e\n]")


def json_text(data: Any, *, ascii_only: bool = False) -> str:
    """``data`` as JSON that is also safe on a terminal: readable text stays as it is; control and
    format characters (ESC, BEL, bidi overrides) and lone surrogates become ``\\uXXXX`` escapes, which
    every JSON reader turns back into the exact string. ``ascii_only`` escapes all but ASCII."""
    if ascii_only:
        return json.dumps(data, indent=2, ensure_ascii=True, default=str)  # every byte printable ASCII
    return _NOT_PLAIN_ASCII.sub(_json_escape, json.dumps(data, indent=2, ensure_ascii=False, default=str))


def _json_escape(match: re.Match[str]) -> str:
    ch = match.group()
    if show(ch, limit=None) == ch:
        return ch  # printable: é, 日本
    code = ord(ch)
    if code > 0xFFFF:  # JSON spells a character beyond the BMP as a surrogate pair
        code -= 0x10000
        return f"\\u{0xD800 + (code >> 10):04x}\\u{0xDC00 + (code & 0x3FF):04x}"
    return f"\\u{code:04x}"


def _print_json(data: Any) -> None:
    # stdout that cannot hold every character (PYTHONIOENCODING=ascii, an old locale) gets \uXXXX escapes:
    # still exactly the same JSON value, where the stream's own escapes would break the JSON.
    encoding = (getattr(sys.stdout, "encoding", None) or "utf-8").lower().replace("_", "-")
    try:
        sys.stdout.write(json_text(data, ascii_only=encoding not in ("utf-8", "utf8")) + "\n")
    except OSError as exc:
        raise _OutputLost(exc) from exc


class ProgressBar:
    """A one-line progress bar on stderr, only when stderr is a terminal.

    It never stops the work it shows: if the terminal cannot be written (the
    SSH session dropped), the bar turns itself off and the backup or restore
    goes on.
    """

    def __init__(self, label: str, stream: TextIO | None = None) -> None:
        self.label = label
        self.stream = stream or sys.stderr
        self.enabled = self.stream.isatty()
        self._last = 0.0

    def __enter__(self) -> ProgressBar:
        return self

    def __exit__(self, *exc: object) -> None:
        if self.enabled and self._last:
            self._write("\r\x1b[K")

    def _write(self, text: str) -> None:
        try:
            self.stream.write(text)
            self.stream.flush()
        except (OSError, ValueError):
            self.enabled = False

    def __call__(self, done: int, total: int, what: str) -> None:
        if not self.enabled:
            return
        now = time.monotonic()
        if now - self._last < 0.1 and done < total:
            return
        self._last = now
        frac = done / total if total else 1.0
        width = 24
        filled = int(frac * width)
        what = show(what, limit=None)
        what = what if len(what) <= 30 else "..." + what[-27:]
        self._write(f"\r{self.label} [{'#' * filled}{'.' * (width - filled)}] {frac:4.0%} {what}\x1b[K")
