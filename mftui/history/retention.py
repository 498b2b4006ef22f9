"""Retention: which backups a unit keeps, deleting one, and pruning the rest as ``[retention]`` says.

Never removed by a prune: a pinned backup, the newest backup, the previous
configuration (the newest pre-restore safety backup), the newest backup of
each kind (so no kind is left without one), and a backup that cannot be read.
A backup is removed by renaming it to a hidden ``.deleting-<name>`` and then
unlinking that: a kill -9 leaves it whole (under one name or the other) or
gone, never a partial file under a backup's name. Hidden leftovers are
removed by the next prune or delete.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from ..archive.catalog import ListedBackup, unit_backups
from ..archive.format import SAFETY_KIND
from ..durable import fsync_path
from ..errors import MftuiError, UsageError
from ..lock import instance_lock
from ..settings import Settings
from ..text import show
from ..wording import os_error_sentence
from .audit import record
from .pins import check_name, pinned

DELETING_PREFIX = ".deleting-"

# Test seam: called after each step of a removal ("renamed <name>", "removed <name>"); a test kills there.
step_hook: Callable[[str], None] | None = None


@dataclass(frozen=True)
class PruneItem:
    """One backup in a prune: its file name, kind, time, and why it is kept or removed."""

    name: str
    kind: str | None
    created_at: str | None
    reason: str

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "kind": self.kind, "created_at": self.created_at, "reason": self.reason}


@dataclass(frozen=True)
class PrunePlan:
    """What a prune would remove and keep (nothing is changed by making one)."""

    remove: tuple[PruneItem, ...]
    keep: tuple[PruneItem, ...]
    keep_last: int | None = None
    keep_days: int | None = None


@dataclass(frozen=True)
class PruneResult:
    """What a prune removed (or, with ``dry_run``, would remove) and kept, and what went wrong."""

    removed: tuple[PruneItem, ...]
    kept: tuple[PruneItem, ...]
    dry_run: bool = False
    problems: tuple[str, ...] = field(default=())  # a removal that failed, the audit log not written
    keep_last: int | None = None
    keep_days: int | None = None

    @property
    def ok(self) -> bool:
        return not any(p for p in self.problems if not p.startswith("the audit log"))

    def to_json(self) -> dict[str, Any]:
        return {"ok": self.ok, "dry_run": self.dry_run,
                "rules": {"keep_last": self.keep_last, "keep_days": self.keep_days},
                "removed": [i.to_json() for i in self.removed], "kept": [i.to_json() for i in self.kept],
                "problems": list(self.problems)}


def delete_backup(settings: Settings, name: str) -> None:
    """Delete one backup by file name, under the instance lock (LockBusy while a backup or restore runs).

    Refuses (UsageError) a name that is not a backup file of the backups
    folder (a path, ``..``, a link, a folder) and a pinned backup.
    """
    check_name(settings, name)
    if name in pinned(settings):
        raise UsageError(f"the backup {show(name)!r} is pinned; unpin it first if you really mean to delete it")
    with instance_lock(settings, "delete"):
        path = check_name(settings, name)  # again, under the lock: it may have gone meanwhile
        _remove_leftovers(settings.backups_dir)
        try:
            _remove(path)
        except OSError as exc:
            record(settings, "delete", "failed", archive=path, detail=os_error_sentence(exc))
            raise UsageError(f"the backup {show(name)!r} could not be deleted ({os_error_sentence(exc)})") from None
    record(settings, "delete", "ok", archive=path)


def plan_prune(settings: Settings, now: datetime | None = None, *, just_made: Path | None = None) -> PrunePlan:
    """Which backups a prune would remove and keep, and why (StateError when the pins cannot be read).

    ``just_made``: the backup this run just made, always kept (another made in the same second may sort first).
    """
    now = now or datetime.now(UTC)
    rules = settings.retention
    pins = pinned(settings)
    listing = unit_backups(settings)  # through the catalog cache: 1,000 backups in a fraction of a second
    newest_of_kind: dict[str, str] = {}
    for b in listing:  # newest first: the first of each kind is its newest
        if b.info is not None:
            newest_of_kind.setdefault(b.info.kind, b.path.name)
    keep: list[PruneItem] = []
    remove: list[PruneItem] = []
    for position, b in enumerate(listing):
        item_kind = b.info.kind if b.info is not None else None
        created = b.info.created_at if b.info is not None else None
        why = "the backup just made" if just_made is not None and b.path.name == just_made.name else \
            _why_kept(settings, b, position, pins, newest_of_kind, now)
        if why is None:
            remove.append(PruneItem(b.path.name, item_kind, created, _why_removed(settings)))
        else:
            keep.append(PruneItem(b.path.name, item_kind, created, why))
    return PrunePlan(tuple(remove), tuple(keep), rules.keep_last, rules.keep_days)


def _why_kept(settings: Settings, b: ListedBackup, position: int, pins: frozenset[str],
              newest_of_kind: dict[str, str], now: datetime) -> str | None:
    """Why ``b`` stays, or None when no rule keeps it. The order is the order of importance."""
    rules = settings.retention
    if b.info is None:
        return f"it cannot be read ({show(b.problem)}), so mftui leaves it to you"
    if b.path.name in pins:
        return "pinned"
    if position == 0:
        return "the newest backup"
    if newest_of_kind.get(b.info.kind) == b.path.name:
        if b.info.kind == SAFETY_KIND:
            return "the previous configuration (the newest pre-restore backup)"
        return f"the newest backup of its kind ({b.info.kind})"
    if not rules.enabled:
        return "no [retention] rule is set, so every backup is kept"
    if rules.keep_last is not None and position < rules.keep_last:
        return f"one of the {rules.keep_last} newest (keep_last)"
    if rules.keep_days is not None and now - timedelta(days=rules.keep_days) < _made(b):
        return f"younger than {rules.keep_days} days (keep_days)"
    return None


def _made(b: ListedBackup) -> datetime:
    return datetime.fromtimestamp(b.sort_time, UTC)


def _why_removed(settings: Settings) -> str:
    rules = settings.retention
    parts = []
    if rules.keep_last is not None:
        parts.append(f"not one of the {rules.keep_last} newest")
    if rules.keep_days is not None:
        parts.append(f"older than {rules.keep_days} days")
    return " and ".join(parts)


def prune(settings: Settings, dry_run: bool = False, now: datetime | None = None) -> PruneResult:
    """Remove the backups ``[retention]`` does not keep (``dry_run``: only say which), under the instance lock."""
    if dry_run:
        plan = plan_prune(settings, now)
        return PruneResult(plan.remove, plan.keep, True, (), plan.keep_last, plan.keep_days)
    with instance_lock(settings, "prune"):
        return prune_locked(settings, now)


def prune_locked(settings: Settings, now: datetime | None = None, *, just_made: Path | None = None) -> PruneResult:
    """The prune itself; the caller holds the instance lock (a backup that just finished, or :func:`prune`)."""
    _remove_leftovers(settings.backups_dir)
    plan = plan_prune(settings, now, just_made=just_made)
    removed: list[PruneItem] = []
    problems: list[str] = []
    for item in reversed(plan.remove):  # oldest first: a prune cut short has removed the least useful
        try:
            _remove(settings.backups_dir / item.name)
            removed.insert(0, item)  # listed newest first, like the plan
        except OSError as exc:
            problems.append(f"{show(item.name)} could not be removed ({os_error_sentence(exc)})")
    outcome = "failed" if problems else ("ok" if removed else "none")
    logged = record(settings, "prune", outcome,
                    changes={"removed": [i.name for i in removed], "kept": len(plan.keep)},
                    detail="; ".join(problems) or None)
    if logged is not None:
        problems.append(logged)
    return PruneResult(tuple(removed), plan.keep, False, tuple(problems), plan.keep_last, plan.keep_days)


def prune_after_backup(settings: Settings, just_made: Path) -> PruneResult | None:
    """Apply ``[retention]`` after a backup (the caller holds the lock); None when no rule is set.

    Never raises: the backup is made whatever happens here; a failure is the result's problem.
    """
    if not settings.retention.enabled:
        return None
    try:
        return prune_locked(settings, just_made=just_made)
    except MftuiError as exc:
        return PruneResult((), (), False, (f"old backups were not pruned: {exc}",))
    except OSError as exc:
        return PruneResult((), (), False, (f"old backups were not pruned ({os_error_sentence(exc)})",))


def _remove(path: Path) -> None:
    """Rename to a hidden name, then unlink: whole or gone, at any kill."""
    hidden = path.with_name(DELETING_PREFIX + path.name)
    os.rename(path, hidden)
    fsync_path(path.parent)
    _step(f"renamed {path.name}")
    os.unlink(hidden)
    fsync_path(path.parent)
    _step(f"removed {path.name}")


def _remove_leftovers(backups_dir: Path) -> None:
    """Finish removals a killed mftui left half done (hidden ``.deleting-*`` files)."""
    try:
        leftovers = [p for p in backups_dir.iterdir() if p.name.startswith(DELETING_PREFIX) and p.is_file()]
    except OSError:
        return
    for p in leftovers:
        try:
            os.unlink(p)
        except OSError:
            pass  # tried again next time


def _step(name: str) -> None:
    if step_hook is not None:
        step_hook(name)
