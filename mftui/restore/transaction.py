"""The restore transaction: validate and stage, then swap under a journal.

Phase one (the live tree is not touched): every container, name, manifest
and budget check; extraction into a fresh ``staging-*`` folder in the state
dir (same filesystem as the instance root), size and SHA-256 checked while
writing; one ``syncfs``.

Phase two (``swap.py``): a safety archive of the live configuration when
that is cheap (see SAFETY_ARCHIVE_MAX_BYTES; the previous tree is kept whole
in any case), the journal (``prepared``), the atomic swap, the carry-over,
the old tree set aside as the previous configuration, the journal
``committed``. Recovery (``recovery.py``) finishes or rolls back a restore
cut short.
"""

from __future__ import annotations

import dataclasses
import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from ..archive.extract import stage
from ..archive.format import BackupInfo
from ..archive.validate import Archive, open_archive
from ..errors import BackupError, MftuiError, RestoreError, UnrestorableError
from ..instance import Instance
from ..lock import instance_lock
from ..progress import Progress, no_progress
from ..protection import check_plain_policy, protector_for
from ..settings import MIB, Settings
from ..text import show, show_path
from ..wording import as_sentence, human_size
from . import fsops
from .changes import Changes, compute_changes, live_files
from .checks import check_restorable, preflight
from .journal import (
    PREVIOUS,
    RESTORE,
    STAGING_PREFIX,
)
from .recovery import recover_locked
from .scope import CLONE, REPLACE, SCOPES, default_scope, keep_identity, scoped_info
from .steps import step
from .swap import commit_swap, prepared_journal

if TYPE_CHECKING:
    from ..archive.protector import Protector

# Above this much live configuration, no safety archive is written: the
# previous tree (kept whole, by rename, at no cost) is the safety copy. Below
# it, the archive costs well under a second and gives the technician a normal
# backup file, listed by `mftui list`, that survives later restores.
SAFETY_ARCHIVE_MAX_BYTES = 32 * MIB
SAFETY_NAME = "pre-restore"


@dataclass(frozen=True)
class RestorePlan:
    """A backup that passed every check, and what restoring it would change."""

    path: Path
    info: BackupInfo
    changes: Changes  # what restoring it in ``scope`` changes
    identity: tuple[int, int] = (0, 0)  # (device, inode) of the file that was checked
    scope: str = REPLACE  # "replace" or "clone" (keep this unit's identity)
    default_scope: str = REPLACE  # what the command line and TUI offer unless told: clone for another unit's

    def in_scope(self, settings: Settings, scope: str) -> RestorePlan:
        """The same checked backup restored in ``scope``: its changes computed again (the archive is not read)."""
        if scope == self.scope:
            return self
        return dataclasses.replace(self, scope=scope, changes=scoped_changes(settings, self.info, scope))


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
    scope: str = REPLACE
    trial_deadline: str = ""  # ISO 8601 UTC, when the restore is on trial
    audit_problem: str = ""  # the audit log could not be written (the restore is done all the same)

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
        logged = f" {as_sentence(self.audit_problem)}" if self.audit_problem else ""
        return f"Restored {len(self.info.files)} files from backup '{show(self.info.name)}'; {safety}.{logged}"


def compare(settings: Settings, path: Path, scope: str = REPLACE) -> Changes:
    """What restoring ``path`` in ``scope`` ("replace" or "clone") would change.

    Reads the archive's headers and backup.json only. Raises ArchiveError for
    an archive the strict container and name checks refuse (its file data is
    not inflated: plan_restore does that).
    """
    check_plain_policy(settings, Path(path))
    with open_archive(Path(path), settings.budgets) as archive:
        info = archive.backup_info
    return scoped_changes(settings, info, scope)


def scoped_changes(settings: Settings, info: BackupInfo, scope: str) -> Changes:
    """The changes of restoring ``info`` in ``scope``."""
    scope = _checked_scope(scope) or REPLACE
    return compute_changes(settings, scoped_info(settings, info, scope), scope=scope)


def plan_restore(settings: Settings, path: Path, progress: Progress = no_progress,
                 scope: str | None = REPLACE) -> RestorePlan:
    """Every check a restore makes before touching anything, and the changes it would make.

    Inflates every entry (checksums, budgets), refuses another product or a
    newer format, and checks that the instance folder can be swapped.
    ``scope``: "replace" (everything from the backup; the default, as
    before), "clone" (keep this unit's identity files, take the rest), or
    None for what the command line and the TUI offer by default (clone for a
    backup of another unit, replace otherwise). The plan's ``changes`` are
    that scope's; ``plan.default_scope`` is the default for this backup, and
    :meth:`RestorePlan.in_scope` gives the same plan in the other scope
    (changes computed again, the archive not read again).
    Raises ArchiveError (the archive) or RestoreError (the instance); a
    refusal is logged (history.audit) as a restore refused.
    """
    try:
        return _plan(settings, Path(path), progress, scope)
    except MftuiError as exc:
        log_restore(settings, "restore", Path(path), None, exc)
        raise


