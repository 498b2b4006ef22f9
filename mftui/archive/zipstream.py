"""A small zip writer for data compressed elsewhere.

``zipfile.ZipFile`` compresses what it is given, on the calling thread, one
member at a time; the backup compresses members on every core and hands over
finished raw-deflate (or stored) bytes. This module only lays them out: local
header, data, central directory, end records, with ZIP64 records exactly where
a size or an offset needs them (APPNOTE 6.3.x). No data descriptors, no
encryption, methods 0 (stored) and 8 (deflated) only, so any unzip reads it.
"""

from __future__ import annotations

import os
import stat
import struct
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

STORED, DEFLATED = 0, 8
SEE_ZIP64, SEE_ZIP64_COUNT = 0xFFFFFFFF, 0xFFFF  # a field at this value means "see the ZIP64 record"
# Where ZIP64 records start (module constants so that tests can lower them).
ZIP64_AT = SEE_ZIP64  # a size or offset this large goes into a ZIP64 extra field
ZIP64_COUNT_AT = SEE_ZIP64_COUNT  # this many entries need the ZIP64 end records
# A member written piece by piece gets a ZIP64 local header up front when its
# input is this large, so that its compressed size (stored or deflated, at most
# 0.1% above the input) fits whatever the data turns out to be.
ZIP64_LOCAL_AT = 0xF0000000

_LOCAL = struct.Struct("<4s2B4HL2L2H")
_CENTRAL = struct.Struct("<4s4B4HL2L5H2L")
_END = struct.Struct("<4s4H2LH")
_END64 = struct.Struct("<4sQ2H2L4Q")
_LOCATOR64 = struct.Struct("<4sLQL")
_EXTRA_HEAD = struct.Struct("<2H")
_UTF8 = 0x800
_UNIX = 3
_VERSION, _VERSION64 = 20, 45  # needed to extract: deflate / ZIP64
_CRC_OFFSET = 14  # of CRC, compressed size, size in a local header


class Output(Protocol):
    """Where a ZipStream writes: a file opened for writing, or an output that holds what may still be patched."""

    def write(self, data: bytes | bytearray | memoryview, /) -> int: ...

    def flush(self) -> None: ...

    def tell(self) -> int: ...


@dataclass
class Member:
    """The facts of one member that its central-directory record repeats."""

    name: bytes
    flags: int
    method: int
    dos_time: int
    dos_date: int
    external_attr: int
    offset: int
    zip64_local: bool
    crc: int = 0
    compressed_size: int = 0
    size: int = 0


