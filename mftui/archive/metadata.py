"""backup.json parsed as it is inflated, in bounded memory: what a hostile manifest may cost.

A backup.json is at most :func:`max_metadata_bytes` for the files it may
list; it is decoded and parsed a window at a time (no value over
METADATA_VALUE_CHARS, unknown keys parsed and dropped, a key twice refused),
and the file entries are checked as they come (format.py holds the schema).
"""

from __future__ import annotations

import codecs
import json
import re
from collections.abc import Iterable
from typing import Any

from ..text import show
from .format import quick_entry, valid_entries

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
        valid_entries); otherwise, and for the last entry, one at a time (:meth:`entry`).
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
        entries = valid_entries(items, self.components, self.paths) if self.build else None
        self.out += items if entries is None else entries
        if len(self.out) > self.max_files:
            raise MetadataRefused(f"its files list has more than {self.max_files} entries")
        return True

    def entry(self) -> None:
        """The entry at ``i``, alone, and the separator after it."""
        if len(self.out) >= self.max_files:
            raise MetadataRefused(f"its files list has more than {self.max_files} entries")
        item = self.value()
        entry = quick_entry(item, self.components)
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