def _plan(settings: Settings, path: Path, progress: Progress, scope: str | None) -> RestorePlan:
    preflight(settings, create=False)
    check_plain_policy(settings, path)
    with open_archive(path, settings.budgets) as archive:
        check_restorable(settings, archive)
        archive.verify_all(progress)
        info = archive.backup_info
        identity = archive.identity()
    default = default_scope(settings, info)
    chosen = _checked_scope(scope) or default
    return RestorePlan(path, info, scoped_changes(settings, info, chosen), identity, chosen, default)


def _checked_scope(scope: str | None) -> str | None:
    if scope is not None and scope not in SCOPES:
        raise RestoreError(f"restore scope {scope!r} is not one of {', '.join(SCOPES)}")
    return scope


def verify_backup(settings: Settings, path: Path, progress: Progress = no_progress) -> BackupInfo:
    """Every check a restore of ``path`` makes on the archive, with this unit's settings; raise the first refusal.

    One set of checks, one answer: the container and names, the manifest,
    every checksum, the ``[limits]`` budgets, ``include``/``exclude`` and the
    product. What ``verify`` accepts, a restore accepts (the instance aside:
    :func:`plan_restore` also checks the instance folder can be swapped).
    A protected backup is verified through protection.open_backup, which
    gives this its opened payload; a plain one must pass ``[trust]``.
    """
    check_plain_policy(settings, Path(path))
    with open_archive(Path(path), settings.budgets) as archive:
        check_restorable(settings, archive)
        archive.verify_all(progress)
        return archive.backup_info


def restore_backup(settings: Settings, backup: Path | RestorePlan, progress: Progress = no_progress, *,
                   discard_previous: bool = False, scope: str | None = None,
                   trial: float | None = None, protect: Protector | None = None,
                   shown_as: Path | None = None) -> RestoreResult:
    """Restore a backup: phase one (validate, stage), phase two (safety copy, journal, swap).

    ``backup`` is a path, or the :class:`RestorePlan` a technician was shown:
    then exactly that file is restored (the same file, and a backup.json
    that says the same), or nothing (the file was replaced or rewritten
    since it was checked). The previous configuration (what the last
    restore replaced) is kept until this one commits; when the disk lacks
    the room for both, the restore is refused unless ``discard_previous``.

    ``scope``: "replace", "clone", or None: the plan's scope (for a path:
    replace). ``trial``: seconds; the
    restore is then on trial (trial.py): put back by ``mftui watch`` unless
    kept in time (``keep_trial``); None: no trial. The trial record is
    written before the swap and names the restored tree, so it applies only
    once the restore commits. ``protect``: how the safety archive is
    encrypted and signed (default: as ``[protection]`` says, which needs
    ``passphrase_file`` for a passphrase). ``shown_as``: the protected
    backup whose opened payload ``backup`` is, named in the journal and the
    trial record instead of the payload's partial file.

    Holds the instance lock throughout (LockBusy if another backup or
    restore runs). Never reboots. On any failure before the swap the live
    configuration is unchanged and staging is removed; after the swap the
    restore is finished, here or by recovery.
    """
    plan = backup if isinstance(backup, RestorePlan) else None
    path = plan.path if plan is not None else Path(backup)  # type: ignore[arg-type]
    chosen = _checked_scope(scope) or (plan.scope if plan is not None else REPLACE)
    try:
        with instance_lock(settings, "restore"):
            recover_locked(settings)
            restore = _Restore(settings, path, progress, plan, discard_previous, chosen, trial)
            restore.protect = protect
            restore.shown_as = shown_as
            result = restore.run()
    except BaseException as exc:
        log_restore(settings, "restore", shown_as or path, None, exc)
        raise
    problem = log_restore(settings, "restore", shown_as or path, result.changes, None)
    return dataclasses.replace(result, audit_problem=problem)


def log_restore(settings: Settings, action: str, archive: Path | None, changes: Changes | None,
                exc: BaseException | None) -> str:
    """Log a restore or a put back (history.audit); "" when logged, else the sentence to show (never raises)."""
    from ..digest import sha256_of
    from ..history.audit import changes_summary, outcome_of, record

    detail = (str(exc) or type(exc).__name__) if exc is not None else None
    problem = record(settings, action, outcome_of(exc), archive=archive,
                     sha256=sha256_of(archive) if archive is not None else None,
                     changes=changes_summary(changes) if changes is not None else None, detail=detail)
    return problem or ""


