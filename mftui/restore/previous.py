"""The previous configuration: what the last restore replaced, kept whole until the next one commits,
and putting it back (the undo of a restore, by the same journalled swap).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ..archive.format import BackupInfo, FileEntry
from ..digest import sha256_of
from ..errors import RestoreError
from ..instance import Instance, read_identity
from ..lock import instance_lock
from ..progress import Progress, no_progress
from ..settings import Settings
from ..state import checked_state_dir
from ..text import show_path
from . import fsops
from .changes import compute_changes, live_files
from .checks import check_plain_tree, preflight
from .journal import (
    PREVIOUS,
    UNDO,
    Journal,
    now,
    read_journal,
)
from .recovery import recover_locked
from .swap import commit_swap, prepared_journal
from .transaction import RestoreResult


@dataclass(frozen=True)
class PreviousConfiguration:
    """The configuration the last restore replaced, kept whole until the next restore."""

    path: Path
    files: int
    bytes: int
    instance_id: str
    hostname: str
    replaced_at: str  # when the restore that replaced it committed
    replaced_by: str  # what replaced it ("backup X", "the previous configuration")

    def describe(self) -> str:
        return (
            f"previous configuration (replaced {self.replaced_at} by {self.replaced_by}): "
            f"{self.files} files, hub {self.instance_id or '?'}, in {self.path}"
        )

    def to_json(self) -> dict[str, object]:
        return {
            "path": str(self.path),
            "files": self.files,
            "bytes": self.bytes,
            "instance_id": self.instance_id,
            "hostname": self.hostname,
            "replaced_at": self.replaced_at,
            "replaced_by": self.replaced_by,
        }


def previous_configuration(settings: Settings) -> PreviousConfiguration | None:
    """The configuration the last restore replaced, if it is still kept (and is the tree it set aside)."""
    state = checked_state_dir(settings, create=False)
    if state is None:
        return None
    prev = state / PREVIOUS
    try:
        journal = read_journal(state)
    except RestoreError:
        return None
    if journal is None or not is_recorded_previous(prev, journal):
        return None
    instance = Instance(settings)
    files = live_files(instance, prev)
    ident = read_identity(prev / "instance.json")
    return PreviousConfiguration(prev, len(files), sum(f.size for f in files.values()), ident.hub_id,
                                 ident.hostname, journal.previous_at, journal.previous_by or "a restore")


def restore_previous(settings: Settings, progress: Progress = no_progress) -> RestoreResult:
    """Put the previous tree back (undo the last restore), by the same journalled swap.

    The configuration it replaces becomes the previous tree in turn, so
    running it twice returns to where it started. During a trial this is
    the put back (the trial's record says "reverted", put back by hand);
    the caller asks for the reboot as after any restore.
    """
    import dataclasses

    from .transaction import log_restore

    try:
        with instance_lock(settings, "restore"):
            recover_locked(settings)
            from .trial import put_back_by_hand

            with put_back_by_hand(settings):  # a restore on trial, put back now: its record says so
                result = _undo(settings, progress)
    except BaseException as exc:
        log_restore(settings, "put-back", None, None, exc)
        raise
    problem = log_restore(settings, "put-back", None, result.changes, None)
    return dataclasses.replace(result, audit_problem=problem)


def _undo(settings: Settings, progress: Progress) -> RestoreResult:
    state = settings.state_dir
    prev = state / PREVIOUS
    if fsops.identity(prev) is None:
        raise RestoreError("there is no previous configuration to go back to: it is kept only after a restore, "
                           "until the next one")
    preflight(settings, create=True)
    last = read_journal(state)
    if last is None or not is_recorded_previous(prev, last):
        raise RestoreError(
            f"{show_path(prev)} is not the one the last restore set aside (it was replaced or moved since), so it "
            "is not put back; check who changed it, and restore a backup instead"
        )
    check_plain_tree(prev)
    instance = Instance(settings)
    kept = live_files(instance, prev)
    progress(0, 1, "reading the previous configuration")
    entries = []
    for rel, lf in sorted(kept.items()):
        digest = sha256_of(prev / rel) if lf.regular else None
        entries.append(FileEntry(rel, lf.size, digest or "0" * 64, lf.mode, instance.component_of(rel)))
    ident = read_identity(prev / "instance.json")
    info = BackupInfo(name="previous configuration", created_at=now(), tool_version="", product=ident.product,
                      product_version=ident.version, instance_id=ident.hub_id, hostname=ident.hostname,
                      files=tuple(entries), kind="previous")
    changes = compute_changes(settings, info)
    journal = prepared_journal(settings, UNDO, prev, prev, backup_name="previous configuration",
                               instance_id=ident.hub_id)
    carried, skipped = commit_swap(settings, journal)
    progress(1, 1, "done")
    return RestoreResult(info=info, safety_backup=prev, changes=changes, previous=prev, method=journal.method,
                         carried=carried, left_behind=tuple(skipped))


def is_recorded_previous(prev: Path, journal: Journal) -> bool:
    """Whether ``prev`` is the very tree the last committed restore set aside (by device and inode)."""
    found = fsops.identity(prev)
    return found is not None and list(found) == list(journal.previous_id) and prev.is_dir() and not prev.is_symlink()
