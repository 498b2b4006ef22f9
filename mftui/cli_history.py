"""The command line of the backups a unit keeps: ``prune``, ``log``, ``delete``, ``pin``, ``unpin`` (issue 13).

Registered by cli.py (COMMAND_MODULES): HELP lines go in ``mftui --help``, add_parsers adds the
subcommands, COMMANDS runs them. Import only what --help needs at the top; the work is imported lazily.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from .settings import Settings

if TYPE_CHECKING:
    from .history.audit import AuditEntry
    from .history.retention import PruneItem, PruneResult

HELP: list[str] = [
    "prune      remove old backups as [retention] says (--dry-run: only say which)",
    "log        who did what: backups, copies, restores, prunes... (the audit log)",
    "delete     delete one backup (asks first; --yes for scripts; never a pinned one)",
    "pin        pin a backup: retention never removes it (unpin: undo)",
]


def add_parsers(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add this module's subcommands to mftui's parser."""
    p = sub.add_parser("prune", help="remove old backups as [retention] keep_last / keep_days say")
    p.add_argument("--dry-run", action="store_true", help="remove nothing; say what would be removed and kept, and why")
    p.add_argument("--json", action="store_true", help="print a JSON object")
    p = sub.add_parser("log", help="the audit log, oldest first: who did what, when, from where")
    p.add_argument("--since", metavar="DATE", help="only entries from DATE on (2026-11-01, or 2026-11-01T08:00; UTC)")
    p.add_argument("--json", action="store_true", help="print a JSON object")
    p = sub.add_parser("delete", help="delete one backup of the backups folder (asks first)")
    p.add_argument("name", help="the backup's file name, as mftui list shows it")
    p.add_argument("--yes", action="store_true", help="do not ask (for scripts)")
    p.add_argument("--json", action="store_true", help="print a JSON object")
    for command, what in (("pin", "pin a backup: retention never removes it"), ("unpin", "unpin a backup")):
        p = sub.add_parser(command, help=what)
        p.add_argument("name", help="the backup's file name, as mftui list shows it")
        p.add_argument("--json", action="store_true", help="print a JSON object")


def cmd_delete(settings: Settings, args: argparse.Namespace) -> int:
    """The Backups screen's x: one backup deleted, under the instance lock, after a [y/N] (default No)."""
    import sys

    from .cli_output import _print_json, _say
    from .errors import MftuiError, UsageError
    from .history.pins import check_name
    from .history.retention import delete_backup
    from .text import show

    check_name(settings, args.name)  # a name that is not a backup is said before anything is asked
    if not args.yes:
        if not sys.stdin.isatty():
            raise UsageError("delete asks for confirmation on the terminal and there is none: add --yes to delete "
                             "from a script")
        from .cli_restore import _confirm

        if not _confirm(f"Delete the backup {show(args.name)}? It cannot be undone."):
            raise MftuiError("not deleted (the answer was not yes); nothing was changed")
    delete_backup(settings, args.name)
    if args.json:
        _print_json({"ok": True, "deleted": args.name})
    else:
        _say(f"deleted {show(args.name)}")
    return 0


def cmd_pin(settings: Settings, args: argparse.Namespace) -> int:
    """pin / unpin NAME: what the Backups screen's p does."""
    from .cli_output import _print_json, _say
    from .history.pins import set_pin
    from .text import show

    pin = args.command == "pin"
    set_pin(settings, args.name, pin)
    if args.json:
        _print_json({"ok": True, "name": args.name, "pinned": pin})
    else:
        _say(f"{show(args.name)} is {'pinned: retention never removes it' if pin else 'no longer pinned'}")
    return 0


def cmd_prune(settings: Settings, args: argparse.Namespace) -> int:
    """Remove (or with --dry-run, list) the backups no [retention] rule keeps; exit 1 when a removal failed."""
    from .cli_output import _print_json, _say
    from .history.retention import prune

    result = prune(settings, dry_run=args.dry_run)
    if args.json:
        _print_json(result.to_json())
    else:
        _say(_prune_text(settings, result))
    if result.problems:
        import sys

        from .text import show

        for problem in result.problems:
            _say(f"mftui: {show(problem, limit=None)}", sys.stderr)
    return 0 if result.ok else 1


def _prune_text(settings: Settings, result: PruneResult) -> str:
    from .text import show_path

    lines = []
    if result.keep_last is None and result.keep_days is None:
        where = show_path(settings.source) if settings.source is not None else "the settings"
        lines.append(f"no [retention] rule is set (keep_last, keep_days in {where}): every backup is kept")
    verb = "would remove" if result.dry_run else "removed"
    if result.removed:
        lines.append(f"{verb} {len(result.removed)} backup(s):")
        lines += [_item(i) for i in result.removed]
    else:
        lines.append(f"{verb} nothing")
    if result.dry_run:
        lines.append(f"would keep {len(result.kept)} backup(s):")
        lines += [_item(i) for i in result.kept]
    else:
        lines.append(f"kept {len(result.kept)} backup(s) (mftui prune --dry-run says why)")
    return "\n".join(lines)


def _item(item: PruneItem) -> str:
    from .text import show

    return f"  {show(item.name, limit=None)}  ({show(item.reason, limit=None)})"


def cmd_log(settings: Settings, args: argparse.Namespace) -> int:
    """The audit log, oldest first; a damaged line is reported on stderr (and in "problems"), never fatal."""
    import sys

    from .cli_output import _print_json, _say
    from .history.audit import read_log
    from .text import show

    since = parse_since(args.since) if args.since else None
    entries, problems = read_log(settings, since)
    if args.json:
        _print_json({"ok": True, "entries": [e.to_json() for e in entries], "problems": problems})
    else:
        if not entries:
            _say("the audit log is empty" + (" since then" if since else ""))
        for entry in entries:
            _say(log_line(entry))
    for problem in problems:
        _say(f"mftui: {show(problem, limit=None)}", sys.stderr)
    return 0


def parse_since(text: str) -> datetime:
    """``--since``: an ISO date or date and time (UTC unless it says otherwise); UsageError otherwise."""
    from .errors import UsageError
    from .text import show

    try:
        moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise UsageError(f"--since {show(text)!r} is not a date: write it as 2026-11-01 or 2026-11-01T08:00 "
                         "(UTC)") from None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def log_line(entry: AuditEntry) -> str:
    """One entry for people: time, action, outcome, archive, changes, who and where from, detail; escaped."""
    from .text import show

    parts = [show(entry.time.replace("T", " "), limit=40), show(entry.action, limit=20),
             show(entry.outcome, limit=20)]
    if entry.archive:
        parts.append(show(entry.archive))
    if entry.changes:
        parts.append(_changes(entry.changes))
    parts.append(f"by {show(entry.user or '?', limit=40)} ({show(entry.where or '?', limit=60)})")
    if entry.detail:
        parts.append(f"- {show(entry.detail, limit=200)}")
    return "  ".join(parts)


def _changes(changes: dict[str, Any]) -> str:
    from .text import show

    words = []
    for key, value in changes.items():
        shown = len(value) if isinstance(value, list) else value
        words.append(f"{show(str(key), limit=20)} {show(str(shown), limit=20)}")
    return ", ".join(words)


COMMANDS: dict[str, Callable[[Settings, argparse.Namespace], int]] = {
    "delete": cmd_delete,
    "pin": cmd_pin,
    "unpin": cmd_pin,
    "prune": cmd_prune,
    "log": cmd_log,
}
