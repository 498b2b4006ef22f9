"""Read a backup archive: its information, and a full verification.

Both go through the strict zip parser of archive/validate.py: there is one
reading of the zip container in mftui, and it is the restore's.
"""

from __future__ import annotations

from pathlib import Path

from ..progress import Progress, no_progress
from ..settings import Budgets
from .format import BackupInfo


def read_info(path: Path, *, summary: bool = False, budgets: Budgets | None = None) -> BackupInfo:
    """The backup information, reading only the end records and backup.json.

    Reads nothing of the other entries (see validate.read_info): the cost
    grows only with the size of backup.json; the file entries are checked
    when first used. ``summary``: keep of the files only their count and
    bytes (BackupInfo.summary), for a caller that holds the information of
    many backups (``mftui list``): a few numbers each instead of every entry.
    ``budgets``: the unit's ``[limits]`` (the built-in ones by default); an
    archive of more entries than a restore accepts is refused.
    """
    from .validate import read_info as read

    info = read(Path(path), budgets)
    return info.summary() if summary else info


def verify(path: Path, progress: Progress = no_progress, budgets: Budgets | None = None) -> BackupInfo:
    """The archive-level checks and every checksum; raise ArchiveError with the first reason.

    The container, the names, the manifest and the budgets (``budgets``
    defaults to the built-in limits). It knows nothing of a unit's settings:
    ``mftui verify`` and the TUI use :func:`mftui.restore.verify_backup`,
    which adds what a restore of this unit checks (``[limits]``,
    ``include``/``exclude``, the product), so that verify and restore give one answer.
    """
    from .validate import validate_archive

    return validate_archive(Path(path), budgets, progress)
