"""The backups folder: which backups there are, newest first.

One archive that cannot be read (or whose backup.json is broken) is one row
with its problem; it never keeps the others from being listed. What each
archive's backup.json says, and whether this unit verified it, is kept in
the state folder (catalog_cache.py): a thousand backups list in a blink.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from stat import S_ISREG
from typing import Any

from ..errors import ArchiveError
from ..settings import Budgets, Settings
from ..wording import os_error_sentence
from .catalog_cache import CatalogCache, Verified, file_key
from .format import BackupInfo
from .protected import ProtectedBackup, is_protected, read_protected
from .reader import read_info


@dataclass(frozen=True)
class ListedBackup:
    """One archive in the backups folder; ``info`` is None when it cannot be read."""

    path: Path
    size: int
    mtime: float
    info: BackupInfo | None
    problem: str = ""
    total_bytes: int = 0  # the configuration's size (what backup.json says), 0 when unreadable
    protected: ProtectedBackup | None = None  # a protected backup's public part (its protection, its signature)
    verified: Verified | None = None  # this unit's last complete verify of this very file (the cache's record)

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"path": str(self.path), "archive_bytes": self.size, "ok": self.info is not None}
        if self.info is None:
            data["problem"] = self.problem
        else:
            data.update(
                name=self.info.name,
                kind=self.info.kind,
                created_at=self.info.created_at,
                instance_id=self.info.instance_id,
                hostname=self.info.hostname,
                files=len(self.info.files),
                bytes=self.total_bytes,
                encrypted=False,
            )
            protection = self.protected.protection if self.protected is not None else None
            if protection is not None and protection.encrypted:
                data["encrypted"] = {"method": protection.encryption, "recipients": list(protection.recipients)}
        if self.verified is not None:
            data["verified"] = self.verified.to_json()
        return data

    @property
    def sort_time(self) -> float:
        """When the backup was made (backup.json's created_at), or the file's time when that is unusable."""
        if self.info is not None:
            try:
                return self.info.created.timestamp()
            except (ValueError, OverflowError, OSError):
                pass  # a year the platform's clock cannot hold: the file's time will do to sort by
        return self.mtime


def backup_files(backups_dir: Path) -> list[Path]:
    """The backup files of the folder: every ``*.zip`` (any case), not the hidden partial ones.

    The one answer to "which files are backups": the list and every count of backups use it.
    """
    try:
        return [p for p in backups_dir.iterdir() if not p.name.startswith(".") and p.suffix.lower() == ".zip"]
    except OSError:
        return []


def unit_backups(settings: Settings) -> list[ListedBackup]:
    """The unit's backups, newest first, through the cache in its state folder (see catalog_cache.py)."""
    return list_backups(settings.backups_dir, settings.budgets, cache=CatalogCache.of(settings))


def list_backups(backups_dir: Path, budgets: Budgets | None = None, *,
                 cache: CatalogCache | None = None) -> list[ListedBackup]:
    """Every backup file in the folder (see :func:`backup_files`), newest first.

    ``budgets``: the unit's ``[limits]`` (a backup over them is listed with that problem).
    ``cache``: what earlier lists learnt (kept up to date here, and saved when it changed).
    """
    found: list[ListedBackup] = []
    files = backup_files(backups_dir)
    for path in files:
        listed = _listed(path, budgets, cache)
        if listed is not None:
            found.append(listed)
    if cache is not None:
        cache.keep_only({path.name for path in files})
        cache.save()

    def newest_first(b: ListedBackup) -> tuple[float, float, str]:
        return (-b.sort_time, -b.mtime, b.path.name)  # two made in the same second: the one written last

    return sorted(found, key=newest_first)


def _listed(path: Path, budgets: Budgets | None, cache: CatalogCache | None = None) -> ListedBackup | None:
    """One archive's row; None for what is not a backup file (a folder, or a file gone meanwhile)."""
    try:
        st = path.stat()
    except FileNotFoundError:
        return None  # removed while the folder was being listed
    except OSError as exc:
        return ListedBackup(path, 0, 0.0, None, os_error_sentence(exc))
    if not S_ISREG(st.st_mode):
        return None
    key = file_key(path.name, st)
    verified = cache.verified(key) if cache is not None else None
    cached = cache.info(key) if cache is not None else None
    if cached is not None:  # a plain backup read before, unchanged since
        return ListedBackup(path, st.st_size, st.st_mtime, cached, total_bytes=cached.total_bytes, verified=verified)
    protected = None
    try:
        if is_protected(path):  # format 2: the public backup.json, already a summary
            protected = read_protected(path)
            info = protected.info
        else:
            info = read_info(path, summary=True, budgets=budgets)  # the count and bytes of the files, not every entry
        total = info.total_bytes  # a broken size in the manifest shows here, as this row's problem
    except ArchiveError as exc:
        return ListedBackup(path, st.st_size, st.st_mtime, None, str(exc), verified=verified)
    except OSError as exc:
        return ListedBackup(path, st.st_size, st.st_mtime, None, os_error_sentence(exc), verified=verified)
    if cache is not None and protected is None:  # a protected one is read afresh: its signature is checked
        cache.put_info(key, info)
    return ListedBackup(path, st.st_size, st.st_mtime, info, total_bytes=total, protected=protected,
                        verified=verified)
