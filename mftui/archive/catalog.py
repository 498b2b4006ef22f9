"""The backups folder: which backups there are, newest first."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import ArchiveError
from .format import BackupInfo
from .reader import read_info


@dataclass(frozen=True)
class ListedBackup:
    """One archive in the backups folder; ``info`` is None when it cannot be read."""

    path: Path
    size: int
    mtime: float
    info: BackupInfo | None
    problem: str = ""

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
                bytes=self.info.total_bytes,
            )
        return data


def list_backups(backups_dir: Path) -> list[ListedBackup]:
    """Every ``*.zip`` in the folder (not the hidden partial ones), newest first."""
    if not backups_dir.is_dir():
        return []
    found: list[ListedBackup] = []
    for path in backups_dir.iterdir():
        if path.name.startswith(".") or path.suffix.lower() != ".zip" or not path.is_file():
            continue
        st = path.stat()
        try:
            found.append(ListedBackup(path, st.st_size, st.st_mtime, read_info(path)))
        except ArchiveError as exc:
            found.append(ListedBackup(path, st.st_size, st.st_mtime, None, str(exc)))

    def newest_first(b: ListedBackup) -> tuple[float, str]:
        when = b.info.created.timestamp() if b.info else b.mtime
        return (-when, b.path.name)

    return sorted(found, key=newest_first)
