"""Read a backup archive: its information, and a full verification."""

from __future__ import annotations

import json
import zipfile
import zlib
from pathlib import Path

from ..errors import ArchiveError
from ..progress import Progress, no_progress
from ..settings import Budgets
from .format import MAX_METADATA_BYTES, METADATA_NAME, BackupInfo

CHUNK = 1024 * 1024
# What zipfile and zlib raise on damaged data.
READ_ERRORS = (zipfile.BadZipFile, zlib.error, OSError, EOFError, ValueError, NotImplementedError, RuntimeError)


def open_zip(path: Path) -> zipfile.ZipFile:
    """Open an archive, turning every way it can fail into one clear ArchiveError."""
    try:
        return zipfile.ZipFile(path)
    except FileNotFoundError:
        raise ArchiveError(f"{path} does not exist; check the path") from None
    except IsADirectoryError:
        raise ArchiveError(f"{path} is a folder, not a backup archive") from None
    except PermissionError:
        raise ArchiveError(f"{path} cannot be read (permission denied)") from None
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError) as exc:
        raise ArchiveError(
            f"{path.name} is not a readable zip archive ({exc}); it may be truncated or damaged"
        ) from None


def read_info_from(zf: zipfile.ZipFile) -> BackupInfo:
    """Parse ``backup.json`` of an open archive (central directory + that one entry)."""
    try:
        member = zf.getinfo(METADATA_NAME)
    except KeyError:
        raise ArchiveError("this zip is not an mftui backup: it has no backup.json") from None
    if member.file_size > MAX_METADATA_BYTES:
        raise ArchiveError(f"backup.json claims {member.file_size} bytes, more than any real backup needs")
    try:
        with zf.open(member) as fh:
            raw = fh.read(MAX_METADATA_BYTES + 1)
    except READ_ERRORS as exc:
        raise ArchiveError(f"backup.json cannot be read ({exc}); the archive is damaged") from None
    if len(raw) > MAX_METADATA_BYTES:
        raise ArchiveError("backup.json inflates to more than any real backup needs; the archive is refused")
    try:
        data = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise ArchiveError("backup.json is not valid JSON; the archive is damaged") from None
    return BackupInfo.from_json(data)


def read_info(path: Path) -> BackupInfo:
    """The backup information, reading only the central directory and backup.json."""
    with open_zip(path) as zf:
        return read_info_from(zf)


def verify(path: Path, progress: Progress = no_progress, budgets: Budgets | None = None) -> BackupInfo:
    """Every check a restore makes on an archive, and every checksum; raise ArchiveError with the first reason.

    The same strict validation as a restore (archive/validate.py): a zip
    that ``verify`` accepts is one a restore accepts, and the other way round.
    ``budgets`` defaults to the built-in limits; pass ``settings.budgets`` to
    apply the configured ones.
    """
    from .validate import validate_archive

    return validate_archive(Path(path), budgets, progress)
