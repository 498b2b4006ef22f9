"""Backup archive format v1: the names, the metadata schema, in one place.

See docs/FORMAT.md. A reader refuses a newer format version rather than
misread it.
"""

from __future__ import annotations

import codecs
import json
import re
import unicodedata
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from itertools import repeat
from operator import itemgetter
from typing import Any, NamedTuple, overload

from ..errors import ArchiveError
from ..text import show

FORMAT = "mftui-backup"
FORMAT_VERSION = 1
METADATA_NAME = "backup.json"
CONFIG_PREFIX = "config/"
# The unit's identity file, whose product, hub id and hostname backup.json repeats (instance.read_identity).
IDENTITY_NAME = CONFIG_PREFIX + "instance.json"
SAFETY_KIND = "safety"  # a backup taken by a restore of the configuration it replaced
KINDS = ("manual", SAFETY_KIND)

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
    kind: str = "manual"  # "manual" or "safety"
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
            raise _bad(f"kind {show(str(kind), limit=40)!r} is neither manual nor safety")
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


def text_problem(value: str) -> str | None:
    """Why a string of backup.json (a name, a hostname, a version) is not plain text to show, or None.

    No control or format character (ESC, CR, NUL, bidi overrides, zero-width
    marks) and no lone surrogate (which no terminal, JSON printer or file can
    encode as UTF-8). The answer follows the key in a sentence.
    """
    if value.isprintable():
        return None  # the everyday case; what isprintable refuses is sorted out below
    for ch in value:
        category = unicodedata.category(ch)
        if category == "Cs":
            return f"holds a lone surrogate (U+{ord(ch):04X}), which is not text"
        if category in ("Cc", "Cf"):
            return f"holds the control character U+{ord(ch):04X}"
    return None


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

    :func:`_quick_entry` does only what a valid entry needs (about a
    microsecond each); an entry it does not accept goes through
    :func:`_file_entry`, which says exactly what is wrong with it. Entries
    that :func:`parse_metadata` already built are taken as they are.
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


_WS = re.compile(r"[ \t\n\r]*")  # JSON's whitespace, as the json module's (it always matches)

# What backup.json may cost, in bytes (and characters, of which there are no more).
METADATA_HEADER_BYTES = 64 * 1024  # everything but the files list: the writer's is under 1 KiB
# One line of the files list as the writer writes it: 157 bytes of keys, sha256, size and
# separators, the path (at most 1017 bytes: paths.MAX_NAME_BYTES less "config/"), the component.
METADATA_ENTRY_BYTES = 1536
METADATA_VALUE_CHARS = METADATA_HEADER_BYTES  # one JSON value (a file entry, the instance section...)
# The keys a reader keeps; any other is parsed, within METADATA_VALUE_CHARS, and dropped.
_KNOWN_KEYS = frozenset(
    ("format", "format_version", "name", "kind", "created_at", "tool", "instance", "components", "totals", "files")
)


def max_metadata_bytes(max_files: int) -> int:
    """The largest backup.json a backup of at most ``max_files`` files can have."""
    return METADATA_HEADER_BYTES + max_files * METADATA_ENTRY_BYTES


class MetadataRefused(ValueError):
    """backup.json is shaped as the writer never writes it: larger than its files need, a key twice."""


