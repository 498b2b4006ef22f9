"""The Backups screen's rows: what each backup is, in words and columns; read and verified in a worker.

No Textual here: plain data and strings (every one from a file made safe with
text.show), so the columns can be tested and measured on their own.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from rich.cells import cell_len, set_cell_size

from ...archive.catalog import ListedBackup, unit_backups
from ...archive.catalog_cache import Verified, file_key, record_verified
from ...errors import MftuiError
from ...settings import Settings
from ...text import show
from ...wording import human_size, when

KIND_WORDS = {"manual": "manual", "scheduled": "scheduled", "safety": "pre-restore", "previous": "previous"}
PIN = "*"


@dataclass(frozen=True)
class BackupRow:
    """One line of the list. ``path`` None: the previous configuration (a folder the last restore kept)."""

    key: str  # the file name, or "previous": what the cursor stays on across a reload
    path: Path | None
    name: str  # shown (escaped)
    created_at: str  # ISO 8601 as the backup says it
    sort_time: float
    kind: str  # a KIND_WORDS value, or "damaged"
    size: int  # the archive's bytes (the previous configuration: its files' bytes)
    hub_id: str  # shown
    hostname: str  # shown
    files: int = 0
    pinned: bool = False
    verified: Verified | None = None
    problem: str = ""  # why it cannot be read (shown)
    encrypted: bool = False

    @property
    def verified_word(self) -> str:
        if self.path is None:
            return "-"
        if self.problem:
            return "damaged"
        if self.verified is None:
            return "no"
        return "yes" if self.verified.ok else "FAILED"

    def summary(self) -> str:
        """When, what kind, from which unit, how large: the delete question's second line."""
        unit = f"hub {self.hub_id or '?'} ({self.hostname or '?'})"
        return f"{when(self.created_at) if self.created_at else 'time unknown'}, {self.kind}, {unit}, " \
               f"{human_size(self.size)}"

    def warning(self, rows: list[BackupRow]) -> str:
        """What deleting this one leaves: said in the question when it is the last of its kind."""
        said = []
        if self.kind != "damaged" and sum(1 for r in rows if r.kind == self.kind and r.path is not None) == 1:
            said.append(f"It is the only {self.kind} backup.")
        return " ".join(said)


@dataclass(frozen=True)
class Columns:
    """Column widths for one screen width: the name takes what is left."""

    width: int
    wide: bool  # the unit column and the year fit

    @classmethod
    def for_width(cls, width: int) -> Columns:
        return cls(width, width >= 72)

    def _cells(self) -> list[tuple[int, str]]:
        # (width, align) for: marker, name, date, kind, size, unit, verified
        date = 16 if self.wide else 11
        fixed = [(2, "<"), (0, "<"), (date, "<"), (11, "<"), (9, ">"), (6 if self.wide else 0, "<"), (8, "<")]
        used = sum(w + 1 for w, _ in fixed if w) + 2  # a space after each, the list's margins
        fixed[1] = (max(8, self.width - used), "<")
        return fixed

    def _join(self, values: list[str]) -> str:
        out = []
        for (width, align), value in zip(self._cells(), values, strict=True):
            if width:  # by cells, not characters: a name may hold wide characters
                value = value if cell_len(value) <= width else set_cell_size(value, width - 1) + "~"
                pad = " " * (width - cell_len(value))
                out.append(pad + value if align == ">" else value + pad)
        return " ".join(out)

    def heading(self) -> str:
        return self._join(["", "Name", "Made (UTC)", "Kind", "Size", "Unit", "Verified"])

    def line(self, row: BackupRow) -> str:
        made = _short_time(row.created_at, self.wide)
        size = human_size(row.size) if row.size or row.path is None else "?"
        return self._join([PIN if row.pinned else "", row.name, made, row.kind, size, row.hub_id or "?",
                           row.verified_word])


def _short_time(iso: str, year: bool) -> str:
    full = when(iso) if iso else "?"
    if len(full) >= 16 and full[4] == "-" and full.endswith(" UTC"):
        return full[:16] if year else full[5:16]
    return full[:16 if year else 11]


