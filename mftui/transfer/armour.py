"""A backup as plain text lines, for terminals without ZMODEM: print it, capture it, paste it back.

::

    mftui-armour v1 name=site_2026-11-05T101500Z.zip size=40213 sha256=<64 hex> lines=894
    00001 UEsDBBQAAAAIAA...(60 base64 characters: 45 bytes) 3f2a9c01
    ...
    mftui-armour end lines=894

Each data line is its number (5 digits or more), 60 base64 characters (the
last line fewer) and the CRC-32 of ``"<number> <base64>"`` in 8 hex digits:
75 characters, so an 80-column terminal never wraps it, and a damaged line
is named. The header and end lines start with a letter, so on a laptop the
data is ``sed -nE 's/^[0-9]+ ([A-Za-z0-9+/=]+) [0-9a-f]{8}.*/\\1/p' capture.txt | base64 -d``.

The reader takes what a terminal makes of a paste: prompt text before the
header, blank lines and noise between lines, CRLF endings, trailing blanks,
and a line wrapped in two (or three) by a narrow terminal.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from ..errors import CopyError
from ..text import show

BYTES_PER_LINE = 45  # 60 base64 characters
LAPTOP_ONE_LINER = ("sed -nE 's/^[0-9]+ ([A-Za-z0-9+/=]+) [0-9a-f]{8}.*/\\1/p' capture.txt | base64 -d > "
                    "backup.zip")
# The same lines made on a laptop without mftui (python3 backup.zip > paste.txt), for receive --text.
LAPTOP_ARMOUR = """\
import base64, hashlib, os, sys, zlib
data = open(sys.argv[1], "rb").read()
count = (len(data) + 44) // 45
name = os.path.basename(sys.argv[1])
print(f"mftui-armour v1 name={name} size={len(data)} sha256={hashlib.sha256(data).hexdigest()} lines={count}")
for n in range(1, count + 1):
    line = f"{n:05d} " + base64.b64encode(data[(n - 1) * 45 : n * 45]).decode()
    print(line, format(zlib.crc32(line.encode()), "08x"))
print(f"mftui-armour end lines={count}")
"""
# Matched with every blank taken out: a terminal may wrap the header anywhere, and drop a blank where it does.
_HEADER = re.compile(r"mftui-armourv1name=([^=]{1,200})size=(\d{1,12})sha256=([0-9a-f]{64})lines=(\d{1,9})$")
HEADER_PARTS = 6  # a header wrapped by a terminal of 25 columns or more
_END = re.compile(r"mftui-armour end lines=(\d{1,9})")
_DATA = re.compile(r"(\d{5,9}) ([A-Za-z0-9+/=]{1,76}) ([0-9a-f]{8})")
_START = re.compile(r"\d{1,9}(?: [A-Za-z0-9+/=]{0,76}(?: [0-9a-f]{0,8})?)?")  # a data line's first part
_LOOSE = re.compile(r"(\d{5,9}) (\S{1,80}) (\S{8})")  # a whole line, damaged
MAX_LINE = 9 + 1 + 76 + 1 + 8


def crc(number: int, data: str) -> str:
    """A data line's checksum: CRC-32 of ``"<number> <base64>"``, 8 hex digits."""
    return f"{zlib.crc32(f'{number:05d} {data}'.encode()):08x}"


def header_line(name: str, size: int, sha256: str) -> str:
    lines = (size + BYTES_PER_LINE - 1) // BYTES_PER_LINE
    return f"mftui-armour v1 name={name} size={size} sha256={sha256} lines={lines}"


def encode(path: Path) -> Iterator[str]:
    """The armoured lines of the file at ``path`` (without line endings), streamed."""
    digest = hashlib.sha256()
    size = 0
    with path.open("rb") as f:
        while chunk := f.read(1024 * 1024):
            digest.update(chunk)
            size += len(chunk)
    yield header_line(path.name, size, digest.hexdigest())
    number = 0
    with path.open("rb") as f:
        while chunk := f.read(BYTES_PER_LINE):
            number += 1
            data = base64.b64encode(chunk).decode()
            yield f"{number:05d} {data} {crc(number, data)}"
    yield f"mftui-armour end lines={number}"


@dataclass(frozen=True)
class Header:
    name: str
    size: int
    sha256: str
    lines: int


