"""The restore journal: one small JSON file in the state dir, always whole.

Written to a temporary file, fsync'ed, renamed over the journal, and the
state dir fsync'ed: after a power cut it is the old record or the new one.
It names the trees by (device, inode), so recovery can tell where each one is
whatever step the restore reached.

States:

- ``prepared``: staging is complete and durable; the swap may have started.
  Recovery finds the trees by identity and either rolls back (the live tree
  is still the old one) or finishes the swap (the new tree is in place, or
  half-way through the pair of renames).
- ``committed``: the new configuration is live; the old tree is the
  previous tree. Kept as the record of the last restore.
- ``rolled-back``: recovery undid a restore that had not swapped yet.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ..errors import RestoreError
from ..state import read_small, replace_file
from ..text import show

JOURNAL_NAME = "restore-journal.json"
MAX_JOURNAL_BYTES = 1024 * 1024  # a journal is a few hundred bytes: anything far bigger is not ours
# Folders a restore makes in the state dir: what recovery removes when no journal needs them.
STAGING_PREFIX = "staging-"
TRASH_PREFIX = "trash-"
PREVIOUS = "previous"  # the previous configuration: the tree the last restore replaced
ASIDE = "aside"  # where the old tree waits between the two renames (no RENAME_EXCHANGE)
PREPARED, COMMITTED, ROLLED_BACK = "prepared", "committed", "rolled-back"
RESTORE, UNDO = "restore", "undo"  # restore an archive / put the previous tree back


@dataclass
class Journal:
    """One restore transaction, as recovery needs to see it."""

    state: str
    action: str  # RESTORE or UNDO
    root: str  # the instance root
    new_at: str  # where the new tree waits before the swap (staging, or the previous tree)
    new_id: list[int]  # (device, inode) of the new tree
    old_id: list[int]  # (device, inode) of the live tree when the restore began
    aside: str  # where the old tree is parked between the two renames (no RENAME_EXCHANGE)
    old_to: str  # where the old tree ends: the previous tree
    archive: str = ""  # the archive restored (empty for UNDO)
    backup_name: str = ""
    backup_created_at: str = ""
    instance_id: str = ""  # the hub id in the restored configuration
    safety_backup: str = ""  # the safety archive, when one was written
    method: str = ""  # "exchange" or "renames", once the swap has started
    started_at: str = field(default_factory=lambda: _now())
    finished_at: str = ""
    note: str = ""  # what recovery did, if it did anything
    # The previous tree as the last committed restore left it, carried from record to record (a
    # rolled-back restore keeps it): a folder at <state>/previous with another identity is not ours.
    previous_id: list[int] = field(default_factory=list)
    previous_at: str = ""  # when the restore that set it aside committed
    previous_by: str = ""  # what replaced it ("backup 'x'", "the previous configuration")
    version: int = 1

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: Any) -> Journal:
        if not isinstance(data, dict) or data.get("version") != 1:
            raise ValueError("not a version 1 journal")
        known = {f for f in cls.__dataclass_fields__}
        return cls(**{k: v for k, v in data.items() if k in known})

    def keep_previous_of(self, last: Journal | None) -> None:
        """Carry the record of the previous tree over from the last journal (older journals: its old tree)."""
        if last is None:
            return
        if last.previous_id:
            self.previous_id, self.previous_at, self.previous_by = last.previous_id, last.previous_at, last.previous_by
        elif last.state == COMMITTED:  # written by an mftui that did not keep the record
            self.previous_id, self.previous_at, self.previous_by = list(last.old_id), last.finished_at, last.by

    @property
    def by(self) -> str:
        """What this transaction put in place, as the previous tree's record says it."""
        return f"backup '{show(self.backup_name)}'" if self.action == RESTORE else "the previous configuration"

    @property
    def what(self) -> str:
        """The restore in a few words, for messages."""
        if self.action == UNDO:
            return "the return to the previous configuration"
        return f"the restore of {show(Path(self.archive).name)}" if self.archive else "the restore"


def journal_path(state_dir: Path) -> Path:
    return state_dir / JOURNAL_NAME


def read_journal(state_dir: Path) -> Journal | None:
    """The journal, or None when there is none. A damaged one is a RestoreError (never guessed at)."""
    path = journal_path(state_dir)
    try:
        raw = read_small(state_dir, JOURNAL_NAME, MAX_JOURNAL_BYTES)
    except OSError as exc:
        raise RestoreError(f"the restore journal {path} cannot be read ({exc.strerror})") from None
    except ValueError:
        raw = b"\0"  # far too big to be ours: damaged, below
    if raw is None:
        return None
    try:
        return Journal.from_json(json.loads(raw.decode("utf-8")))
    except (ValueError, TypeError, UnicodeDecodeError):
        raise RestoreError(
            f"the restore journal {path} is damaged, so an interrupted restore cannot be finished "
            "automatically; compare the instance folder with the trees in "
            f"{state_dir} and remove the journal once the instance is right"
        ) from None


def recovery_pending(state: Path) -> bool:
    """Whether recovery has anything to do, looking without the lock (and importing nothing more)."""
    try:
        names = os.listdir(state)
    except OSError:
        return False
    if any(n.startswith((STAGING_PREFIX, TRASH_PREFIX)) or n.endswith(".json.tmp") for n in names):
        return True
    if JOURNAL_NAME not in names:
        return False
    try:
        journal = read_journal(state)
    except RestoreError:
        return True
    return journal is not None and journal.state == PREPARED


def write_journal(state_dir: Path, journal: Journal) -> None:
    """Replace the journal atomically and durably."""
    replace_file(state_dir, JOURNAL_NAME, (json.dumps(journal.to_json(), indent=1) + "\n").encode())


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def now() -> str:
    """The time in the journal's format (UTC, ISO 8601)."""
    return _now()
