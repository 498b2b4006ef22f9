"""Backup archive format v1: the names, the metadata schema, in one place.

See docs/FORMAT.md. A reader refuses a newer format version rather than
misread it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from operator import itemgetter
from typing import Any, NamedTuple, overload

from ..errors import ArchiveError

FORMAT = "mftui-backup"
FORMAT_VERSION = 1
METADATA_NAME = "backup.json"
CONFIG_PREFIX = "config/"
MAX_METADATA_BYTES = 64 * 1024 * 1024  # 50,000 entries need about 10 MB
SAFETY_KIND = "safety"  # a backup taken by a restore of the configuration it replaced

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
        if self._raw:
            try:
                sizes = list(map(itemgetter("size"), self._raw))  # JSON objects as json.loads made them
            except (TypeError, KeyError):
                sizes = None  # something else: the entries tell
            if sizes is not None and set(map(type, sizes)) == {int} and min(sizes) >= 0:
                return sum(sizes)
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
    kind: str = "manual"  # "manual" or "safety"
    format_version: int = FORMAT_VERSION
    components: dict[str, int] = field(default_factory=dict)

    @property
    def total_bytes(self) -> int:
        if isinstance(self.files, FileList):
            return self.files.total_bytes()
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
        """Parse and check ``backup.json``; any deviation is an ArchiveError.

        The file entries are checked when first used (see FileList): whatever
        iterates them (verify, compare, restore) gets the error naming the
        broken one; the count and the total size are available before that.
        """

        if not isinstance(data, dict):
            raise _bad("it is not a JSON object")
        if data.get("format") != FORMAT:
            raise ArchiveError("this zip is not an mftui backup (backup.json does not name the mftui format)")
        version = data.get("format_version")
        if not isinstance(version, int) or isinstance(version, bool):
            raise _bad("format_version is missing")
        if version > FORMAT_VERSION:
            made_by = _str(data.get("tool", {}), "version") if isinstance(data.get("tool"), dict) else ""
            raise ArchiveError(
                f"this backup uses format version {version}"
                + (f" (made by mftui {made_by})" if made_by else "")
                + f"; this mftui reads up to version {FORMAT_VERSION}. Update mftui to restore it."
            )
        if version < 1:
            raise _bad(f"format_version {version} does not exist")
        inst = data.get("instance")
        tool = data.get("tool")
        if not isinstance(inst, dict) or not isinstance(tool, dict):
            raise _bad("the instance or tool section is missing")
        created = data.get("created_at")
        try:
            stamp = datetime.fromisoformat(created) if isinstance(created, str) else None
        except ValueError:
            stamp = None
        if stamp is None or stamp.tzinfo is None:
            raise _bad("created_at is not a date and time with a time zone")
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


def _bad(what: str, entry: str | None = None) -> ArchiveError:
    return ArchiveError(f"the backup information (backup.json) is not valid: {what}", entry)


# "0000" to "0777" -> the permission bits: the only modes a manifest may hold.
_MODES = {f"0{bits:03o}": bits for bits in range(0o1000)}


def _file_entries(raw: list[Any]) -> tuple[FileEntry, ...]:
    """Check and build every entry of the files list; ArchiveError names the first broken one.

    :func:`_quick_entry` does only what a valid entry needs (about a
    microsecond each); an entry it does not accept goes through
    :func:`_file_entry`, which says exactly what is wrong with it. Entries
    that :func:`loads_compact` already built are taken as they are.
    """
    out: list[FileEntry] = []
    append = out.append
    quick = _quick_entry
    components: dict[str, str] = {}
    for item in raw:
        entry = item if type(item) is FileEntry else quick(item, components)
        append(entry if entry is not None else _file_entry(item, len(out)))  # _file_entry raises
    return tuple(out)


def _quick_entry(item: Any, components: dict[str, str]) -> FileEntry | None:
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


_WS = re.compile(r"[ \t\n\r]*")  # JSON's whitespace, as the json module's


def loads_compact(text: str) -> Any:
    """``json.loads(text)``, with the top-level ``files`` list built as it is parsed.

    json.loads would hold every entry as a dict (some 300 bytes each beyond
    what the entry keeps) until the entries are built: for 20,000 files, the
    largest part of a restore's peak memory. Here each element of the
    top-level ``files`` array becomes a FileEntry as soon as json's own
    scanner has parsed it, when it is valid; one that is not stays as parsed,
    for FileList to report when the entries are used (after the format
    version is checked). Only the top level is walked here: every key and
    value is parsed by the json module. On anything unexpected the answer is
    ``json.loads(text)``'s, result or error.
    """
    try:
        return _loads_compact(text)
    except (ValueError, StopIteration, IndexError):
        return json.loads(text)


def _loads_compact(text: str) -> dict[str, Any]:
    scan = json.JSONDecoder().scan_once
    ws = _WS.match
    i = ws(text, 0).end()
    if text[i : i + 1] != "{":
        raise ValueError("not an object")
    i = ws(text, i + 1).end()
    obj: dict[str, Any] = {}
    if text[i : i + 1] == "}":
        i += 1
    else:
        while True:
            if text[i : i + 1] != '"':
                raise ValueError("a key must be a string")
            key, i = scan(text, i)
            i = ws(text, i).end()
            if text[i : i + 1] != ":":
                raise ValueError("':' expected")
            i = ws(text, i + 1).end()
            if key == "files" and text[i : i + 1] == "[":
                obj[key], i = _compact_array(text, i, scan)
            else:
                obj[key], i = scan(text, i)
            i = ws(text, i).end()
            c = text[i : i + 1]
            if c == ",":
                i = ws(text, i + 1).end()
            elif c == "}":
                i += 1
                break
            else:
                raise ValueError("',' or '}' expected")
    if ws(text, i).end() != len(text):
        raise ValueError("extra data")
    return obj


def _compact_array(text: str, i: int, scan: Any) -> tuple[list[Any], int]:
    ws = _WS.match
    i = ws(text, i + 1).end()
    out: list[Any] = []
    if text[i : i + 1] == "]":
        return out, i + 1
    components: dict[str, str] = {}
    while True:
        item, i = scan(text, i)
        entry = _quick_entry(item, components)
        out.append(item if entry is None else entry)
        i = ws(text, i).end()
        c = text[i : i + 1]
        if c == ",":
            i = ws(text, i + 1).end()
        elif c == "]":
            return out, i + 1
        else:
            raise ValueError("',' or ']' expected")


def _file_entry(item: Any, index: int) -> FileEntry:
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
