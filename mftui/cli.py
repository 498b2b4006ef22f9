"""The command line: the same core as the TUI, for scripts and fleets.

Exit codes: 0 ok, 1 the operation failed, 2 usage or settings error.
Textual is imported only when the TUI starts.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TextIO

from . import __version__
from .errors import MftuiError
from .settings import Settings, load_settings, require_instance_root
from .wording import human_size, info_rows

EXIT_OK, EXIT_FAILED = 0, 1  # 2 (usage, settings) comes from the error's exit_code

EPILOG = """\
commands:
  (none)     start the terminal UI
  backup     back up the whole configuration into one .zip
  inspect    show a backup's information (--changes: what a restore would change)
  verify     check a backup's structure and every checksum
  list       list the backups, newest first
  restore    restore a backup (asks first; --yes for scripts)

exit codes:
  0  ok
  1  the operation failed (damaged archive, disk full, another backup running...)
  2  usage or settings error (bad option, broken settings file)

settings are read from --config, $MFTUI_CONFIG, /etc/mftui/config.toml or the
user config file; with none, mftui runs on its embedded demo instance.
"""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
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
    p.add_argument("--json", action="store_true", help="print a JSON object")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        # Recovery runs before anything insists the instance root exists: a restore cut between
        # its two renames (no RENAME_EXCHANGE) leaves no root until recovery puts one back.
        settings = load_settings(args.config, require_root=False)
        _recover(settings)
        require_instance_root(settings)
        if args.command is None:
            from .tui.app import run_tui

            return run_tui(settings, mouse=not args.no_mouse, low_bandwidth=args.low_bandwidth)
        return COMMANDS[args.command](settings, args)
    except MftuiError as exc:
        print(f"mftui: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("mftui: interrupted; nothing was changed", file=sys.stderr)
        return EXIT_FAILED


def _recover(settings: Settings) -> None:
    """Finish or roll back an interrupted restore before anything else runs."""
    from .restore import recover  # cheap: a look at the state folder unless a restore was interrupted

    message = recover(settings)
    if message:
        print(f"mftui: {message}", file=sys.stderr)


# --- commands ---------------------------------------------------------------


def cmd_backup(settings: Settings, args: argparse.Namespace) -> int:
    from .archive.writer import create_backup

    with ProgressBar("backup") as bar:
        result = create_backup(settings, args.name, progress=bar)
    info = result.info
    if args.json:
        _print_json({
            "path": str(result.path),
            "name": info.name,
            "created_at": info.created_at,
            "files": len(info.files),
            "bytes": info.total_bytes,
            "archive_bytes": result.archive_bytes,
            "components": info.components,
        })
    else:
        print(result.path)
    return EXIT_OK


def cmd_inspect(settings: Settings, args: argparse.Namespace) -> int:
    from .archive.reader import read_info

    info = read_info(args.file)
    data = info_json(info)
    changes = None
    if args.changes:
        from .restore import compare

        changes = compare(settings, args.file)
        data["changes"] = changes.to_json()
    if args.json:
        _print_json(data)
        return EXIT_OK
    print(format_info(info))
    if changes is not None:
        print()
        print(changes.describe())
    return EXIT_OK


def cmd_verify(settings: Settings, args: argparse.Namespace) -> int:
    from .restore import verify_backup

    try:
        with ProgressBar("verify") as bar:
            info = verify_backup(settings, args.file, progress=bar)
    except MftuiError as exc:
        if args.json:
            _print_json({"ok": False, "reason": str(exc)})
        else:
            print(f"mftui: {args.file}: {exc}", file=sys.stderr)
        return EXIT_FAILED
    if args.json:
        _print_json({"ok": True, "files": len(info.files), "bytes": info.total_bytes})
    else:
        print(f"{args.file}: ok ({len(info.files)} files, {human_size(info.total_bytes)}, every checksum matches)")
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
        print(f"no backups in {settings.backups_dir}")
    for b in backups:
        if b.info is None:
            print(f"{b.path.name}  (unreadable: {b.problem})")
        else:
            kind = "  [safety copy]" if b.info.kind == "safety" else ""
            print(f"{b.path.name}  {b.info.created_at}  {len(b.info.files)} files  {human_size(b.size)}{kind}")
    if previous is not None:
        print(f"{previous.describe()}\n  put it back with: mftui restore --previous")
    return EXIT_OK


def cmd_restore(settings: Settings, args: argparse.Namespace) -> int:
    """Restore a backup (or the previous configuration), asking first unless --yes; then reboot.

    Exit 0: restored (and the reboot requested, unless --no-reboot). Exit 1:
    refused, cancelled, failed (the live configuration is unchanged), or
    restored but the reboot request failed ("restored": true in --json).
    Exit 2: no FILE, or no terminal to ask on and no --yes.
    """
    from .errors import UsageError

    try:
        if args.previous == (args.file is not None):
            raise UsageError("restore takes a backup FILE, or --previous to undo the last restore (not both)")
        if not args.yes and not sys.stdin.isatty():
            raise UsageError("restore asks for confirmation on the terminal and there is none: "
                             "add --yes to restore from a script")
        return _restore(settings, args)
    except MftuiError as exc:
        if not args.json:
            raise
        _print_json({"ok": False, "restored": False, "reason": str(exc)})
        return exc.exit_code


def _restore(settings: Settings, args: argparse.Namespace) -> int:
    from .restore import plan_restore, previous_configuration, restore_backup, restore_previous

    # What the technician reads goes to stdout, or to stderr when stdout is for JSON.
    out = sys.stderr if args.json else sys.stdout
    plan = None
    if not args.yes:
        if args.previous:
            prev = previous_configuration(settings)
            if prev is None:
                from .errors import RestoreError

                raise RestoreError("there is no previous configuration to go back to: it is kept only after a "
                                   "restore, until the next one")
            print(f"Put back the {prev.describe()}", file=out)
            question = "Put the previous configuration back over the live one?"
            expected_id = ""
        else:
            with ProgressBar("checking") as bar:
                plan = plan_restore(settings, args.file, progress=bar)
            print(format_info(plan.info), file=out)
            print(file=out)
            print(plan.changes.describe(), file=out)
            question = f"Restore backup {plan.info.name!r} over the live configuration?"
            expected_id = plan.changes.archive_instance_id if plan.changes.other_unit else ""
        if not _confirm(question, expected_id):
            print("mftui: restore cancelled; nothing was changed", file=sys.stderr)
            if args.json:
                _print_json({"ok": False, "restored": False, "reason": "cancelled"})
            return EXIT_FAILED
    try:
        with ProgressBar("restore") as bar:
            result = restore_previous(settings, progress=bar) if args.previous else \
                restore_backup(settings, plan or args.file, progress=bar)  # the plan: exactly what was shown
    except KeyboardInterrupt:
        # Interrupted in the middle: say honestly where the instance stands.
        from .restore import recover

        said = recover(settings)
        print(f"mftui: interrupted; {said or 'nothing was changed'}", file=sys.stderr)
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
        "changes": result.changes.to_json(),
    }
    if not args.previous:
        data["path"] = str(args.file)
    print(result.summary, file=out)
    code = EXIT_OK
    if args.no_reboot:
        data["reboot"] = {"requested": False}
        print("Not rebooting (--no-reboot): restart the unit to run the restored configuration.", file=out)
    else:
        from .errors import RebootError
        from .reboot import reboot_service

        try:
            outcome = reboot_service(settings).request_reboot()
        except RebootError as exc:
            data["ok"] = False
            data["reboot"] = {"requested": True, "ok": False, "message": str(exc)}
            print(f"mftui: the restore is committed, but the reboot request failed: {exc}", file=sys.stderr)
            code = EXIT_FAILED
        else:
            data["reboot"] = {"requested": True, "ok": True, "backend": outcome.backend, "real": outcome.real,
                              "message": outcome.message}
            print(outcome.message, file=out)
    if args.json:
        _print_json(data)
    return code


def _confirm(question: str, expected_id: str = "") -> bool:
    """Ask on the terminal; the default is No. A clone must be confirmed by typing the source hub id."""
    try:
        if expected_id:
            sys.stderr.write(
                f"{question}\nThis backup comes from another unit. To clone it onto this one, type its hub id "
                f"({expected_id}); anything else cancels: "
            )
            sys.stderr.flush()
            return sys.stdin.readline().strip().lower() == expected_id.strip().lower()
        sys.stderr.write(f"{question} [y/N] ")
        sys.stderr.flush()
        return sys.stdin.readline().strip().lower() in ("y", "yes")
    except (EOFError, OSError):
        return False


COMMANDS = {
    "backup": cmd_backup,
    "inspect": cmd_inspect,
    "verify": cmd_verify,
    "list": cmd_list,
    "restore": cmd_restore,
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


def _print_json(data: Any) -> None:
    print(json.dumps(data, indent=2, ensure_ascii=False))


class ProgressBar:
    """A one-line progress bar on stderr, only when stderr is a terminal."""

    def __init__(self, label: str, stream: TextIO | None = None) -> None:
        self.label = label
        self.stream = stream or sys.stderr
        self.enabled = self.stream.isatty()
        self._last = 0.0

    def __enter__(self) -> ProgressBar:
        return self

    def __exit__(self, *exc: object) -> None:
        if self.enabled and self._last:
            self.stream.write("\r\x1b[K")
            self.stream.flush()

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
        what = what if len(what) <= 30 else "..." + what[-27:]
        self.stream.write(f"\r{self.label} [{'#' * filled}{'.' * (width - filled)}] {frac:4.0%} {what}\x1b[K")
        self.stream.flush()
