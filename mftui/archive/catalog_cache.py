"""What the list of backups learnt about each archive, kept between runs in the state folder.

``mftui list`` and the Backups screen read each archive's end records and
backup.json; with a thousand backups that is most of their time. This cache
keeps, per archive, the summary of its backup.json and whether this unit
verified it completely, keyed by the file's name, size, mtime (ns) and inode:
a file replaced, rewritten or touched is read again. It is a convenience,
never a source of truth: a damaged, foreign or unreadable cache is ignored
(and rewritten), and a cache that cannot be written is not an error. It is
read and written only through state.py (``read_small``/``replace_file``:
never through a link), in the state folder mftui made.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from .. import __version__
from ..errors import MftuiError
from ..settings import Budgets, Settings
from ..state import checked_state_dir, read_small, replace_file
from .format import BackupInfo, FileSummary

CACHE_NAME = "catalog-cache.json"
FORMAT = 1
LIMIT = 16 * 1024 * 1024  # some 400 bytes a backup: far more than a unit keeps

Key = tuple[str, int, int, int]  # name, size, mtime_ns, inode


def file_key(name: str, st: os.stat_result) -> Key:
    """What identifies one version of one archive: a change to any of these reads it again."""
    return (name, st.st_size, st.st_mtime_ns, st.st_ino)


@dataclass(frozen=True)
class Verified:
    """The result of a complete verify of one archive by this unit (every checksum, this unit's checks)."""

    ok: bool
    at: str  # when, ISO 8601
    problem: str = ""  # the refusal when not ok

    def to_json(self) -> dict[str, Any]:
        return {"ok": self.ok, "at": self.at, "problem": self.problem}


_INFO_TEXT = ("name", "created_at", "tool_version", "product", "product_version", "instance_id", "hostname", "kind")


def _info_to_json(info: BackupInfo) -> dict[str, Any]:
    data: dict[str, Any] = {field: getattr(info, field) for field in _INFO_TEXT}
    data.update(format_version=info.format_version, components=dict(info.components),
                files=len(info.files), bytes=info.total_bytes)
    return data


def _info_from_json(data: Any) -> BackupInfo | None:
    """A summary BackupInfo, or None for anything that is not exactly what _info_to_json wrote."""
    if not isinstance(data, dict):
        return None
    text = {field: data.get(field) for field in _INFO_TEXT if isinstance(data.get(field), str)}
    numbers = (data.get("format_version"), data.get("files"), data.get("bytes"))
    components = data.get("components")
    if len(text) != len(_INFO_TEXT):
        return None
    if not all(type(n) is int and n >= 0 for n in numbers) or not isinstance(components, dict):
        return None
    if not all(isinstance(k, str) and type(v) is int for k, v in components.items()):
        return None
    version, files, total = (int(n) for n in numbers)  # type: ignore[arg-type]
    return BackupInfo(files=FileSummary(files, total), format_version=version, components=components,
                      **{k: str(v) for k, v in text.items()})


def _verified_from_json(data: Any) -> Verified | None:
    if not isinstance(data, dict) or not isinstance(data.get("ok"), bool):
        return None
    at, problem = data.get("at"), data.get("problem", "")
    if not isinstance(at, str) or not isinstance(problem, str):
        return None
    return Verified(data["ok"], at, problem)


class CatalogCache:
    """The cache of one state folder (or none: ``state`` None keeps it in memory only)."""

    def __init__(self, state: Path | None, budgets: Budgets | None = None) -> None:
        self.state = state
        self.scope = {"format": FORMAT, "tool": __version__, "budgets": asdict(budgets or Budgets())}
        self.entries: dict[str, dict[str, Any]] = {}
        self.dirty = False
        self.problem = ""  # why the cache on disk was not used (damaged, unreadable); "" when it was

    @classmethod
    def of(cls, settings: Settings) -> CatalogCache:
        """The unit's cache, loaded; in memory only when the unit has no (trusted) state folder yet."""
        try:
            state = checked_state_dir(settings, create=False)
        except (MftuiError, OSError):
            state = None  # not ours to trust: list without a cache (the restore says what is wrong)
        cache = cls(state, settings.budgets)
        cache.load()
        return cache

    def load(self) -> None:
        if self.state is None:
            return
        try:
            raw = read_small(self.state, CACHE_NAME, LIMIT)
            if raw is None:
                return
            data = json.loads(raw)
        except (MftuiError, OSError, ValueError) as exc:  # a link, too large, not JSON: start afresh
            self.problem, self.dirty = str(exc) or type(exc).__name__, True
            return
        if not isinstance(data, dict) or not isinstance(data.get("entries"), dict):
            self.problem, self.dirty = "not a catalog cache", True
            return
        if data.get("scope") != self.scope:
            self.dirty = True  # another version of mftui or other [limits]: what it says may not hold
            return
        self.entries = {name: entry for name, entry in data["entries"].items()
                        if isinstance(entry, dict) and isinstance(entry.get("key"), list)}

    def _entry(self, key: Key) -> dict[str, Any] | None:
        entry = self.entries.get(key[0])
        return entry if entry is not None and entry.get("key") == list(key[1:]) else None

    def _entry_for_write(self, key: Key) -> dict[str, Any]:
        entry = self._entry(key)
        if entry is None:
            entry = self.entries[key[0]] = {"key": list(key[1:])}  # another version of the file: forget the old
        self.dirty = True
        return entry

    def info(self, key: Key) -> BackupInfo | None:
        """The summary this archive (this version of it) was last read as, or None."""
        entry = self._entry(key)
        return _info_from_json(entry.get("info")) if entry is not None else None

    def put_info(self, key: Key, info: BackupInfo) -> None:
        self._entry_for_write(key)["info"] = _info_to_json(info)

    def verified(self, key: Key) -> Verified | None:
        """This unit's last complete verify of this version of the archive, or None (never verified)."""
        entry = self._entry(key)
        return _verified_from_json(entry.get("verified")) if entry is not None else None

    def put_verified(self, key: Key, verified: Verified) -> None:
        self._entry_for_write(key)["verified"] = verified.to_json()

    def keep_only(self, names: set[str]) -> None:
        """Forget the archives no longer in the folder (deleted, pruned, renamed)."""
        gone = set(self.entries) - names
        for name in gone:
            del self.entries[name]
        self.dirty = self.dirty or bool(gone)

    def save(self) -> None:
        """Write the cache if it changed; a cache that cannot be written is only slower next time."""
        if self.state is None or not self.dirty:
            return
        data = {"scope": self.scope, "entries": self.entries}
        try:
            replace_file(self.state, CACHE_NAME, json.dumps(data, separators=(",", ":")).encode())
        except (MftuiError, OSError):
            return
        self.dirty = False


def record_verified(settings: Settings, key: Key, verified: Verified) -> None:
    """Note this unit's complete verify of one archive: the Backups screen shows it.

    ``key``: the file's identity taken *before* the verify began (:func:`file_key`),
    so a file changed meanwhile is simply not found verified.
    """
    cache = CatalogCache.of(settings)
    cache.put_verified(key, verified)
    cache.save()
