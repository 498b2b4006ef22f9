"""What happens around a backup: ``--if-changed`` (is the configuration the newest backup's?), and after
one is made: the audit log line and ``[retention]``.

Called by archive.writer.create_backup under the instance lock, so the CLI and the TUI get the same.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import TYPE_CHECKING

from ..archive.catalog import unit_backups
from ..archive.format import FileEntry
from ..digest import sha256_of
from ..errors import ArchiveError
from ..instance import ConfigFile, Instance
from ..settings import Settings
from ..text import show
from .audit import record
from .retention import prune_after_backup

if TYPE_CHECKING:
    from ..archive.writer import BackupResult


def unchanged_backup(settings: Settings) -> tuple[BackupResult | None, str]:
    """The newest backup when the live configuration is byte for byte its configuration (no backup needed).

    Returns (that backup as a "not made" result, "") or (None, a note saying
    why a backup is made anyway, "" when it simply differs). The caller holds the lock.
    """
    from ..archive.protected import is_protected
    from ..archive.reader import read_info
    from ..archive.writer import BackupResult

    newest = next((b for b in unit_backups(settings) if b.info is not None), None)
    if newest is None:
        return None, ""
    if is_protected(newest.path):
        return None, (f"the newest backup {show(newest.path.name)} is encrypted or signed, so mftui cannot compare "
                      "the configuration with it; a backup is made")
    try:
        info = read_info(newest.path, budgets=settings.budgets)
    except (ArchiveError, OSError):
        return None, f"the newest backup {show(newest.path.name)} cannot be read to compare with; a backup is made"
    if not _same(Instance(settings), info.files):
        return None, ""
    reason = f"the configuration is byte for byte the one in the newest backup, {show(newest.path.name)}"
    return BackupResult(newest.path, info, newest.size, made=False, reason=reason,
                        sha256=sha256_of(newest.path) or ""), ""


def _same(instance: Instance, manifest: Sequence[FileEntry]) -> bool:
    """Same paths, sizes and modes (cheap, first), then the same SHA-256 for every file."""
    live: dict[str, ConfigFile] = {f.path: f for f in instance.scan()}
    entries = {e.path: e for e in manifest}
    if live.keys() != entries.keys():
        return False
    for path, f in live.items():
        if (f.size, f.mode) != (entries[path].size, entries[path].mode):
            return False
    return all(sha256_of(instance.root / path) == entries[path].sha256 for path in live)


def after_backup(settings: Settings, result: BackupResult, note: str = "") -> BackupResult:
    """A backup was made: log it, apply [retention]; what went wrong is in ``notes`` (never raised)."""
    notes = [note] if note else []
    digest = sha256_of(result.path) or ""
    logged = record(settings, "backup", "ok", archive=result.path, sha256=digest, detail=f"kind {result.info.kind}")
    if logged is not None:
        notes.append(logged)
    pruned = prune_after_backup(settings, result.path)
    if pruned is not None:
        notes += pruned.problems
    return dataclasses.replace(result, pruned=pruned, notes=tuple(notes), sha256=digest)
