"""Phase two of a restore: the swap of staging and the instance root, the carry-over, the commit.

:func:`swap` exchanges the trees (``renameat2(RENAME_EXCHANGE)``; a journalled
pair of renames where the filesystem lacks it) and fsyncs both parents;
:func:`finish` moves what is not configuration (logs, caches, historian
data, excluded files, the folder skeleton) from the old tree into the new
one by rename, sets the old tree aside as the previous configuration and
writes the journal ``committed``. Every step is idempotent: recovery calls
:func:`finish` again after a crash, and :func:`roll_back` while the old tree
is still live.
"""

from __future__ import annotations

import os
import stat
import tempfile
from pathlib import Path

from ..durable import fsync_path
from ..errors import RestoreError
from ..instance import Instance, matches
from ..settings import Settings
from . import fsops
from .journal import (
    ASIDE,
    COMMITTED,
    PREPARED,
    PREVIOUS,
    RESTORE,
    ROLLED_BACK,
    TRASH_PREFIX,
    Journal,
    journal_path,
    now,
    read_journal,
    write_journal,
)
from .steps import step


def prepared_journal(settings: Settings, action: str, new_at: Path, old_to: Path, *, archive: str = "",
                     backup_name: str = "", backup_created_at: str = "", instance_id: str = "",
                     safety_backup: str = "") -> Journal:
    """The journal of a transaction about to swap ``new_at`` in and set the live tree aside at ``old_to``."""
    state, root = settings.state_dir, settings.instance_root
    return Journal(
        state=PREPARED,
        action=action,
        root=os.path.abspath(root),  # recovery may run from another working directory
        new_at=os.path.abspath(new_at),
        new_id=list(fsops.must_identity(new_at)),
        old_id=list(fsops.must_identity(root)),
        aside=os.path.abspath(state / ASIDE),
        old_to=os.path.abspath(old_to),
        archive=archive,
        backup_name=backup_name,
        backup_created_at=backup_created_at,
        instance_id=instance_id,
        safety_backup=safety_backup,
    )


def commit_swap(settings: Settings, journal: Journal, staging: Path | None = None) -> tuple[int, list[str]]:
    """Phase two, for a restore and for putting the previous configuration back alike.

    Writes the journal (``prepared``, carrying the record of the previous
    tree over), then swaps and finishes. A journal that cannot be written
    leaves everything as it was (``staging``, if given, is removed).
    """
    state = settings.state_dir
    try:
        journal.keep_previous_of(read_journal(state))
    except RestoreError:
        pass  # a damaged record: the new one starts afresh
    try:
        write_journal(state, journal)
    except OSError as exc:
        if staging is not None:
            fsops.remove_quietly(staging)
        fsops.remove_quietly(journal_path(state).with_name(journal_path(state).name + ".tmp"))
        raise RestoreError(f"the restore journal could not be written ({exc.strerror}); nothing was changed") \
            from None
    step("journal-prepared")
    return swap(settings, journal)


def swap(settings: Settings, journal: Journal) -> tuple[int, list[str]]:
    """Exchange the trees, then finish. Before the exchange, a failure rolls back cleanly."""
    root, new_at, aside = Path(journal.root), Path(journal.new_at), Path(journal.aside)
    state = settings.state_dir
    try:
        fsops.exchange(new_at, root)
        journal.method = "exchange"
        step("exchanged")
    except fsops.ExchangeUnsupported:
        journal.method = "renames"
        try:
            os.rename(root, aside)
        except OSError as exc:
            roll_back_quietly(settings, journal)
            raise RestoreError(f"the instance folder {root} could not be moved ({exc.strerror}); "
                               "nothing was changed") from None
        step("old-aside")
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
            roll_back_quietly(settings, journal)
            raise RestoreError(f"the new configuration could not be moved into place ({exc.strerror}); "
                               "nothing was changed") from None
        step("new-in")
    except OSError as exc:
        roll_back_quietly(settings, journal)
        raise RestoreError(f"the instance folder {root} could not be swapped ({exc.strerror}); "
                           "nothing was changed") from None
    try:
        fsync_path(root.parent)
        fsync_path(state)
        step("swap-durable")
        return finish(settings, journal)
    except OSError as exc:
        raise RestoreError(
            f"the restored configuration is in place, but finishing the restore failed ({exc.strerror or exc}); "
            "start mftui again (any command): it finishes the restore from its journal"
        ) from None


def finish(settings: Settings, journal: Journal) -> tuple[int, list[str]]:
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
        step("carry-durable")
        if old != old_to:
            if fsops.identity(old_to) is not None:
                # The previous configuration of the last restore: kept until now, when this one cannot fail any more.
                trash = Path(tempfile.mkdtemp(prefix=TRASH_PREFIX, dir=settings.state_dir))
                os.rename(old_to, trash / PREVIOUS)
                fsops.remove_in_background(trash)
            os.rename(old, old_to)
            fsync_path(settings.state_dir)
            step("old-is-previous")
    journal.previous_id = list(old_id)
    journal.previous_by = journal.by
    journal.state = COMMITTED
    journal.finished_at = journal.previous_at = now()
    write_journal(settings.state_dir, journal)
    step("committed")
    return carried, skipped


def roll_back(settings: Settings, journal: Journal) -> None:
    """The live tree is still the old one: drop the new tree (unless it is the previous tree) and say so."""
    if journal.action == RESTORE and fsops.identity(Path(journal.new_at)) == tuple(journal.new_id):
        fsops.remove_quietly(Path(journal.new_at))
        step("staging-removed")
    journal.state = ROLLED_BACK
    journal.finished_at = now()
    write_journal(settings.state_dir, journal)
    step("rolled-back")


def roll_back_quietly(settings: Settings, journal: Journal) -> None:
    """Roll back after a failed swap; if even that fails, the journal stays prepared and recovery does it."""
    try:
        roll_back(settings, journal)
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
        if rel_dir and _file_in_the_way(new, rel_dir):
            # The backup has a file where the unit has this folder: what is in it cannot go under
            # that file. It stays in the old tree (the previous configuration), and is reported.
            skipped.append(rel_dir)
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
                step("carried")
            elif is_dir:
                if not _file_in_the_way(new, rel):
                    _ensure_folder(old, new, rel)
                walk(rel)

    walk("")
    return moved, skipped


def _file_in_the_way(new: Path, rel: str) -> bool:
    """Whether ``rel`` exists in the new tree as something other than a folder."""
    try:
        return not stat.S_ISDIR(os.lstat(new / rel).st_mode)
    except (FileNotFoundError, NotADirectoryError):
        return False


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
    step("folder")
