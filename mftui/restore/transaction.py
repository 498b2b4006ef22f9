"""The restore transaction: validate and stage, then swap under a journal; and recovery.

Phase one (the live tree is not touched): every container, name, manifest
and budget check; extraction into a fresh ``staging-*`` folder in the state
dir (same filesystem as the instance root), size and SHA-256 checked while
writing; one ``syncfs``.

Phase two: a safety archive of the live configuration when that is cheap
(see SAFETY_ARCHIVE_MAX_BYTES; the previous tree is kept whole in any case),
the journal (``prepared``), an atomic exchange of staging and the instance
root (``renameat2(RENAME_EXCHANGE)``; a journalled pair of renames where the
filesystem lacks it), fsync of both parents, the carry-over of everything
that is not configuration (logs, caches, historian data, excluded files and
the folder skeleton) from the old tree into the new one by rename, the old
tree renamed to ``previous``, the journal ``committed``.

Recovery (:func:`recover`, run at every start) reads the journal and finds
each tree by (device, inode): if the instance root is still the old tree it
rolls back (removes staging); if the new tree is in place, or half-way
through the pair of renames, it finishes. Every step is idempotent, so a
recovery killed half-way is finished by the next one.
"""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import tempfile
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from ..archive.extract import stage
from ..archive.format import BackupInfo, FileEntry
from ..archive.validate import Archive, open_archive
from ..durable import fsync_path
from ..errors import ArchiveError, BackupError, LockBusy, RestoreError, UnrestorableError
from ..instance import Instance, matches, read_identity
from ..lock import instance_lock
from ..progress import Progress, no_progress
from ..settings import MIB, Settings
from ..state import checked_state_dir
from ..text import show, show_path
from . import fsops
from .changes import Changes, compute_changes, live_files, sha256_of
from .journal import (
    COMMITTED,
    PREPARED,
    RESTORE,
    ROLLED_BACK,
    STAGING_PREFIX,
    TRASH_PREFIX,
    UNDO,
    Journal,
    journal_path,
    now,
    read_journal,
    recovery_pending,
    write_journal,
)

# Above this much live configuration, no safety archive is written: the
# previous tree (kept whole, by rename, at no cost) is the safety copy. Below
# it, the archive costs well under a second and gives the technician a normal
# backup file, listed by `mftui list`, that survives later restores.
SAFETY_ARCHIVE_MAX_BYTES = 32 * MIB
SAFETY_NAME = "pre-restore"

PREVIOUS = "previous"
ASIDE = "aside"

# Test seam: called with the name of each step of phase two and of recovery,
# right after that step is done (a test kills the process there).
step_hook: Callable[[str], None] | None = None


def _step(name: str) -> None:
    if step_hook is not None:
        step_hook(name)


@dataclass(frozen=True)
class RestorePlan:
    """A backup that passed every check, and what restoring it would change."""

    path: Path
    info: BackupInfo
    changes: Changes
    identity: tuple[int, int] = (0, 0)  # (device, inode) of the file that was checked


@dataclass(frozen=True)
class RestoreResult:
    """A committed restore."""

    info: BackupInfo
    safety_backup: Path  # the safety archive, or the previous tree when no archive was written
    changes: Changes
    previous: Path = Path()  # the previous tree (the replaced configuration, kept until the next restore)
    safety_archive: Path | None = None  # the pre-restore archive, when one was written
    method: str = ""  # "exchange" (atomic) or "renames" (journalled pair)
    carried: int = 0  # items of the instance folder carried over (logs, caches, ...)
    left_behind: tuple[str, ...] = field(default=())  # non-configuration paths that could not be carried over

    @property
    def summary(self) -> str:
        """One or two sentences for the technician."""
        if self.safety_archive is not None:
            safety = f"the configuration it replaced is saved in {self.safety_archive}"
        else:
            safety = (
                f"the configuration it replaced is kept whole in {self.previous} until the next restore "
                "(mftui restore --previous puts it back)"
            )
        return f"Restored {len(self.info.files)} files from backup '{show(self.info.name)}'; {safety}."


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


# --- public operations --------------------------------------------------------------


def compare(settings: Settings, path: Path) -> Changes:
    """What restoring ``path`` would change. Reads the archive's headers and backup.json only.

    Raises ArchiveError for an archive the strict container and name checks
    refuse (its file data is not inflated: plan_restore does that).
    """
    with open_archive(Path(path), settings.budgets) as archive:
        info = archive.backup_info
    return compute_changes(settings, info)