def dos_date_time(mtime_ns: int) -> tuple[int, int]:
    """MS-DOS (date, time) of a Unix time, in UTC, clamped to 1980-2107."""
    t = time.gmtime(mtime_ns // 1_000_000_000)
    if t.tm_year < 1980:
        return (1 << 5) | 1, 0
    if t.tm_year > 2107:
        return (127 << 9) | (12 << 5) | 31, (23 << 11) | (59 << 5) | 29
    return (t.tm_year - 1980) << 9 | t.tm_mon << 5 | t.tm_mday, t.tm_hour << 11 | t.tm_min << 5 | t.tm_sec // 2


class ZipStream:
    """Append members to a seekable binary file, then ``close()`` writes the directory.

    ``add`` takes a member whose CRC and sizes are known; ``begin``/``end``
    frame one written piece by piece (its local header is patched in place at
    ``end``: the output is a real file with a descriptor, or has a ``patch``
    method, as protect_writer.PlainFollower). ``settled``,
    when set, is told after each member the offset before which no byte will
    change again, and again at ``close`` (what a protected backup encrypts as it goes).
    """

    def __init__(self, out: Output) -> None:
        self._out = out
        self.offset = out.tell()
        self.settled: Callable[[int], None] | None = None
        self._directory = bytearray()  # central records, packed as members finish (~100 bytes each)
        self._count = 0
        self._open: Member | None = None

    def add(self, name: str, data: bytes, *, method: int, crc: int, size: int, mode: int, mtime_ns: int) -> None:
        if self._open is not None:
            raise RuntimeError("a member is still open")
        member = self._header(name, method, mode, mtime_ns, zip64=max(size, len(data)) >= ZIP64_AT)
        member.crc, member.compressed_size, member.size = crc, len(data), size
        self._write_local(member)
        self.write(data)
        self._finish(member)

    def begin(self, name: str, *, method: int, size: int, mode: int, mtime_ns: int) -> None:
        if self._open is not None:
            raise RuntimeError("a member is already open")
        self._open = self._header(name, method, mode, mtime_ns, zip64=size >= ZIP64_LOCAL_AT)
        self._write_local(self._open)

    def end(self, *, crc: int, size: int) -> None:
        member, self._open = self._open, None
        if member is None:
            raise RuntimeError("no member is open")
        member.crc, member.size = crc, size
        data_start = member.offset + _LOCAL.size + len(member.name) + self._local_extra(member)
        member.compressed_size = self.offset - data_start
        if not member.zip64_local and max(size, member.compressed_size) >= SEE_ZIP64:
            raise OSError(f"{member.name.decode()} outgrew its header ({size} bytes)")
        if member.zip64_local:
            self._patch(member.offset + _CRC_OFFSET, struct.pack("<L", crc))
            self._patch(data_start - 16, struct.pack("<2Q", size, member.compressed_size))
        else:
            self._patch(member.offset + _CRC_OFFSET, struct.pack("<3L", crc, member.compressed_size, size))
        self._finish(member)

    def _patch(self, offset: int, data: bytes) -> None:
        """Rewrite bytes already written: in place in a file, or by an output that holds them (``patch``)."""
        patch = getattr(self._out, "patch", None)
        if patch is not None:
            patch(offset, data)
            return
        self._out.flush()
        os.pwrite(self._out.fileno(), data, offset)  # type: ignore[attr-defined]  # a file: see Output

    def write(self, data: bytes | bytearray | memoryview) -> None:
        self._out.write(data)
        self.offset += len(data)

    def close(self) -> None:
        """Write the central directory and the end records."""
        if self._open is not None:
            raise RuntimeError("a member is still open")
        start = self.offset
        self.write(self._directory)
        size = self.offset - start
        count = self._count
        if count >= ZIP64_COUNT_AT or max(size, start) >= ZIP64_AT:
            end64 = self.offset
            self.write(
                _END64.pack(
                    b"PK\x06\x06",
                    _END64.size - 12,
                    _UNIX << 8 | _VERSION64,
                    _VERSION64,
                    0,
                    0,
                    count,
                    count,
                    size,
                    start,
                )
            )
            self.write(_LOCATOR64.pack(b"PK\x06\x07", 0, end64, 1))
        self.write(
            _END.pack(
                b"PK\x05\x06",
                0,
                0,
                min(count, SEE_ZIP64_COUNT),
                min(count, SEE_ZIP64_COUNT),
                min(size, SEE_ZIP64),
                min(start, SEE_ZIP64),
                0,
            )
        )
        self._out.flush()
        if self.settled is not None:
            self.settled(self.offset)

    # --- records ------------------------------------------------------------

    def _header(self, name: str, method: int, mode: int, mtime_ns: int, *, zip64: bool) -> Member:
        raw = name.encode("utf-8")
        date, tod = dos_date_time(mtime_ns)
        return Member(
            name=raw,
            flags=0 if raw.isascii() else _UTF8,
            method=method,
            dos_time=tod,
            dos_date=date,
            external_attr=(stat.S_IFREG | mode) << 16,
            offset=self.offset,
            zip64_local=zip64,
        )

    def _finish(self, member: Member) -> None:
        self._directory += self._central(member)
        self._count += 1
        if self.settled is not None:
            self.settled(self.offset)

    @staticmethod
    def _local_extra(member: Member) -> int:
        return _EXTRA_HEAD.size + 16 if member.zip64_local else 0

    def _write_local(self, m: Member) -> None:
        if m.zip64_local:
            extra = _EXTRA_HEAD.pack(1, 16) + struct.pack("<2Q", m.size, m.compressed_size)
            sizes = (SEE_ZIP64, SEE_ZIP64)
        else:
            extra = b""
            sizes = (m.compressed_size, m.size)
        version = _VERSION64 if m.zip64_local else _VERSION
        self.write(
            _LOCAL.pack(
                b"PK\x03\x04",
                version,
                0,
                m.flags,
                m.method,
                m.dos_time,
                m.dos_date,
                m.crc,
                *sizes,
                len(m.name),
                len(extra),
            )
            + m.name
            + extra
        )

    def _central(self, m: Member) -> bytes:
        fields = []
        size, csize, offset = m.size, m.compressed_size, m.offset
        if size >= ZIP64_AT:
            fields.append(size)
            size = SEE_ZIP64
        if csize >= ZIP64_AT:
            fields.append(csize)
            csize = SEE_ZIP64
        if offset >= ZIP64_AT:
            fields.append(offset)
            offset = SEE_ZIP64
        extra = _EXTRA_HEAD.pack(1, 8 * len(fields)) + struct.pack(f"<{len(fields)}Q", *fields) if fields else b""
        version = _VERSION64 if fields or m.zip64_local else _VERSION
        return (
            _CENTRAL.pack(
                b"PK\x01\x02",
                version,
                _UNIX,
                version,
                0,
                m.flags,
                m.method,
                m.dos_time,
                m.dos_date,
                m.crc,
                csize,
                size,
                len(m.name),
                len(extra),
                0,
                0,
                0,
                m.external_attr,
                offset,
            )
            + m.name
            + extra
        )