class Decoder:
    """Feed it the pasted lines; it writes the bytes to ``out`` and says what is wrong, naming the line."""

    def __init__(self, out: BinaryIO, max_bytes: int) -> None:
        self.out = out
        self.max_bytes = max_bytes
        self.header: Header | None = None
        self.done = 0  # data lines written
        self.finished = False
        self._pending = ""  # the first part(s) of a line wrapped by the terminal
        self._before: list[str] = []  # the last lines before the header (it may be wrapped)
        self._digest = hashlib.sha256()
        self._size = 0

    def feed(self, raw: str) -> bool:
        """One line of the paste; True once the end line has been read (and everything checked)."""
        line = raw.rstrip("\r\n").strip()
        if self.finished or not line:
            return self.finished
        if self.header is None:
            self._read_header(line)
            return False
        end = _END.search(line)
        if end is not None:
            self._end(int(end.group(1)))
            return True
        self._data(line)
        return False

    def _read_header(self, line: str) -> None:
        """The header, maybe after prompt text, maybe wrapped over two or three lines by the terminal."""
        self._before = [*self._before[1 - HEADER_PARTS:], "".join(line.split())]
        for k in range(1, len(self._before) + 1):
            match = _HEADER.search("".join(self._before[-k:]))
            if match is None:
                continue
            size, lines = int(match.group(2)), int(match.group(4))
            if lines != (size + BYTES_PER_LINE - 1) // BYTES_PER_LINE:
                continue  # cut in its last number: the rest is on the next line
            if size > self.max_bytes:
                raise CopyError(f"the pasted backup says it has {size} bytes, more than any backup this unit "
                                "accepts")
            self.header = Header(match.group(1), size, match.group(3), lines)
            return

    def _data(self, line: str) -> None:
        pending, self._pending = self._pending, ""
        joined = (pending + line, pending + " " + line) if pending else ()  # a wrap may have eaten the blank
        for text in joined:
            match = _DATA.fullmatch(text)
            if match is not None:
                self._line(int(match.group(1)), match.group(2), match.group(3))
                return
        for text in joined:
            if self._parts_left(text):
                self._pending = text
                return
        match = _DATA.fullmatch(line)
        if match is not None:
            self._line(int(match.group(1)), match.group(2), match.group(3))
        elif (loose := _LOOSE.fullmatch(line)) is not None and int(loose.group(1)) == self.done + 1:
            raise CopyError(f"line {self.done + 1} is damaged (it is not what mftui printed); copy the text again")
        elif _START.fullmatch(line):
            self._pending = line  # the first part of a line a terminal wrapped
        # anything else is noise between the lines

    def _parts_left(self, text: str) -> bool:
        return len(text) <= MAX_LINE and _START.fullmatch(text) is not None

    def _line(self, number: int, data: str, check: str) -> None:
        if number <= self.done:
            return  # the same line pasted twice
        expected = self.done + 1
        assert self.header is not None
        if number > self.header.lines:
            raise CopyError(f"line {number} is beyond the last line ({self.header.lines}); paste only one backup")
        if number != expected:
            missing = f"line {expected} is missing" if number == expected + 1 else \
                f"lines {expected} to {number - 1} are missing"
            raise CopyError(f"{missing} (line {number} came next); copy the whole text again")
        if crc(number, data) != check:
            raise CopyError(f"line {number} is damaged (its checksum does not match); copy the text again")
        try:
            chunk = base64.b64decode(data, validate=True)
        except (binascii.Error, ValueError):
            raise CopyError(f"line {number} is damaged (not base64); copy the text again") from None
        self._size += len(chunk)
        if self._size > self.header.size:
            raise CopyError(f"line {number} holds more bytes than the header says; copy the text again")
        self._digest.update(chunk)
        self.out.write(chunk)
        self.done = number

    def _end(self, lines: int) -> None:
        header = self.header
        assert header is not None
        if lines != header.lines:
            raise CopyError("the end line is damaged (its line count differs from the header's); copy it again")
        if self.done < header.lines:
            raise CopyError(f"line {self.done + 1} is missing (the end line came after line {self.done}); "
                            "copy the whole text again")
        if self._size != header.size or self._digest.hexdigest() != header.sha256:
            raise CopyError("the pasted backup does not match the size and SHA-256 of its header; copy it again")
        self.finished = True

    def incomplete(self) -> str:
        """Why the paste is not complete, when the input ended before the end line."""
        if self.header is None:
            return ("no mftui-armour header line was found; paste everything from the line starting "
                    "'mftui-armour v1' to the line 'mftui-armour end'")
        return (f"the paste ended after line {self.done} of {self.header.lines}, before its end line; "
                "paste the whole text again")


def decode_lines(lines: Iterable[str], out: BinaryIO, max_bytes: int) -> Header:
    """Read an armoured backup from ``lines`` into ``out``; the header, once everything is checked."""
    decoder = Decoder(out, max_bytes)
    for line in lines:
        if decoder.feed(line):
            break
    if not decoder.finished or decoder.header is None:
        raise CopyError(decoder.incomplete())
    return decoder.header


def safe_header_name(header: Header) -> str:
    """The header's file name, shown escaped (it came from a paste)."""
    return show(header.name)