def plan_restore(settings: Settings, path: Path, progress: Progress = no_progress) -> RestorePlan:
    """Every check a restore makes before touching anything, and the changes it would make.

    Inflates every entry (checksums, budgets), refuses another product or a
    newer format, and checks that the instance folder can be swapped.
    Raises ArchiveError (the archive) or RestoreError (the instance).
    """
    path = Path(path)
    _preflight(settings, create=False)
    with open_archive(path, settings.budgets) as archive:
        _check_restorable(settings, archive)
        archive.verify_all(progress)
        info = archive.backup_info
        identity = archive.identity()
    return RestorePlan(path, info, compute_changes(settings, info), identity)


def verify_backup(settings: Settings, path: Path, progress: Progress = no_progress) -> BackupInfo:
    """Every check a restore of ``path`` makes on the archive, with this unit's settings; raise the first refusal.

    One set of checks, one answer: the container and names, the manifest,
    every checksum, the ``[limits]`` budgets, ``include``/``exclude`` and the
    product. What ``verify`` accepts, a restore accepts (the instance aside:
    :func:`plan_restore` also checks the instance folder can be swapped).
    """
    with open_archive(Path(path), settings.budgets) as archive:
        _check_restorable(settings, archive)
        archive.verify_all(progress)
        return archive.backup_info


def restore_backup(settings: Settings, backup: Path | RestorePlan, progress: Progress = no_progress, *,
                   discard_previous: bool = False) -> RestoreResult:
    """Restore a backup: phase one (validate, stage), phase two (safety copy, journal, swap).

    ``backup`` is a path, or the :class:`RestorePlan` a technician was shown:
    then exactly that file is restored (the same file, and a backup.json
    that says the same), or nothing (the file was replaced or rewritten
    since it was checked). The previous configuration (what the last
    restore replaced) is kept until this one commits; when the disk lacks
    the room for both, the restore is refused unless ``discard_previous``.

    Holds the instance lock throughout (LockBusy if another backup or
    restore runs). Never reboots. On any failure before the swap the live
    configuration is unchanged and staging is removed; after the swap the
    restore is finished, here or by recovery.
    """
    plan = backup if isinstance(backup, RestorePlan) else None
    path = plan.path if plan is not None else Path(backup)  # type: ignore[arg-type]
    with instance_lock(settings, "restore"):
        _recover_locked(settings)
        return _Restore(settings, path, progress, plan, discard_previous).run()


def recover(settings: Settings) -> str | None:
    """Finish or roll back an interrupted restore; a sentence saying what was done, or None.

    Cheap when there is nothing to do (no lock taken, nothing created). Safe
    to run at every start, and safe if it is itself interrupted. If another
    mftui holds the lock, that one is alive and nothing is interrupted.
    """
    state = checked_state_dir(settings, create=False)
    if state is None or not recovery_pending(state):
        return None
    try:
        with instance_lock(settings, "recovery"):
            return _recover_locked(settings)
    except LockBusy:
        return None


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
    if journal is None or not _is_recorded_previous(prev, journal):
        return None
    instance = Instance(settings)
    files = live_files(instance, prev)
    ident = read_identity(prev / "instance.json")
    return PreviousConfiguration(prev, len(files), sum(f.size for f in files.values()), ident.hub_id,
                                 ident.hostname, journal.previous_at, journal.previous_by or "a restore")


def restore_previous(settings: Settings, progress: Progress = no_progress) -> RestoreResult:
    """Put the previous tree back (undo the last restore), by the same journalled swap.

    The configuration it replaces becomes the previous tree in turn, so
    running it twice returns to where it started.
    """
    with instance_lock(settings, "restore"):
        _recover_locked(settings)
        return _undo(settings, progress)


# --- phase one and two ---------------------------------------------------------------


