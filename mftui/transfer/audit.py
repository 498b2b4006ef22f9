"""Transfers in the audit log: ``copy``, ``send`` and ``receive``, with their outcome.

The audit log itself is history/audit.py (``record``, which never raises).
Recording never changes a transfer's outcome: what ``record`` says went
wrong is kept in ``Note.problem``.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from ..settings import Settings
from .copy import CopyResult, copy_verified


@dataclass
class Note:
    """What the audit line says about the transfer; filled in as it goes."""

    archive: Path | None = None
    sha256: str | None = None
    detail: str | None = None
    problem: str | None = None  # the audit log could not be written (the transfer itself is unaffected)


def record(settings: Settings, action: str, outcome: str, note: Note) -> str | None:
    """One line in the audit log; None, or why it could not be written."""
    from ..history.audit import record as append

    return append(settings, action, outcome, archive=note.archive, sha256=note.sha256, detail=note.detail)


@contextmanager
def audited(settings: Settings, action: str, archive: Path | None, *, detail: str | None = None) -> Iterator[Note]:
    """Record ``action`` when the block ends: "ok", or "failed" with the reason."""
    note = Note(archive, None, detail)
    try:
        yield note
    except BaseException as exc:
        reason = str(exc) or type(exc).__name__
        note.detail = f"{detail}: {reason}" if detail else reason
        note.problem = record(settings, action, "failed", note)
        raise
    note.problem = record(settings, action, "ok", note)


def copy_recorded(settings: Settings, source: Path, folder: Path, expected_sha256: str | None = None) -> CopyResult:
    """``copy_verified``, recorded in the audit log as ``copy`` (the CLI's ``mftui copy`` and Download Zip)."""
    with audited(settings, "copy", source, detail=f"to {folder}") as note:
        result = copy_verified(source, folder, expected_sha256)
        note.sha256, note.detail = result.sha256, f"to {result.path}"
    return result
