"""Recovery: finish or roll back a restore that was interrupted (a crash, a power cut).

Run at every start. It reads the journal and finds each tree by (device,
inode): if the instance root is still the old tree it rolls back (removes
staging); if the new tree is in place, or half-way through the pair of
renames, it finishes. A recovery killed half-way is finished by the next one.
"""

from __future__ import annotations

import os
from pathlib import Path

from ..durable import fsync_path
from ..errors import LockBusy, RestoreError
from ..lock import instance_lock
from ..settings import Settings
from ..state import checked_state_dir
from ..text import show
from . import fsops
from .journal import (
    PREPARED,
    STAGING_PREFIX,
    TRASH_PREFIX,
    Journal,
    journal_path,
    read_journal,
    recovery_pending,
)
from .steps import step
from .swap import finish, roll_back
from .trial_record import reverting_pending


def recover(settings: Settings) -> str | None:
    """Finish or roll back an interrupted restore; a sentence saying what was done, or None.

    Cheap when there is nothing to do (no lock taken, nothing created). Safe
    to run at every start, and safe if it is itself interrupted. If another
    mftui holds the lock, that one is alive and nothing is interrupted.
    """
    state = checked_state_dir(settings, create=False)
    if state is None or not (recovery_pending(state) or reverting_pending(state)):
        return None
    try:
        with instance_lock(settings, "recovery"):
            return recover_locked(settings)
    except LockBusy:
        return None


def recover_locked(settings: Settings) -> str | None:
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
            fsops.remove_quietly(path)
            orphans += 1
        elif name.startswith(TRASH_PREFIX):
            fsops.remove_in_background(path)
        elif name.endswith(".json.tmp"):
            fsops.remove_quietly(path)
    step("cleaned")
    if message is None and orphans:
        message = ("a restore was interrupted while it was unpacking the backup, before it changed anything; "
                   "its staging folder was removed and the configuration is unchanged")
    from .trial import recover_trial_locked  # a put back of a trial cut short: record which tree is live

    trial = recover_trial_locked(settings)
    if trial is not None:
        message = f"{message}; {trial}" if message else trial
    return message


def _resume(settings: Settings, journal: Journal) -> str:
    root, new_at, aside = Path(journal.root), Path(journal.new_at), Path(journal.aside)
    old_id, new_id = tuple(journal.old_id), tuple(journal.new_id)
    when = journal.started_at
    try:
        here = fsops.identity(root)
        if here not in (old_id, new_id, None) and fsops.empty_dir(root) and fsops.identity(aside) == old_id:
            # Something (the product at boot?) recreated an empty root between the two renames.
            os.rmdir(root)
            here = None
        if here == old_id:
            roll_back(settings, journal)
            return (f"{journal.what} (started {when}) was interrupted before it changed anything; it was rolled "
                    "back: the configuration is the one the unit had before")
        if here is None and fsops.identity(new_at) == new_id and fsops.identity(aside) == old_id:
            os.rename(new_at, root)
            fsync_path(root.parent)
            step("new-in")
            here = new_id
        elif here is None and fsops.identity(aside) == old_id:
            os.rename(aside, root)
            fsync_path(root.parent)
            roll_back(settings, journal)
            return (f"{journal.what} (started {when}) was interrupted before it changed anything; it was rolled "
                    "back: the configuration is the one the unit had before")
        if here == new_id:
            finish(settings, journal)
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