class _Restore:
    def __init__(self, settings: Settings, path: Path, progress: Progress, plan: RestorePlan | None,
                 discard_previous: bool) -> None:
        self.settings = settings
        self.path = path
        self.progress = progress
        self.plan = plan
        self.discard_previous = discard_previous
        self.state = settings.state_dir
        self.root = settings.instance_root

    def run(self) -> RestoreResult:
        _preflight(self.settings, create=True)
        with open_archive(self.path, self.settings.budgets) as archive:
            if self.plan is not None:
                _check_same_as_shown(self.plan, archive)
            _check_restorable(self.settings, archive)
            info = archive.backup_info
            need = archive.total_bytes + 4096 * (len(archive.members) + 1)  # data, and a block's slack per file
            self._make_room(need)
            staging, changes, safety = self._phase_one(archive)
        return self._phase_two(info, staging, changes, safety)

    def _make_room(self, need: int) -> None:
        """Refuse a restore that would not fit; the previous configuration goes only if the technician says so."""
        free = _free_bytes(self.state)
        if free >= need:
            return
        prev = self.state / PREVIOUS
        kept = fsops.identity(prev) is not None
        if kept and self.discard_previous:
            _remove_quietly(prev)  # its space is needed now, not after a removal in the background
            free = _free_bytes(self.state)
            if free >= need:
                return
        if kept and not self.discard_previous and free + _tree_bytes(prev) >= need:
            raise RestoreError(
                f"the disk holding the instance has {_mib(free)} free, and staging this backup needs about "
                f"{_mib(need)}; the previous configuration (what the last restore replaced, kept so that it can be "
                f"put back) takes {_mib(_tree_bytes(prev))}. Free some space, or restore with --discard-previous "
                "(it can then no longer be put back); nothing was changed"
            )
        raise RestoreError(
            f"the disk holding the instance has {_mib(free)} free, and staging this backup needs about "
            f"{_mib(need)} (the new configuration is written beside the live one before the swap); "
            "free some space and try again; nothing was changed"
        )

    def _phase_one(self, archive: Archive) -> tuple[Path, Changes, Path | None]:
        instance = Instance(self.settings)
        try:
            staging = Path(tempfile.mkdtemp(prefix=STAGING_PREFIX, dir=self.state))
        except OSError as exc:
            raise RestoreError(f"cannot create the staging folder in {self.state} ({exc.strerror}); "
                               "nothing was changed") from None
        try:
            live = live_files(instance, self.root)
            live_bytes = sum(f.size for f in live.values())
            write_safety = live_bytes <= SAFETY_ARCHIVE_MAX_BYTES
            staged_total = archive.total_bytes
            total = staged_total + (live_bytes if write_safety else 0)

            # What changes is computed from the live tree while staging writes
            # the new one: the hashing overlaps the inflating (both release the GIL).
            with ThreadPoolExecutor(max_workers=1, thread_name_prefix="mftui-changes") as pool:
                pending = pool.submit(compute_changes, self.settings, archive.backup_info, live)
                stage(archive, staging, self.root, lambda d, _t, w: self.progress(d, total, w))
                changes = pending.result()
            safety = None
            if write_safety:
                safety = self._safety_archive(instance, lambda d, _t, w: self.progress(staged_total + d, total, w))
                if safety is not None:
                    _step("safety-backup")
            self.progress(total, total, "making the staged files durable")
            fsops.sync_filesystem(staging)
            _step("staged")
        except BaseException as exc:
            _remove_quietly(staging)
            if isinstance(exc, OSError):
                raise RestoreError(
                    f"the restore could not prepare the new configuration ({exc.strerror or exc}); "
                    "nothing was changed"
                ) from None
            raise
        return staging, changes, safety

    def _safety_archive(self, instance: Instance, progress: Progress) -> Path | None:
        """The pre-restore archive; None when the live configuration holds what no restorable backup can."""
        from ..archive.writer import write_backup

        try:
            result = write_backup(instance, self.settings.backups_dir, SAFETY_NAME, kind="safety",
                                  progress=progress)
        except UnrestorableError:
            # A name (or a size) the restore refuses: an archive of it could never be restored, and the
            # previous tree, kept whole by rename, is the safety copy in any case.
            return None
        except BackupError as exc:
            raise RestoreError(f"the safety backup of the live configuration could not be made, so nothing "
                               f"was changed: {exc}") from None
        return result.path

    def _phase_two(self, info: BackupInfo, staging: Path, changes: Changes, safety: Path | None) -> RestoreResult:
        state, root = self.state, self.root
        journal = Journal(
            state=PREPARED,
            action=RESTORE,
            root=os.path.abspath(root),  # recovery may run from another working directory
            new_at=os.path.abspath(staging),
            new_id=list(_must_identity(staging)),
            old_id=list(_must_identity(root)),
            aside=os.path.abspath(state / ASIDE),
            old_to=os.path.abspath(state / PREVIOUS),
            archive=str(self.path.resolve()),
            backup_name=info.name,
            backup_created_at=info.created_at,
            instance_id=info.instance_id,
            safety_backup=str(safety or ""),
        )
        try:
            journal.keep_previous_of(read_journal(state))
        except RestoreError:
            pass  # a damaged record: the new one starts afresh
        try:
            write_journal(state, journal)
        except OSError as exc:
            _remove_quietly(staging)
            _remove_quietly(journal_path(state).with_name(journal_path(state).name + ".tmp"))
            raise RestoreError(f"the restore journal could not be written ({exc.strerror}); nothing was changed") \
                from None
        _step("journal-prepared")
        carried, skipped = _swap(self.settings, journal)
        previous = Path(journal.old_to)
        return RestoreResult(info, safety or previous, changes, previous, safety, journal.method, carried,
                             tuple(skipped))