def details_lines(row: BackupRow) -> list[str]:
    """The highlighted backup in three short lines under the list (each cut at the screen's edge)."""
    unit = f"hub {row.hub_id or '?'} ({row.hostname or '?'})"
    if row.path is None:
        return ["Previous configuration: what the last restore replaced, kept whole.", f"{row.files} files of {unit}.",
                "Put it back with p on Administration."]
    if row.problem:
        return [f"File: {show(row.path.name)}", f"Cannot be read: {row.problem}", ""]
    encrypted = ", encrypted" if row.encrypted else ""
    pinned = "Pinned: never pruned. " if row.pinned else ""
    verified = row.verified
    if verified is None:
        said = "Not verified by this unit yet: v checks every checksum."
    elif verified.ok:
        said = f"Verified by this unit {when(verified.at)}: every checksum sound."
    else:
        said = f"Verify FAILED {when(verified.at)}: {show(verified.problem, limit=300)}"
    return [f"File: {show(row.path.name)}", f"{row.files} files of {unit}, made {when(row.created_at)}{encrypted}.",
            pinned + said]


def _row(listed: ListedBackup, pins: frozenset[str]) -> BackupRow:
    path, info = listed.path, listed.info
    if info is None:
        return BackupRow(path.name, path, show(path.name), "", listed.sort_time, "damaged", listed.size, "", "",
                         pinned=path.name in pins, verified=listed.verified, problem=show(listed.problem, limit=300))
    protection = listed.protected.protection if listed.protected is not None else None
    return BackupRow(
        path.name, path, show(info.name) or show(path.name), info.created_at, listed.sort_time,
        KIND_WORDS.get(info.kind, show(info.kind, limit=12)), listed.size, show(info.instance_id, limit=12),
        show(info.hostname, limit=64), len(info.files), path.name in pins, listed.verified,
        encrypted=protection is not None and protection.encrypted)


def _previous_row(previous: Any) -> BackupRow:
    try:
        stamp = datetime.fromisoformat(previous.replaced_at).timestamp()
    except (TypeError, ValueError, OverflowError):
        stamp = 0.0
    return BackupRow("previous", None, "before last restore", previous.replaced_at or "",
                     stamp, "previous", previous.bytes, show(previous.instance_id, limit=12),
                     show(previous.hostname, limit=64), previous.files)


def read_rows(settings: Settings) -> list[BackupRow]:
    """Every backup of the unit and the previous configuration, newest first (runs in a worker)."""
    from ...history.pins import pinned
    from ...restore import previous_configuration

    try:
        pins = pinned(settings)
    except (MftuiError, OSError):
        pins = frozenset()  # a damaged pins file: `mftui prune` says what is wrong with it
    rows = [_row(listed, pins) for listed in unit_backups(settings)]
    try:
        previous = previous_configuration(settings)
    except (MftuiError, OSError):
        previous = None  # `mftui list` says what is wrong with it
    if previous is not None:
        rows.append(_previous_row(previous))
    return sorted(rows, key=lambda r: (-r.sort_time, r.key))


def verify_row(settings: Settings, row: BackupRow, now: datetime) -> str:
    """Every check a restore makes on the archive, recorded for the list; one sentence saying how it went."""
    from ...protection import KeyNeeded, open_backup
    from ...restore import verify_backup

    assert row.path is not None
    at = now.isoformat(timespec="seconds")
    try:
        key = file_key(row.path.name, row.path.stat())
    except OSError as exc:
        return f"Not verified: {show(row.path.name)} cannot be read ({exc.strerror})."
    try:
        with open_backup(settings, row.path) as opened:
            verify_backup(settings, opened.plain)
    except KeyNeeded:
        return "Encrypted: choose it for restore (r) and give its key there; that checks every checksum."
    except MftuiError as exc:
        record_verified(settings, key, Verified(False, at, str(exc)))
        return f"Verify FAILED: {show(str(exc), limit=300)}"
    record_verified(settings, key, Verified(True, at))
    return f"Verified {show(row.path.name)}: every checksum sound."


def delete_row(settings: Settings, row: BackupRow) -> str:
    """Delete the backup file (under the instance lock; a pinned one is refused); one sentence saying how it went."""
    from ...history.retention import delete_backup

    assert row.path is not None
    try:
        delete_backup(settings, row.path.name)
    except MftuiError as exc:
        return f"Not deleted: {show(str(exc), limit=None)}"
    return f"Deleted {show(row.path.name)}."


def pin_row(settings: Settings, row: BackupRow) -> str:
    """Pin the backup (retention never removes it), or unpin it; one sentence saying which."""
    from ...history.pins import set_pin

    assert row.path is not None
    try:
        set_pin(settings, row.path.name, not row.pinned)
    except MftuiError as exc:
        return f"Not changed: {show(str(exc), limit=None)}"
    return f"{'Unpinned' if row.pinned else 'Pinned (never pruned)'}: {show(row.path.name)}."
