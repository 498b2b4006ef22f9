"""The command line of what changed between backups: ``diff`` (issue 13).

Registered by cli.py (COMMAND_MODULES): HELP lines go in ``mftui --help``, add_parsers adds the
subcommands, COMMANDS runs them. Import only what --help needs at the top; the work is imported lazily.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .cli_protect import add_key_options
from .settings import Settings

if TYPE_CHECKING:
    from .history.diff import Diff, FileChange

HELP: list[str] = ["diff       what changed between two backups, or a backup and the live configuration"]

MARK = {"added": "+", "changed": "~", "removed": "-"}


def add_parsers(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add this module's subcommands to mftui's parser."""
    p = sub.add_parser("diff", help="what changed between two backups (B: default the live configuration)")
    p.add_argument("a", type=Path, metavar="A", help="a backup (.zip): what it was")
    p.add_argument("b", type=Path, metavar="B", nargs="?",
                   help="another backup (.zip): what it became (default: the live configuration)")
    p.add_argument("--json", action="store_true", help="print a JSON object (the list; never a secret's content)")
    add_key_options(p)


def cmd_diff(settings: Settings, args: argparse.Namespace) -> int:
    """Added, changed and removed files by component, then the unified diff of each changed text file."""
    from contextlib import ExitStack

    from .cli_protect import opened
    from .history.diff import diff_backups

    with ExitStack() as stack:
        plain_a = stack.enter_context(opened(settings, args, args.a)).plain
        plain_b = stack.enter_context(opened(settings, args, args.b)).plain if args.b is not None else None
        names = (args.a.name, args.b.name if args.b is not None else "live")
        diff = stack.enter_context(diff_backups(settings, plain_a, plain_b, names=names))
        if args.json:
            from .cli_output import _print_json

            _print_json(diff_json(diff))
        else:
            _print_text(diff)
    return 0


def diff_json(diff: Diff) -> dict[str, Any]:
    """docs/schemas/diff.json: the counts, by component, and each file (a secret: flags and hashes only)."""
    by_component = {
        component: {kind: sum(1 for c in changes if c.change == kind) for kind in MARK}
        for component, changes in diff.by_component().items()
    }
    return {
        "ok": True, "a": diff.name_a, "b": diff.name_b, "live": diff.live,
        **{kind: diff.count(kind) for kind in MARK}, "unchanged": diff.unchanged,
        "by_component": by_component, "files": [d.to_json() for d in diff.details()],
    }


def _print_text(diff: Diff) -> None:
    from .cli_output import _say
    from .text import show

    target = "the live configuration" if diff.live else show(diff.name_b)
    counts = ", ".join(f"{diff.count(kind)} {kind}" for kind in MARK)
    _say(f"What changed from {show(diff.name_a)} to {target}: {counts}, {diff.unchanged} unchanged")
    if not diff.changes:
        _say("  nothing: every file is the same")
        return
    for component, changes in diff.by_component().items():
        _say(f"{show(component)}:")
        for change in changes:
            _say(f"  {MARK[change.change]} {show(change.path, limit=None)}  {_words(change)}")
    for detail in diff.details():
        _say()
        _say(f"== {show(detail.change.path, limit=None)}: {detail.summary}")
        for line in detail.shown():
            _say(line)


def _words(change: FileChange) -> str:
    """What the list says before any file is read: the kind, the size, and "secret" by the file's name."""
    from .wording import human_size

    size = change.size_b if change.size_b is not None else change.size_a
    secret = ", secret" if change.secret else ""
    return f"{change.change} ({human_size(size or 0)}{secret})"


COMMANDS: dict[str, Callable[[Settings, argparse.Namespace], int]] = {"diff": cmd_diff}