def _undo(settings: Settings, progress: Progress) -> RestoreResult:
    state, root = settings.state_dir, settings.instance_root
    prev = state / PREVIOUS
    if fsops.identity(prev) is None:
        raise RestoreError("there is no previous configuration to go back to: it is kept only after a restore, "
                           "until the next one")
    _preflight(settings, create=True)
    last = read_journal(state)
    if last is None or not _is_recorded_previous(prev, last):
        raise RestoreError(
            f"{show_path(prev)} is not the one the last restore set aside (it was replaced or moved since), so it "
            "is not put back; check who changed it, and restore a backup instead"
        )
    _check_plain_tree(prev)
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
    journal = Journal(state=PREPARED, action=UNDO, root=os.path.abspath(root), new_at=os.path.abspath(prev),
                      new_id=list(_must_identity(prev)), old_id=list(_must_identity(root)),
                      aside=os.path.abspath(state / ASIDE), old_to=os.path.abspath(prev),
                      backup_name="previous configuration",
                      instance_id=ident.hub_id)
    journal.keep_previous_of(last)
    try:
        write_journal(state, journal)
    except OSError as exc:
        raise RestoreError(f"the restore journal could not be written ({exc.strerror}); nothing was changed") \
            from None
    _step("journal-prepared")
    carried, skipped = _swap(settings, journal)
    progress(1, 1, "done")
    return RestoreResult(info, prev, changes, prev, None, journal.method, carried, tuple(skipped))


def _swap(settings: Settings, journal: Journal) -> tuple[int, list[str]]:
    """Exchange the trees, then finish. Before the exchange, a failure rolls back cleanly."""
    root, new_at, aside = Path(journal.root), Path(journal.new_at), Path(journal.aside)
    state = settings.state_dir
    try:
        fsops.exchange(new_at, root)
        journal.method = "exchange"
        _step("exchanged")
    except fsops.ExchangeUnsupported:
        journal.method = "renames"
        try:
            os.rename(root, aside)
        except OSError as exc:
            _roll_back_quietly(settings, journal)
            raise RestoreError(f"the instance folder {root} could not be moved ({exc.strerror}); "
                               "nothing was changed") from None
        _step("old-aside")
        try:
            os.rename(new_at, root)
        except OSError as exc:
            try:
                os.rename(aside, root)  # put the old tree back
            except OSError:
                raise RestoreError(
                    f"the new configuration could not be moved into place ({exc.strerror}), and the old one "
                    f"could not be put back; it is in {aside}. Start mftui again: it finishes the restore"
                ) from None
            _roll_back_quietly(settings, journal)
            raise RestoreError(f"the new configuration could not be moved into place ({exc.strerror}); "
                               "nothing was changed") from None
        _step("new-in")
    except OSError as exc:
        _roll_back_quietly(settings, journal)
        raise RestoreError(f"the instance folder {root} could not be swapped ({exc.strerror}); "
                           "nothing was changed") from None
    try:
        fsync_path(root.parent)
        fsync_path(state)
        _step("swap-durable")
        return _finish(settings, journal)
    except OSError as exc:
        raise RestoreError(
            f"the restored configuration is in place, but finishing the restore failed ({exc.strerror or exc}); "
            "start mftui again (any command): it finishes the restore from its journal"
        ) from None


