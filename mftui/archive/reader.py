"""Read a backup archive: its information, and a full verification.

Both go through the strict zip parser of archive/validate.py: there is one
reading of the zip container in mftui, and it is the restore's.
"""

from __future__ import annotations

from pathlib import Path

from ..progress import Progress, no_progress
from ..settings import Budgets
from .format import BackupInfo


def read_info(path: Path) -> BackupInfo:
    """The backup information, reading only the end records and backup.json.

    Reads nothing of the other entries (see validate.read_info): the cost
    grows only with the size of backup.json; the file entries are checked
    when first used.
    """
    from .validate import read_info as read

    return read(Path(path))


def verify(path: Path, progress: Progress = no_progress, budgets: Budgets | None = None) -> BackupInfo:
    """Every check a restore makes on an archive, and every checksum; raise ArchiveError with the first reason.

    The same strict validation as a restore (archive/validate.py): a zip
    that ``verify`` accepts is one a restore accepts, and the other way round.
    ``budgets`` defaults to the built-in limits; pass ``settings.budgets`` to
    apply the configured ones.
    """
    from .validate import validate_archive

    return validate_archive(Path(path), budgets, progress)
