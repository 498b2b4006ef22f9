"""Backup archive format v1: the names, the metadata schema, in one place.

See docs/FORMAT.md. A reader refuses a newer format version rather than
misread it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from itertools import repeat
from operator import itemgetter
from typing import Any, NamedTuple, overload

from ..errors import ArchiveError
from ..text import show, text_problem
from .paths import CONFIG_PREFIX

FORMAT = "mftui-backup"
FORMAT_VERSION = 1
METADATA_NAME = "backup.json"
# The unit's identity file, whose product, hub id and hostname backup.json repeats (instance.read_identity).
IDENTITY_NAME = CONFIG_PREFIX + "instance.json"
SAFETY_KIND = "safety"  # a backup taken by a restore of the configuration it replaced
SCHEDULED_KIND = "scheduled"  # made by the timer (mftui backup --scheduled)
KINDS = ("manual", SCHEDULED_KIND, SAFETY_KIND)

_SHA256 = re.compile(r"[0-9a-f]{64}\Z")
_MODE = re.compile(r"0[0-7]{3}\Z")


class FileEntry(NamedTuple):
    """One configuration file in the manifest.

    A named tuple, not a dataclass: a backup of 50,000 files holds 50,000 of
    them, and a tuple is built in a third of the time and takes half the memory.
    """

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


_SIZE = itemgetter(1)  # a FileEntry's size


class FileList(Sequence[FileEntry]):
    """The ``files`` of a parsed ``backup.json``: checked and built on first use.

    ``len()`` and :meth:`total_bytes` answer from the parsed JSON (a broken
    size is still an error naming its entry); anything that looks at the
    entries themselves (iteration, indexing, ``in``) first checks every one of
    them and raises ArchiveError naming the first that is broken. Showing a
    backup's information (``mftui inspect``, ``mftui list``) so costs little
    more for 20,000 files than for 300 (parsing backup.json); verify, restore
    and compare, which use the entries, get every one checked.
    """

    __slots__ = ("_raw", "_entries", "_total")

    def __init__(self, raw: list[Any]) -> None:
        self._raw: list[Any] | None = raw
        self._entries: tuple[FileEntry, ...] | None = None
        self._total: int | None = None

    @property
    def entries(self) -> tuple[FileEntry, ...]:
        """Every entry, checked (ArchiveError names the first broken one)."""
        if self._entries is None:
            assert self._raw is not None
            self._entries = _file_entries(self._raw)
            self._raw = None  # the JSON objects are no longer needed
        return self._entries

    def total_bytes(self) -> int:
        """The sum of the sizes; ArchiveError naming the entry whose size is broken."""
        if self._total is None:
            self._total = self._sum_sizes()
        return self._total

    def _sum_sizes(self) -> int:
        raw = self._raw
        if raw:
            try:
                return sum(map(_SIZE, raw))  # every entry built as it was parsed (format.parse_metadata)
            except (KeyError, TypeError):
                pass  # a broken entry (a JSON object as parsed), or something else
            total = 0
            for item in raw:
                if type(item) is FileEntry:
                    total += item.size
                elif type(item) is dict and type(size := item.get("size")) is int and size >= 0:
                    total += size  # an entry broken otherwise: its size still counts
                else:
                    break
            else:
                return total
        return sum(f.size for f in self.entries)  # raises for the entry that is broken

    def __len__(self) -> int:
        return len(self._raw) if self._raw is not None else len(self.entries)

    @overload
    def __getitem__(self, index: int) -> FileEntry: ...
    @overload
    def __getitem__(self, index: slice) -> tuple[FileEntry, ...]: ...
    def __getitem__(self, index: int | slice) -> FileEntry | tuple[FileEntry, ...]:
        return self.entries[index]

    def __iter__(self) -> Iterator[FileEntry]:
        return iter(self.entries)

    def __contains__(self, value: object) -> bool:
        return value in self.entries

    def __eq__(self, other: object) -> bool:
        if isinstance(other, FileList):
            return self.entries == other.entries
        if isinstance(other, tuple):
            return self.entries == other
        return NotImplemented

    def __hash__(self) -> int:
        return hash(self.entries)

    def __repr__(self) -> str:
        return f"FileList({len(self)} files)"


class FileSummary(Sequence[FileEntry]):
    """The files of a backup as a list of them shows them: how many, and their bytes; not the entries.

    What :meth:`BackupInfo.summary` keeps of a files list, so that a list of many
    large backups (``mftui list``) holds a few numbers per backup, not every entry.
    """

    __slots__ = ("_count", "_total")

    def __init__(self, count: int, total: int) -> None:
        self._count = count
        self._total = total

    def __len__(self) -> int:
        return self._count

    def total_bytes(self) -> int:
        return self._total

    @overload
    def __getitem__(self, index: int) -> FileEntry: ...
    @overload
    def __getitem__(self, index: slice) -> tuple[FileEntry, ...]: ...
    def __getitem__(self, index: int | slice) -> FileEntry | tuple[FileEntry, ...]:
        raise TypeError("a summary of the files holds no entries: read the backup to use them")

    def __repr__(self) -> str:
        return f"FileSummary({self._count} files, {self._total} bytes)"


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
    files: Sequence[FileEntry]  # a tuple, or a FileList as parsed from backup.json
    kind: str = "manual"  # "manual", "scheduled" or "safety"
    format_version: int = FORMAT_VERSION
    components: dict[str, int] = field(default_factory=dict)

    @property
    def total_bytes(self) -> int:
        if isinstance(self.files, (FileList, FileSummary)):
            return self.files.total_bytes()
        return sum(f.size for f in self.files)

    def summary(self) -> BackupInfo:
        """This information with its files as a count and a total (FileSummary): what a list of backups keeps.

        ArchiveError naming the entry when a size in the files list is broken.
        """
        return replace(self, files=FileSummary(len(self.files), self.total_bytes))

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
        """Parse and check ``backup.json``; any deviation is an ArchiveError.

        The file entries are checked when first used (see FileList): whatever
        iterates them (verify, compare, restore) gets the error naming the
        broken one; the count and the total size are available before that.
        """

        if not isinstance(data, dict):
            raise _bad("it is not a JSON object")
        if data.get("format") != FORMAT:
            raise ArchiveError("this zip is not an mftui backup (backup.json does not name the mftui format)")
        version = _format_version(data)
        inst = data.get("instance")
        tool = data.get("tool")
        if not isinstance(inst, dict) or not isinstance(tool, dict):
            raise _bad("the instance or tool section is missing")
        created = _created_at(data)
        raw_files = data.get("files")
        if not isinstance(raw_files, list):
            raise _bad("the files list is missing")
        files = FileList(raw_files)  # its entries are checked when first used
        components = data.get("components", {})
        if not isinstance(components, dict) or not all(
            isinstance(k, str) and isinstance(v, int) for k, v in components.items()
        ):
            raise _bad("components is not a table of counts")
        kind = data.get("kind", "manual")
        if kind not in KINDS:
            raise _bad(f"kind {show(str(kind), limit=40)!r} is neither manual nor safety nor scheduled")
        return cls(
            name=_text(data, "name"),
            created_at=created,
            tool_version=_text(tool, "version", "tool."),
            product=_text(inst, "product", "instance."),
            product_version=_text(inst, "version", "instance."),
            instance_id=_text(inst, "id", "instance."),
            hostname=_text(inst, "hostname", "instance."),
            files=files,
            kind=kind,
            format_version=version,
            components=components,
        )


def _format_version(data: dict[str, Any]) -> int:
    """The format version: a whole number this mftui reads (a newer one says which mftui made it)."""
    if "format_version" not in data:
        raise _bad("format_version is missing")
    version = data["format_version"]
    if not isinstance(version, int) or isinstance(version, bool):
        raise _bad(f"format_version must be a whole number, not {show(json.dumps(version), limit=40)}")
    if version > FORMAT_VERSION:
        made_by = _str(data.get("tool", {}), "version") if isinstance(data.get("tool"), dict) else ""
        raise ArchiveError(
            f"this backup uses format version {version}"
            + (f" (made by {show('mftui ' + made_by, limit=40)})" if made_by else "")
            + f"; this mftui reads up to version {FORMAT_VERSION}. Update mftui to restore it."
        )
    if version < 1:
        raise _bad(f"format_version {version} does not exist")
    return version


def _created_at(data: dict[str, Any]) -> str:
    """``created_at``: an ISO time with a time zone, which exists in UTC too (so every reader can show it)."""
    created = _text(data, "created_at")
    try:
        stamp = datetime.fromisoformat(created)
    except ValueError:
        stamp = None
    if stamp is None or stamp.tzinfo is None:
        raise _bad("created_at is not a date and time with a time zone")
    try:
        stamp.astimezone(UTC)
    except OverflowError:
        raise _bad(f"created_at {show(created, limit=40)} cannot be put in UTC (before year 1 or after 9999)"
                   ) from None
    return created


def _text(obj: dict[str, Any], key: str, section: str = "") -> str:
    """The string at ``key``: present, text, and free of control characters and lone surrogates."""
    if key not in obj:
        raise _bad(f"{section}{key} is missing")
    value = obj[key]
    if not isinstance(value, str):
        raise _bad(f"{section}{key} is not text")
    problem = text_problem(value)
    if problem:  # a crafted backup.json (escape sequences for the terminal): refused, as a hostile archive is
        raise ArchiveError(f"the archive is refused: backup.json's {section}{key} {problem}", METADATA_NAME)
    return value


def _str(obj: dict[str, Any], key: str) -> str:
    value = obj.get(key, "")
    return value if isinstance(value, str) else str(value)


def _bad(what: str, entry: str | None = None) -> ArchiveError:
    return ArchiveError(f"the backup information (backup.json) is not valid: {what}", entry)


# "0000" to "0777" -> the permission bits: the only modes a manifest may hold.
_MODES = {f"0{bits:03o}": bits for bits in range(0o1000)}


def _file_entries(raw: list[Any]) -> tuple[FileEntry, ...]:
    """Check and build every entry of the files list; ArchiveError names the first broken one.

    :func:`quick_entry` does only what a valid entry needs (about a
    microsecond each); an entry it does not accept goes through
    :func:`file_entry`, which says exactly what is wrong with it. Entries
    that :func:`parse_metadata` already built are taken as they are.
    """
    out: list[FileEntry] = []
    append = out.append
    quick = quick_entry
    components: dict[str, str] = {}
    for item in raw:
        entry = item if type(item) is FileEntry else quick(item, components)
        append(entry if entry is not None else file_entry(item, len(out)))  # file_entry raises
    return tuple(out)


def quick_entry(item: Any, components: dict[str, str]) -> FileEntry | None:
    """The entry for a valid JSON object of the files list; None for anything else (not an error yet).

    ``components`` keeps one string per component name, not one per file.
    """
    if type(item) is not dict:
        return None
    path = item.get("path")
    size = item.get("size")
    sha = item.get("sha256")
    mode = item.get("mode", "0644")
    if (
        type(path) is str
        and path
        and type(size) is int
        and size >= 0
        and type(sha) is str
        and _SHA256.match(sha)
        and type(mode) is str
        and mode in _MODES
    ):
        component = item.get("component", "other")
        if type(component) is not str:
            component = "other"
        component = components.setdefault(component, component)
        return tuple.__new__(FileEntry, (path, size, sha, _MODES[mode], component))
    return None


_ENTRY_KEYS = itemgetter("path", "size", "sha256", "mode", "component")


def valid_entries(
    items: list[Any], components: dict[str, str], paths: dict[str, str] | None = None
) -> list[FileEntry] | None:
    """A FileEntry for each of these parsed entries when every one is valid as the writer writes it; else None.

    What quick_entry checks, for a list at a time and without a Python loop.
    """
    try:
        rows = list(map(_ENTRY_KEYS, items))  # KeyError or TypeError: not every one is a complete object
        if not rows:
            return []
        path_texts, sizes, shas, modes, names = zip(*rows, strict=True)
        if (
            set(map(type, path_texts)) != {str}
            or not all(path_texts)
            or set(map(type, sizes)) != {int}
            or min(sizes) < 0
            or set(map(type, shas)) != {str}
            or not all(map(_SHA256.match, shas))
            or not _MODES.keys() >= set(modes)
            or set(map(type, names)) != {str}
        ):
            return None
    except (KeyError, TypeError):
        return None
    names = tuple(map(components.setdefault, names, names))  # one string per component name
    if paths is not None:
        paths_of = tuple(map(paths.get, path_texts, path_texts))  # the caller's strings, where it has them
    else:
        paths_of = path_texts
    built = zip(paths_of, sizes, shas, map(_MODES.__getitem__, modes), names, strict=True)
    return list(map(tuple.__new__, repeat(FileEntry), built))


def file_entry(item: Any, index: int) -> FileEntry:
    """One entry of the files list (``index`` counts from 0), or ArchiveError saying what is wrong with it."""
    if not isinstance(item, dict):
        raise _bad(f"entry {index + 1} of the files list is not an object")
    path, size, sha, mode = item.get("path"), item.get("size"), item.get("sha256"), item.get("mode", "0644")
    if not isinstance(path, str) or not path:
        raise _bad(f"entry {index + 1} of the files list has no path")
    name = CONFIG_PREFIX + path
    if not isinstance(size, int) or isinstance(size, bool) or size < 0:
        raise _bad(f"{path}: size is not a whole number of bytes", name)
    if not isinstance(sha, str) or not _SHA256.match(sha):
        raise _bad(f"{path}: sha256 is not 64 lowercase hex digits", name)
    if not isinstance(mode, str) or not _MODE.match(mode):
        raise _bad(
            f"{path}: mode {mode!r} is not a permission such as 0644 (setuid, setgid and sticky are refused)", name
        )
    component = item.get("component", "other")
    return FileEntry(path, size, sha, int(mode, 8), component if isinstance(component, str) else "other")