def _finish(settings: Settings, journal: Journal) -> tuple[int, list[str]]:
    """After the swap: carry over what is not configuration, keep the old tree, commit. Idempotent."""
    root, old_to = Path(journal.root), Path(journal.old_to)
    old_id = tuple(journal.old_id)
    old = next((p for p in (Path(journal.new_at), Path(journal.aside), old_to) if fsops.identity(p) == old_id),
               None)
    carried: int = 0
    skipped: list[str] = []
    if old is not None:
        carried, skipped = carry_over(settings, old, root)
        fsops.sync_filesystem(root)
        _step("carry-durable")
        if old != old_to:
            if fsops.identity(old_to) is not None:
                # The previous configuration of the last restore: kept until now, when this one cannot fail any more.
                trash = Path(tempfile.mkdtemp(prefix=TRASH_PREFIX, dir=settings.state_dir))
                os.rename(old_to, trash / PREVIOUS)
                _remove_in_background(trash)
            os.rename(old, old_to)
            fsync_path(settings.state_dir)
            _step("old-is-previous")
    journal.previous_id = list(old_id)
    journal.previous_by = journal.by
    journal.state = COMMITTED
    journal.finished_at = journal.previous_at = now()
    write_journal(settings.state_dir, journal)
    _step("committed")
    return carried, skipped


def _roll_back(settings: Settings, journal: Journal) -> None:
    """The live tree is still the old one: drop the new tree (unless it is the previous tree) and say so."""
    if journal.action == RESTORE and fsops.identity(Path(journal.new_at)) == tuple(journal.new_id):
        _remove_quietly(Path(journal.new_at))
        _step("staging-removed")
    journal.state = ROLLED_BACK
    journal.finished_at = now()
    write_journal(settings.state_dir, journal)
    _step("rolled-back")


def _roll_back_quietly(settings: Settings, journal: Journal) -> None:
    """Roll back after a failed swap; if even that fails, the journal stays prepared and recovery does it."""
    try:
        _roll_back(settings, journal)
    except OSError:
        pass


def carry_over(settings: Settings, old: Path, new: Path) -> tuple[int, list[str]]:
    """Move everything in ``old`` that is not configuration into ``new``; rebuild its folders.

    Logs, caches and historian data (and any excluded or not-included file)
    belong to the unit, not to the backup: a restore replaces the
    configuration and keeps them, by rename (no copy, whatever their size;
    open files stay open). Folders of the old tree missing from the new one
    are recreated empty, with their mode and owner, so the product finds the
    layout it expects. A path the new tree already has stays in the old tree
    (returned in the list). Safe to run again after an interruption.
    """
    instance = Instance(settings)
    exclude = settings.exclude
    moved = 0
    skipped: list[str] = []

    def walk(rel_dir: str) -> None:
        nonlocal moved
        base = old / rel_dir if rel_dir else old
        try:
            entries = sorted(os.scandir(base), key=lambda e: e.name)
        except (FileNotFoundError, NotADirectoryError):
            return
        for entry in entries:
            rel = f"{rel_dir}/{entry.name}" if rel_dir else entry.name
            is_dir = entry.is_dir(follow_symlinks=False)
            if matches(rel, exclude) or (not is_dir and not instance.includes(rel)):
                dest = new / rel
                if os.path.lexists(dest):
                    skipped.append(rel)
                    continue
                _ensure_folder(old, new, rel_dir)
                os.rename(entry.path, dest)
                moved += 1
                _step("carried")
            elif is_dir:
                _ensure_folder(old, new, rel)
                walk(rel)

    walk("")
    return moved, skipped


def _ensure_folder(old: Path, new: Path, rel: str) -> None:
    """Make folder ``rel`` in ``new`` (and its parents) like the one in ``old``, if missing."""
    if not rel:
        return
    target = new / rel
    if os.path.lexists(target):
        return
    _ensure_folder(old, new, os.path.dirname(rel))
    st = os.stat(old / rel, follow_symlinks=False)
    os.mkdir(target, 0o700)
    if os.geteuid() == 0:
        os.chown(target, st.st_uid, st.st_gid, follow_symlinks=False)
    os.chmod(target, stat.S_IMODE(st.st_mode) & 0o777)
    _step("folder")


# --- recovery ---------------------------------------------------------------------


