"""Backup archive format v1: the names, the metadata schema, in one place.

See docs/FORMAT.md. A reader refuses a newer format version rather than
misread it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from ..errors import ArchiveError

FORMAT = "mftui-backup"
FORMAT_VERSION = 1
METADATA_NAME = "backup.json"
CONFIG_PREFIX = "config/"
MAX_METADATA_BYTES = 64 * 1024 * 1024  # 50,000 entries need about 10 MB
SAFETY_KIND = "safety"  # a backup taken by a restore of the configuration it replaced

_SHA256 = re.compile(r"[0-9a-f]{64}\Z")
_MODE = re.compile(r"0[0-7]{3}\Z")


@dataclass(frozen=True)
class FileEntry:
    """One configuration file in the manifest."""

    path: str  # relative to the instance root, "/"-separated
    size: int
    sha256: str
    mode: int = 0o644  # permission bits; never setuid, setgid or sticky
    component: str = "other"

    def to_json(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "size": self.size,
            "sha256": self.sha256,
            "mode": f"{self.mode:04o}",
            "component": self.component,
        }


@dataclass(frozen=True)
class BackupInfo:
    """What ``backup.json`` says about a backup."""

    name: str
    created_at: str  # ISO 8601 with time zone
    tool_version: str
    product: str
    product_version: str
    instance_id: str
    hostname: str
    files: tuple[FileEntry, ...]
    kind: str = "manual"  # "manual" or "safety"
    format_version: int = FORMAT_VERSION
    components: dict[str, int] = field(default_factory=dict)

    @property
    def total_bytes(self) -> int:
        return sum(f.size for f in self.files)

    @property
    def created(self) -> datetime:
        return datetime.fromisoformat(self.created_at)

    def to_json(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "format_version": self.format_version,
            "name": self.name,
            "kind": self.kind,
            "created_at": self.created_at,
            "tool": {"name": "mftui", "version": self.tool_version},
            "instance": {
                "product": self.product,
                "version": self.product_version,
                "id": self.instance_id,
                "hostname": self.hostname,
            },
            "components": dict(sorted(self.components.items())),
            "totals": {"files": len(self.files), "bytes": self.total_bytes},
            "files": [f.to_json() for f in self.files],
        }

    @classmethod
    def from_json(cls, data: Any) -> BackupInfo:
        """Parse and check ``backup.json``; any deviation is an ArchiveError."""

        def bad(what: str) -> ArchiveError:
            return ArchiveError(f"the backup information (backup.json) is not valid: {what}")

        if not isinstance(data, dict):
            raise bad("it is not a JSON object")
        if data.get("format") != FORMAT:
            raise ArchiveError("this zip is not an mftui backup (backup.json does not name the mftui format)")
        version = data.get("format_version")
        if not isinstance(version, int) or isinstance(version, bool):
            raise bad("format_version is missing")
        if version > FORMAT_VERSION:
            made_by = _str(data.get("tool", {}), "version") if isinstance(data.get("tool"), dict) else ""
            raise ArchiveError(
                f"this backup uses format version {version}"
                + (f" (made by mftui {made_by})" if made_by else "")
                + f"; this mftui reads up to version {FORMAT_VERSION}. Update mftui to restore it."
            )
        if version < 1:
            raise bad(f"format_version {version} does not exist")
        inst = data.get("instance")
        tool = data.get("tool")
        if not isinstance(inst, dict) or not isinstance(tool, dict):
            raise bad("the instance or tool section is missing")
        created = data.get("created_at")
        try:
            stamp = datetime.fromisoformat(created) if isinstance(created, str) else None
        except ValueError:
            stamp = None
        if stamp is None or stamp.tzinfo is None:
            raise bad("created_at is not a date and time with a time zone")
        raw_files = data.get("files")
        if not isinstance(raw_files, list):
            raise bad("the files list is missing")
        files = tuple(_file_entry(item, bad) for item in raw_files)
        components = data.get("components", {})
        if not isinstance(components, dict) or not all(
            isinstance(k, str) and isinstance(v, int) for k, v in components.items()
        ):
            raise bad("components is not a table of counts")
        kind = data.get("kind", "manual")
        return cls(
            name=_str(data, "name"),
            created_at=created,
            tool_version=_str(tool, "version"),
            product=_str(inst, "product"),
            product_version=_str(inst, "version"),
            instance_id=_str(inst, "id"),
            hostname=_str(inst, "hostname"),
            files=files,
            kind=kind if isinstance(kind, str) else "manual",
            format_version=version,
            components=components,
        )


def _str(obj: dict[str, Any], key: str) -> str:
    value = obj.get(key, "")
    return value if isinstance(value, str) else str(value)


def _file_entry(item: Any, bad: Any) -> FileEntry:
    if not isinstance(item, dict):
        raise bad("an entry of the files list is not an object")
    path, size, sha, mode = item.get("path"), item.get("size"), item.get("sha256"), item.get("mode", "0644")
    if not isinstance(path, str) or not path:
        raise bad("a file entry has no path")
    if not isinstance(size, int) or isinstance(size, bool) or size < 0:
        raise bad(f"{path}: size is not a whole number of bytes")
    if not isinstance(sha, str) or not _SHA256.match(sha):
        raise bad(f"{path}: sha256 is not 64 lowercase hex digits")
    if not isinstance(mode, str) or not _MODE.match(mode):
        raise bad(f"{path}: mode {mode!r} is not a permission such as 0644 (setuid, setgid and sticky are refused)")
    component = item.get("component", "other")
    return FileEntry(path, size, sha, int(mode, 8), component if isinstance(component, str) else "other")