class _Restore:
    def __init__(self, settings: Settings, path: Path, progress: Progress, plan: RestorePlan | None,
                 discard_previous: bool, scope: str | None, trial: float | None) -> None:
        self.settings = settings
        self.path = path
        self.progress = progress
        self.plan = plan
        self.discard_previous = discard_previous
        self.scope = scope or REPLACE
        self.trial = trial
        self.state = settings.state_dir
        self.root = settings.instance_root
        self.protect: Protector | None = None
        self.shown_as: Path | None = None

    def run(self) -> RestoreResult:
        preflight(self.settings, create=True)
        check_plain_policy(self.settings, self.path)
        with open_archive(self.path, self.settings.budgets) as archive:
            if self.plan is not None:
                _check_same_as_shown(self.plan, archive)
            check_restorable(self.settings, archive)
            info = archive.backup_info
            need = archive.total_bytes + 4096 * (len(archive.members) + 1)  # data, and a block's slack per file
            self._make_room(need)
            staging, changes, safety = self._phase_one(archive)
        return self._phase_two(info, staging, changes, safety)

    def _make_room(self, need: int) -> None:
        """Refuse a restore that would not fit; the previous configuration goes only if the technician says so."""
        free = fsops.free_bytes(self.state)
        if free >= need:
            return
        prev = self.state / PREVIOUS
        kept = fsops.identity(prev) is not None
        if kept and self.discard_previous:
            fsops.remove_quietly(prev)  # its space is needed now, not after a removal in the background
            free = fsops.free_bytes(self.state)
            if free >= need:
                return
        if kept and not self.discard_previous and free + fsops.tree_bytes(prev) >= need:
            raise RestoreError(
                f"the disk holding the instance has {human_size(free)} free, and staging this backup needs about "
                f"{human_size(need)}; the previous configuration (what the last restore replaced, kept so that it "
                f"can be put back) takes {human_size(fsops.tree_bytes(prev))}. Free some space, or restore with "
                "--discard-previous (it can then no longer be put back); nothing was changed"
            )
        raise RestoreError(
            f"the disk holding the instance has {human_size(free)} free, and staging this backup needs about "
            f"{human_size(need)} (the new configuration is written beside the live one before the swap); "
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
            scoped = scoped_info(self.settings, archive.backup_info, self.scope)  # clone: live identity hashed
            with ThreadPoolExecutor(max_workers=1, thread_name_prefix="mftui-changes") as pool:
                pending = pool.submit(compute_changes, self.settings, scoped, live, scope=self.scope)
                stage(archive, staging, self.root, lambda d, _t, w: self.progress(d, total, w))
                changes = pending.result()
            if self.scope == CLONE:
                keep_identity(self.settings, staging, scoped)  # one tree: the backup's files, this unit's identity
                step("identity-kept")
            safety = None
            if write_safety:
                safety = self._safety_archive(instance, lambda d, _t, w: self.progress(staged_total + d, total, w))
                if safety is not None:
                    step("safety-backup")
            self.progress(total, total, "making the staged files durable")
            fsops.sync_filesystem(staging)
            step("staged")
        except BaseException as exc:
            fsops.remove_quietly(staging)
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
        from ..key_errors import KeyProblem

        try:
            protect = self.protect if self.protect is not None else _unit_protector(self.settings)
            result = write_backup(instance, self.settings.backups_dir, SAFETY_NAME, kind="safety",
                                  progress=progress, protect=protect)
        except UnrestorableError:
            # A name (or a size) the restore refuses: an archive of it could never be restored, and the
            # previous tree, kept whole by rename, is the safety copy in any case.
            return None
        except (BackupError, KeyProblem) as exc:
            raise RestoreError(f"the safety backup of the live configuration could not be made, so nothing "
                               f"was changed: {exc}") from None
        return result.path

    def _phase_two(self, info: BackupInfo, staging: Path, changes: Changes, safety: Path | None) -> RestoreResult:
        journal = prepared_journal(
            self.settings, RESTORE, staging, self.state / PREVIOUS,
            archive=str((self.shown_as or self.path).resolve()),
            backup_name=info.name,
            backup_created_at=info.created_at,
            instance_id=info.instance_id,
            safety_backup=str(safety or ""),
        )
        deadline = ""
        if self.trial is not None:
            from .trial import start_trial

            try:
                deadline = start_trial(self.settings, staging, info.name, journal.archive, self.trial)
            except OSError as exc:
                fsops.remove_quietly(staging)
                raise RestoreError(f"the trial record could not be written ({exc.strerror}); nothing was changed") \
                    from None
        carried, skipped = commit_swap(self.settings, journal, staging)
        previous = Path(journal.old_to)
        return RestoreResult(info=info, safety_backup=safety or previous, changes=changes, previous=previous,
                             safety_archive=safety, method=journal.method, carried=carried,
                             left_behind=tuple(skipped), scope=self.scope, trial_deadline=deadline)


def _unit_protector(settings: Settings) -> Protector | None:
    """The safety archive is protected like the unit's backups ([protection])."""
    p = settings.protection
    if p.encrypt == "off" and p.sign_key is None:
        return None
    return protector_for(settings)


def _check_same_as_shown(plan: RestorePlan, archive: Archive) -> None:
    """The file open now must be the one checked and shown (same inode, same backup.json), or nothing is done."""
    if archive.identity() != plan.identity or archive.backup_info != plan.info:
        raise RestoreError(
            f"the backup file {show_path(plan.path.name)} was replaced or changed after it was checked, so it is not "
            "what you were shown; nothing was changed. Choose it again to check it again"
        )