def _recover_locked(settings: Settings) -> str | None:
    """Recovery proper; the caller holds the instance lock."""
    state = settings.state_dir
    if not state.is_dir():
        return None
    message = None
    journal = read_journal(state)
    if journal is not None and journal.state == PREPARED:
        message = _resume(settings, journal)
    orphans = 0
    for name in sorted(os.listdir(state)):
        path = state / name
        if name.startswith(STAGING_PREFIX):
            # Staging no journal refers to: a restore killed in phase one.
            _remove_quietly(path)
            orphans += 1
        elif name.startswith(TRASH_PREFIX):
            _remove_in_background(path)
        elif name.endswith(".json.tmp"):
            _remove_quietly(path)
    _step("cleaned")
    if message is None and orphans:
        message = ("a restore was interrupted while it was unpacking the backup, before it changed anything; "
                   "its staging folder was removed and the configuration is unchanged")
    return message


def _resume(settings: Settings, journal: Journal) -> str:
    root, new_at, aside = Path(journal.root), Path(journal.new_at), Path(journal.aside)
    old_id, new_id = tuple(journal.old_id), tuple(journal.new_id)
    when = journal.started_at
    try:
        here = fsops.identity(root)
        if here not in (old_id, new_id, None) and _empty_dir(root) and fsops.identity(aside) == old_id:
            # Something (the product at boot?) recreated an empty root between the two renames.
            os.rmdir(root)
            here = None
        if here == old_id:
            _roll_back(settings, journal)
            return (f"{journal.what} (started {when}) was interrupted before it changed anything; it was rolled "
                    "back: the configuration is the one the unit had before")
        if here is None and fsops.identity(new_at) == new_id and fsops.identity(aside) == old_id:
            os.rename(new_at, root)
            fsync_path(root.parent)
            _step("new-in")
            here = new_id
        elif here is None and fsops.identity(aside) == old_id:
            os.rename(aside, root)
            fsync_path(root.parent)
            _roll_back(settings, journal)
            return (f"{journal.what} (started {when}) was interrupted before it changed anything; it was rolled "
                    "back: the configuration is the one the unit had before")
        if here == new_id:
            _finish(settings, journal)
            return (f"{journal.what} (started {when}) was interrupted after the new configuration was in place; "
                    "it was finished: the configuration is the restored one"
                    + (f" (backup '{show(journal.backup_name)}')" if journal.backup_name else ""))
    except OSError as exc:
        raise RestoreError(
            f"{journal.what} was interrupted and could not be finished now ({exc.strerror or exc}); "
            f"fix the cause (disk full? read-only?) and start mftui again: it will finish it"
        ) from None
    raise RestoreError(
        f"{journal.what} was interrupted and cannot be finished automatically: the instance folder {root} is "
        f"neither the old nor the new configuration. The trees are in {settings.state_dir} (staging-*, "
        f"{Path(journal.aside).name}, {Path(journal.old_to).name}); put the right one at {root}, then delete "
        f"{journal_path(settings.state_dir)}"
    )


# --- checks and helpers ---------------------------------------------------------------


def _preflight(settings: Settings, create: bool) -> None:
    """Refuse, before anything is written, an instance folder the swap cannot work on."""
    root = settings.instance_root
    try:
        st = os.lstat(root)
    except FileNotFoundError:
        raise RestoreError(f"the instance folder {root} does not exist; check [instance] root") from None
    if stat.S_ISLNK(st.st_mode):
        raise RestoreError(
            f"the instance root {root} is a symbolic link (to {os.readlink(root)}); set [instance] root to the "
            "real folder so the restore can swap it"
        )
    if not stat.S_ISDIR(st.st_mode):
        raise RestoreError(f"the instance root {root} is not a folder; check [instance] root")
    if fsops.is_mount_point(root):
        raise RestoreError(
            f"the instance root {root} is a mount point, which cannot be swapped; set [instance] root to a "
            "folder inside the mounted volume"
        )
    inside = fsops.mounts_under(root)
    if inside:
        more = f" (and {len(inside) - 1} more)" if len(inside) > 1 else ""
        raise RestoreError(
            f"{show_path(inside[0])}{more} inside the instance is a mount point (its own partition or a bind "
            "mount), which a restore cannot move into the new configuration; stop the product, unmount it, "
            "restore, then mount it again. Nothing was changed"
        )
    if not os.access(root.parent, os.W_OK):
        raise RestoreError(f"cannot write in {root.parent}, where the restore swaps the instance folder "
                           "(run mftui as the user that owns the instance)")
    state = settings.state_dir
    if create:
        try:
            state.mkdir(mode=0o700, exist_ok=True)
        except OSError as exc:
            raise RestoreError(f"cannot create the state folder {state} ({exc.strerror})") from None
    if state.exists() and os.stat(state).st_dev != st.st_dev:
        raise RestoreError(
            f"the state folder {state} is on another filesystem than the instance root {root}; the restore "
            "stages there and must be on the instance's own filesystem to swap atomically"
        )


