"""The commands on the backups folder: ``backup``, ``list``, ``copy`` (Download Zip without the TUI).

Run through cli.py's COMMANDS (imported when one of them runs); exit codes and ``--json`` as everywhere.
"""

from __future__ import annotations

import argparse
import sys

from .cli_output import ProgressBar, _print_json, _say
from .cli_protect import backup_protector
from .errors import MftuiError
from .settings import Settings
from .text import show, show_path
from .wording import human_size

EXIT_OK = 0


def cmd_backup(settings: Settings, args: argparse.Namespace) -> int:
    from .archive.writer import create_backup

    protect = backup_protector(settings, args)
    kind = "scheduled" if args.scheduled else "manual"
    with ProgressBar("backup") as bar:
        result = create_backup(settings, args.name, progress=bar, protect=protect, kind=kind,
                               if_changed=args.if_changed)
    info = result.info
    for note in result.notes:  # the audit log not written, a prune that failed: the backup itself is made
        _say(f"mftui: {show(note, limit=None)}", sys.stderr)
    pruned = [i.name for i in result.pruned.removed] if result.pruned is not None else []
    for name in pruned:
        _say(f"mftui: removed the old backup {show(name, limit=None)} ([retention])", sys.stderr)
    if args.json:
        if not result.made:
            _print_json({"ok": True, "made": False, "reason": result.reason, "path": str(result.path),
                         "sha256": result.sha256, "kind": kind})
            return EXIT_OK
        _print_json({
            "ok": True,
            "made": True,
            "kind": info.kind,
            "path": str(result.path),
            "sha256": result.sha256,
            "name": info.name,
            "created_at": info.created_at,
            "files": len(info.files),
            "bytes": info.total_bytes,
            "archive_bytes": result.archive_bytes,
            "components": info.components,
            "encrypted": protect.encryption if protect.encryption != "none" else False,
            "recipients": list(protect.names),
            "signed": protect.sign_key is not None,
            "pruned": pruned,
        })
    elif not result.made:
        _say(f"no backup made: {show(result.reason, limit=None)}")
    else:
        _say(show_path(result.path))
    return EXIT_OK


def cmd_list(settings: Settings, args: argparse.Namespace) -> int:
    from .archive.catalog import unit_backups
    from .restore import previous_configuration

    backups = unit_backups(settings)  # through the cache in the state folder: 1,000 backups list at once
    previous = previous_configuration(settings)  # the tree the last restore replaced, kept whole
    from .protection import signature_status

    signatures = {b.path: signature_status(b.protected, settings) for b in backups if b.info is not None}
    pins = _pins(settings)
    if args.json:
        rows = [b.to_json() for b in backups]
        for row, b in zip(rows, backups, strict=True):
            if b.path in signatures:
                row["signature"] = signatures[b.path].to_json()
            row["pinned"] = b.path.name in pins
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
            kind = {"safety": "  [safety copy]", "scheduled": "  [scheduled]"}.get(b.info.kind, "")
            kind += "  [pinned]" if b.path.name in pins else ""
            protection = ""  # a protected backup gets a second line: encrypted how, signed by whom
            if b.protected is not None:
                protection = f"\n  {b.protected.protection.describe()}; {signatures[b.path].describe()}"
            _say(f"{show_path(b.path.name)}  {show(b.info.created_at, limit=40)}  {len(b.info.files)} files  "
                 f"{human_size(b.size)}{kind}{protection}")
    if previous is not None:
        _say(f"{previous.describe()}\n  put it back with: mftui restore --previous")
    return EXIT_OK


def _pins(settings: Settings) -> frozenset[str]:
    """The pinned backups' names; a damaged pins file is said and lists none (listing never fails on it)."""
    from .history.pins import pinned

    try:
        return pinned(settings)
    except MftuiError as exc:
        _say(f"mftui: {exc}", sys.stderr)
        return frozenset()


def cmd_copy(settings: Settings, args: argparse.Namespace) -> int:
    """Download Zip without the TUI: the copy is fsync'ed, read back and compared before it gets its name."""
    from .transfer.audit import copy_recorded

    result = copy_recorded(settings, args.file, args.folder)  # in the audit log, as Download Zip's copies
    if args.json:
        _print_json({"ok": True, "path": str(result.path), "bytes": result.size, "sha256": result.sha256,
                     "already_there": result.already_there})
    else:
        again = " (an identical copy was already there)" if result.already_there else ""
        _say(f"{show_path(result.path)}: {human_size(result.size)}, read back and checked (SHA-256 "
             f"{result.sha256}){again}")
    return EXIT_OK