class _Broken:
    """Stands for a broken file entry after the first: only the first is reported, so only it is kept."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "<broken entry>"


_BROKEN = _Broken()


def parse_metadata(
    chunks: Iterable[bytes], max_files: int, *, build: bool = True, paths: dict[str, str] | None = None
) -> dict[str, Any]:
    """backup.json, parsed from its UTF-8 bytes as they are inflated, in bounded memory.

    What a 60 MB backup.json of ``[{},{},...]`` must not do is become 20
    million Python objects. So the text is decoded and parsed a window at a
    time, never whole, and:

    - each JSON value is parsed by the json module's own scanner, and must
      end within METADATA_VALUE_CHARS of where it starts;
    - the ``files`` list is parsed a window at a time: entries shaped as
      the writer writes them (flat objects of five keys) are kept as
      FileEntry (``build``, for a caller that uses them all: a restore,
      verify) or as parsed (the information alone: FileList checks them
      if they are used); any other entry is parsed alone and kept as a
      FileEntry when valid, the first broken one as parsed (FileList
      reports it), later broken ones as a placeholder; more than
      ``max_files`` entries is refused;
    - everything outside ``files`` together stays within
      METADATA_HEADER_BYTES; the keys a reader does not know are parsed
      (for the syntax) and dropped, so an optional key added later is
      accepted (FORMAT.md) without being kept;
    - a key given twice is refused (json.loads would keep the last).

    ``paths`` (with ``build``): a built entry whose path is a key takes the
    value, the very string the caller already holds for it (validate: the
    zip member's), so that each path is held once, not twice.

    Raises ValueError (UnicodeDecodeError, json's errors) for text that is
    not a JSON object, MetadataRefused for the bounds, RecursionError for
    values nested too deeply.
    """
    return _MetadataParser(chunks, max_files, build, paths).document()


class _MetadataParser:
    def __init__(self, chunks: Iterable[bytes], max_files: int, build: bool, paths: dict[str, str] | None) -> None:
        self._chunks = iter(chunks)
        self.build = build
        self.paths = paths
        self._decode = codecs.getincrementaldecoder("utf-8")("strict").decode
        self.max_files = max_files
        self.buf = ""
        self.i = 0
        self.base = 0  # characters dropped from the front of buf so far
        self.done = False  # the whole text has been decoded into buf
        self._rest = memoryview(b"")  # bytes of the current chunk not decoded yet
        self.scan: Any = json.JSONDecoder().scan_once  # type: ignore[attr-defined]  # json's own scanner
        self.files_chars = 0  # characters of the files list

    # --- the window ----------------------------------------------------------------

    def fill(self) -> None:
        """At least METADATA_VALUE_CHARS characters from ``i`` in ``buf``, or the rest of the text.

        The bytes are decoded METADATA_VALUE_CHARS at a time, so ``buf`` never holds more than
        twice that: no value the json scanner is given can be longer.
        """
        if self.done or len(self.buf) - self.i >= METADATA_VALUE_CHARS:
            return
        parts = [self.buf[self.i :]]
        have = len(parts[0])
        while have < METADATA_VALUE_CHARS and not self.done:
            if not self._rest:
                chunk = next(self._chunks, None)
                if chunk is None:
                    parts.append(self._decode(b"", True))
                    self.done = True
                    break
                self._rest = memoryview(chunk)
            piece = self._decode(bytes(self._rest[:METADATA_VALUE_CHARS]))
            self._rest = self._rest[METADATA_VALUE_CHARS:]
            parts.append(piece)
            have += len(piece)
        self.base += self.i
        self.buf = "".join(parts)
        self.i = 0

    def ws(self) -> str:
        """Skip whitespace (any amount: it costs no memory); the next character, "" at the end."""
        while True:
            self.i = _WS.match(self.buf, self.i).end()  # type: ignore[union-attr]
            if self.i < len(self.buf) or self.done:
                return self.buf[self.i : self.i + 1]
            self.fill()

    def value(self) -> Any:
        """The JSON value at ``i``, which must end within METADATA_VALUE_CHARS."""
        self.fill()
        buf = self.buf
        try:
            value, end = self.scan(buf, self.i)
        except StopIteration as exc:
            if exc.value >= len(buf) and not self.done:
                raise self._too_large() from None
            raise ValueError("a value is expected") from None
        except json.JSONDecodeError as exc:
            if not self.done and (exc.pos >= len(buf) - 1 or exc.msg.startswith("Unterminated string")):
                raise self._too_large() from None
            raise
        if (end >= len(buf) and not self.done) or end - self.i > METADATA_VALUE_CHARS:
            raise self._too_large()  # or it may go on past the window (a number, cut)
        self.i = end
        return value

    def _too_large(self) -> MetadataRefused:
        return MetadataRefused(
            f"it holds a value longer than {METADATA_VALUE_CHARS // 1024} KiB, which mftui never writes"
        )

    def expect(self, char: str) -> None:
        if self.ws() != char:
            raise ValueError(f"{char!r} expected")
        self.i += 1

    # --- the document --------------------------------------------------------------

    def document(self) -> dict[str, Any]:
        obj: dict[str, Any] = {}
        unknown: set[str] = set()  # keys this reader does not know: remembered, their values dropped
        self.fill()
        self.expect("{")
        c = self.ws()
        if c == "}":
            self.i += 1
        while c != "}":
            if c != '"':
                raise ValueError("a key must be a string")
            key = self.value()
            if key in obj or key in unknown:
                raise MetadataRefused(f"it has the key {show(key)!r} twice")
            self.expect(":")
            if key == "files" and self.ws() == "[":
                obj[key] = self.files()
            else:
                self.ws()
                value = self.value()
                if key in _KNOWN_KEYS:
                    obj[key] = value
                else:
                    unknown.add(key)
                del value
            if self.base + self.i - self.files_chars > METADATA_HEADER_BYTES:
                raise MetadataRefused(
                    f"its information outside the files list is longer than {METADATA_HEADER_BYTES // 1024} KiB, "
                    "which mftui never writes"
                )
            c = self.ws()
            if c == ",":
                self.i += 1
                c = self.ws()
                if c == "}":
                    raise ValueError("a key is expected after ','")
            elif c == "}":
                self.i += 1
            else:
                raise ValueError("',' or '}' expected")
        if self.ws() != "":
            raise ValueError("extra data after the object")
        return obj

    def files(self) -> list[Any]:
        """The files list (``i`` at its '['): FileEntry for each valid entry, the first broken one as parsed.

        The entries in the window up to its last ``},`` are parsed by one json.loads and, when
        they are flat objects as the writer writes them, kept (or built without a Python loop,
        _valid_entries); otherwise, and for the last entry, one at a time (:meth:`entry`).
        """
        start = self.base + self.i
        self.i += 1
        self.out: list[Any] = []
        self.components: dict[str, str] = {}
        self.broken = False  # whether the first broken entry is kept already
        c = self.ws()
        while c != "]":
            self.fill()
            cut = self.buf.rfind("},", self.i)
            if cut > self.i and self.flat_entries(cut):
                self.i = cut + 2
                if self.ws() == "]":
                    raise ValueError("a value is expected after ','")
            elif cut > self.i:
                end = self.base + cut + 1
                while self.base + self.i < end:
                    self.entry()
            else:
                self.entry()
            c = self.ws()
        self.i += 1
        self.files_chars += self.base + self.i - start
        out, self.out = self.out, []
        return out

    def flat_entries(self, cut: int) -> bool:
        """The entries from ``i`` to ``cut`` (a '}' followed by ','), when they are flat objects of five keys.

        No '[' and one '{' per entry, as the writer writes them: what they hold is bounded by their
        text, so they may be kept as parsed. False (nothing taken) for anything else.
        """
        region = self.buf[self.i : cut + 1]
        try:
            items = json.loads("[" + region + "]")
        except (ValueError, RecursionError):
            return False  # the cut is not between two entries, or something is wrong: one at a time
        if (
            "[" in region
            or region.count("{") != len(items)
            or set(map(type, items)) != {dict}
            or set(map(len, items)) != {5}
        ):
            return False
        entries = _valid_entries(items, self.components, self.paths) if self.build else None
        self.out += items if entries is None else entries
        if len(self.out) > self.max_files:
            raise MetadataRefused(f"its files list has more than {self.max_files} entries")
        return True

    def entry(self) -> None:
        """The entry at ``i``, alone, and the separator after it."""
        if len(self.out) >= self.max_files:
            raise MetadataRefused(f"its files list has more than {self.max_files} entries")
        item = self.value()
        entry = _quick_entry(item, self.components)
        if entry is not None:
            if self.paths is not None and entry.path in self.paths:
                entry = entry._replace(path=self.paths[entry.path])
            self.out.append(entry)
        elif not self.broken:
            self.out.append(item)  # the first broken entry: FileList says what is wrong with it
            self.broken = True
        else:
            self.out.append(_BROKEN)
        c = self.ws()
        if c == ",":
            self.i += 1
            if self.ws() == "]":
                raise ValueError("a value is expected after ','")
        elif c != "]":
            raise ValueError("',' or ']' expected")


_ENTRY_KEYS = itemgetter("path", "size", "sha256", "mode", "component")


def _valid_entries(
    items: list[Any], components: dict[str, str], paths: dict[str, str] | None = None
) -> list[FileEntry] | None:
    """A FileEntry for each of these parsed entries when every one is valid as the writer writes it; else None.

    What _quick_entry checks, for a list at a time and without a Python loop.
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