def _check_restorable(settings: Settings, archive: Archive) -> None:
    """Refuse a backup of another product, or with files this unit's settings do not call configuration."""
    info = archive.backup_info
    instance = Instance(settings)
    live = instance.identity()
    if info.product and live.product and info.product.casefold() != live.product.casefold():
        raise ArchiveError(
            f"this backup is of {info.product} {info.product_version} (made by mftui {info.tool_version}); "
            f"this unit runs {live.product} {live.version}, and a backup restores only onto the product it "
            "was taken from"
        )
    for entry in archive.files:
        path = entry.path
        if not instance.includes(path):
            name = "config/" + path
            raise ArchiveError(
                f"the archive is refused: entry {show(name)} is not configuration under this unit's settings "
                "([instance] include and exclude), so a backup made here could not hold it",
                name,
            )


def _is_recorded_previous(prev: Path, journal: Journal) -> bool:
    """Whether ``prev`` is the very tree the last committed restore set aside (by device and inode)."""
    found = fsops.identity(prev)
    return found is not None and list(found) == list(journal.previous_id) and prev.is_dir() and not prev.is_symlink()


def _check_plain_tree(top: Path) -> None:
    """Refuse a tree to install that holds what no backup holds: links, devices, pipes, sockets."""
    for dirpath, dirnames, filenames in os.walk(top):
        for name in dirnames + filenames:
            path = os.path.join(dirpath, name)
            mode = os.lstat(path).st_mode
            if stat.S_ISDIR(mode) or stat.S_ISREG(mode):
                continue
            what = "a symbolic link" if stat.S_ISLNK(mode) else "a special file (device, pipe or socket)"
            rel = os.path.relpath(path, top)
            raise RestoreError(
                f"the previous configuration is not put back: {show_path(rel)} in it is {what}, which no backup "
                f"holds and mftui never installs; check who changed {show_path(top)}, and restore a backup instead"
            )


def _check_same_as_shown(plan: RestorePlan, archive: Archive) -> None:
    """The file open now must be the one checked and shown (same inode, same backup.json), or nothing is done."""
    if archive.identity() != plan.identity or archive.backup_info != plan.info:
        raise RestoreError(
            f"the backup file {show_path(plan.path.name)} was replaced or changed after it was checked, so it is not "
            "what you were shown; nothing was changed. Choose it again to check it again"
        )


def _tree_bytes(top: Path) -> int:
    """Bytes in the files of a tree (not following links)."""
    total = 0
    for dirpath, _dirs, files in os.walk(top):
        for name in files:
            try:
                total += os.lstat(os.path.join(dirpath, name)).st_size
            except OSError:
                pass
    return total


def _remove_in_background(path: Path) -> None:
    """Remove a tree of ours without waiting: a detached ``rm -rf``, or a thread without one."""
    rm = shutil.which("rm")
    if rm is not None:
        try:
            subprocess.Popen(
                [rm, "-rf", "--", str(path)],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                start_new_session=True,  # survives us, and a Ctrl+C on the terminal
            )
            return
        except OSError:
            pass
    threading.Thread(target=_remove_quietly, args=(path,), name="mftui-remove", daemon=True).start()


def _free_bytes(path: Path) -> int:
    st = os.statvfs(path)
    return st.f_bavail * st.f_frsize


def _mib(n: int) -> str:
    return f"{n / MIB:.1f} MiB"


def _must_identity(path: Path) -> tuple[int, int]:
    found = fsops.identity(path)
    if found is None:
        raise RestoreError(f"{path} vanished during the restore; nothing was changed")
    return found


def _empty_dir(path: Path) -> bool:
    try:
        return path.is_dir() and not path.is_symlink() and not any(os.scandir(path))
    except OSError:
        return False


def _remove_quietly(path: Path) -> None:
    try:
        fsops.remove_tree(path)
    except OSError:
        pass  # recovery removes leftovers at the next start
