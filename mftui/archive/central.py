"""The central directory of an uploaded archive, record by record: names, ZIP64 values, attributes.

Read a window at a time, never whole. Part of the container parser
(container.py builds on it; validate.py adds the backup-level checks).
"""

from __future__ import annotations

import stat
import struct
from typing import TYPE_CHECKING

from ..errors import ArchiveError
from ..text import show
from . import zipstream
from .format import METADATA_NAME
from .paths import MAX_NAME_BYTES
from .zipspec import (
    CENTRAL,
    CENTRAL_SIZE,
    CHUNK,
    DEFLATED,
    FLAG_DESCRIPTOR,
    FLAG_ENCRYPTED,
    FLAG_MASKED_HEADERS,
    FLAG_PATCHED,
    FLAG_STRONG_ENCRYPTION,
    FLAG_UTF8,
    FLAGS_ALLOWED,
    LONGEST_RECORD,
    MAX_VERSION_NEEDED,
    METHOD_NAMES,
    MSDOS,
    STORED,
    U32,
    UNIX,
    ZIP64_EXTRA,
    CentralRecord,
)

if TYPE_CHECKING:
    from .reading import Archive


class ParserBase:
    """What every part of the parser shares: the archive being read, its size, and how refusals are worded."""

    # How a file that is no zip at all is described: "not a zip archive" when
    # an upload is refused; "not a readable zip archive" in a backup's
    # information (``mftui list``, inspect), as zipfile-based readers say it.
    not_zip = "not a zip archive"

    def __init__(self, archive: Archive, size: int) -> None:
        self.a = archive
        self.size = size
        self.cd_offset = 0  # where the central directory starts, once the end records are read

    def refused(self, reason: str, entry: str | None = None) -> ArchiveError:
        return self.a._refused(reason, entry)

    def damaged(self, reason: str, entry: str | None = None) -> ArchiveError:
        return self.a._damaged(reason, entry)

    def entry(self, name: str, reason: str) -> ArchiveError:
        """The archive is refused because of one entry: the message names it."""
        return self.a._refused(f"entry {show(name)} {reason}", name)


class CentralDirectory(ParserBase):
    """Section 2 of the checks: every central record, as the writer writes them."""

    def _has_metadata(self, cd_offset: int, cd_size: int, count: int) -> bool | None:
        """Whether a central record is named backup.json; None when the directory cannot be walked.

        Error paths only: the records are walked name by name, two small reads each, so that
        this costs no memory whatever the directory claims to hold.
        """
        name = METADATA_NAME.encode()
        pos = cd_offset
        end = min(cd_offset + cd_size, self.size)
        for _ in range(count):
            head = self.a._pread(CENTRAL_SIZE, pos)
            if len(head) != CENTRAL_SIZE or head[:4] != CENTRAL or pos + CENTRAL_SIZE > end:
                return None
            n_len, x_len, c_len = struct.unpack_from("<HHH", head, 28)
            if self.a._pread(n_len, pos + CENTRAL_SIZE) == name:
                return True
            pos += CENTRAL_SIZE + n_len + x_len + c_len
        return False

    def _central_records(self, cd_offset: int, cd_size: int, count: int) -> list[CentralRecord]:
        """Every central record, read a window at a time (the directory is never held whole)."""
        records: list[CentralRecord] = []
        data = b""
        base = cd_offset  # where data starts in the file
        pos = 0
        end = cd_offset + cd_size
        for _ in range(count):
            if len(data) - pos < LONGEST_RECORD and base + len(data) < end:
                more = self.a._pread(min(CHUNK, end - base - len(data)), base + len(data))
                if not more:
                    raise self.damaged("its central directory is cut short (truncated archive)")
                data = data[pos:] + more
                base += pos
                pos = 0
            rec, disk, pos = self._central_record(data, pos)
            self._check_record(rec, disk)
            records.append(rec)
        if base + pos != end:
            raise self.refused("its central directory holds more than its entries (hidden data)")
        return records

    def _central_record(self, data: bytes, pos: int) -> tuple[CentralRecord, int, int]:
        """The record at ``pos`` of ``data`` (ZIP64 values resolved), its disk number, and where the next starts."""
        end = len(data)
        if pos + CENTRAL_SIZE > end or data[pos : pos + 4] != CENTRAL:
            raise self.damaged("its central directory is damaged (a record is missing or cut short)")
        (made_by, need, flags, method, _t, _d, crc, csize, usize, n_len, x_len, c_len, disk, _iattr,
         eattr, offset) = struct.unpack_from("<4xHHHHHHIIIHHHHHII", data, pos)
        pos += CENTRAL_SIZE
        if pos + n_len + x_len + c_len > end:
            raise self.damaged("its central directory is damaged (a record runs past its end)")
        raw_name = data[pos : pos + n_len]
        extra = data[pos + n_len : pos + n_len + x_len]
        pos += n_len + x_len + c_len
        name = self._decode_name(raw_name, flags)
        if c_len:
            raise self.entry(name, "carries a comment; mftui backups have none")
        usize, csize, offset = self._zip64(extra, name, usize, csize, offset)
        if len(name) == n_len:
            raw_name = b""  # ASCII: the name is its own bytes (not kept twice: a restore holds every record)
        return CentralRecord(raw_name, name, made_by, need, flags, method, crc, csize, usize, offset, eattr), disk, pos

    def _last_central(self, cd_offset: int, cd_size: int) -> tuple[CentralRecord, int] | None:
        """``backup.json``'s central record when it is the last one, as the writer puts it; else None.

        Its length is known but for the ZIP64 extra field (none, or 1 to 3
        eight-byte values), so the directory's last bytes are read and each
        possible start is tried; a record must end exactly at the end.
        """
        name = METADATA_NAME.encode()
        longest = CENTRAL_SIZE + len(name) + 4 + 24
        tail_len = min(cd_size, longest)
        tail = self.a._pread(tail_len, cd_offset + cd_size - tail_len)
        if len(tail) != tail_len:
            raise self.damaged("its central directory is cut short (truncated archive)")
        for x_len in (0, 12, 20, 28):
            pos = tail_len - (CENTRAL_SIZE + len(name) + x_len)
            if pos < 0:
                break
            if tail[pos : pos + 4] != CENTRAL or tail[pos + CENTRAL_SIZE : pos + CENTRAL_SIZE + len(name)] != name:
                continue
            if struct.unpack_from("<HHH", tail, pos + 28) != (len(name), x_len, 0):
                continue
            rec, disk, _end = self._central_record(tail, pos)
            return rec, disk
        return None

    def _decode_name(self, raw: bytes, flags: int) -> str:
        if not raw:
            raise self.refused("an entry has an empty name")
        if len(raw) > MAX_NAME_BYTES:
            shown = show(raw[:60].decode("utf-8", "replace"))
            raise self.refused(f"entry {shown}… has a name of {len(raw)} bytes (at most {MAX_NAME_BYTES})")
        if flags & FLAG_UTF8:
            try:
                return raw.decode("utf-8")
            except UnicodeDecodeError:
                shown = show(raw.decode("utf-8", "replace"))
                raise self.refused(f"entry {shown} has a name that is not valid UTF-8") from None
        if not raw.isascii():
            shown = show(raw.decode("latin-1"))
            raise self.refused(f"entry {shown} has a non-ASCII name not marked as UTF-8 (its spelling is ambiguous)")
        return raw.decode("ascii")

    def _zip64(self, extra: bytes, name: str, usize: int, csize: int, offset: int, *, local: bool = False
               ) -> tuple[int, int, int]:
        """Resolve ZIP64 values from the extra field; refuse any other extra field, and ZIP64 where not needed.

        The writer (zipstream.py) puts a size or offset in a ZIP64 extra field exactly when it is
        at least zipstream.ZIP64_AT (0xFFFFFFFF, lowered by tests), its 32-bit field then saying
        "see ZIP64"; so an empty ZIP64 field, or a value in it that fits in 32 bits, is refused.
        A ``local`` header follows another rule (see _local), checked by the caller.
        """
        z64 = self._zip64_field(extra, name)
        values = [usize, csize, offset]
        at = zipstream.ZIP64_AT
        if z64 is None:
            if max(values) >= at:  # 0xFFFFFFFF: "see ZIP64"
                raise self.entry(name, "needs a ZIP64 extra field it does not have")
            return usize, csize, offset
        need = [v == U32 for v in values]
        if not any(need):
            raise self.entry(name, "carries a ZIP64 extra field it does not need (the mftui writer never writes it)")
        if len(z64) != 8 * sum(need):
            raise self.entry(name, "has a ZIP64 extra field of the wrong size")
        pos = 0
        for i, needed in enumerate(need):
            if needed:
                values[i] = int.from_bytes(z64[pos : pos + 8], "little")
                pos += 8
                if values[i] < at and not local:
                    raise self.entry(
                        name, "carries a ZIP64 extra field it does not need (a value that fits in 32 bits)"
                    )
            elif values[i] >= at and not local:
                raise self.entry(name, "needs a ZIP64 extra field it does not have")
        return values[0], values[1], values[2]

    def _zip64_field(self, extra: bytes, name: str) -> bytes | None:
        """The body of the one ZIP64 extra field in ``extra``, or None; refuse any other field, or two."""
        z64 = None
        pos = 0
        while pos < len(extra):
            if pos + 4 > len(extra):
                raise self.entry(name, "has a malformed extra field")
            ident, length = struct.unpack_from("<HH", extra, pos)
            body = extra[pos + 4 : pos + 4 + length]
            if len(body) != length:
                raise self.entry(name, "has a malformed extra field")
            if ident != ZIP64_EXTRA:
                raise self.entry(name, f"carries an extra field (id 0x{ident:04x}) the mftui writer never writes")
            if z64 is not None:
                raise self.entry(name, "has two ZIP64 extra fields")
            z64 = body
            pos += 4 + length
        return z64

    def _check_record(self, rec: CentralRecord, disk: int) -> None:
        name = rec.name
        if rec.flags & (FLAG_ENCRYPTED | FLAG_STRONG_ENCRYPTION | FLAG_MASKED_HEADERS) or rec.method == 99:
            raise self.entry(name, "is encrypted; mftui backups never are")
        if rec.flags & FLAG_PATCHED:
            raise self.entry(name, "is patch data, which mftui backups never hold")
        if rec.flags & FLAG_DESCRIPTOR:
            raise self.entry(name, "uses a data descriptor (flag 0x0008), which the mftui writer never writes")
        if rec.flags & ~FLAGS_ALLOWED:
            raise self.entry(name, f"uses zip features mftui never writes (flags 0x{rec.flags:04x})")
        if rec.method not in (STORED, DEFLATED):
            what = METHOD_NAMES.get(rec.method, "unknown")
            raise self.entry(
                name, f"uses compression method {rec.method} ({what}); mftui backups use only stored or deflate"
            )
        if rec.version_needed > MAX_VERSION_NEEDED:
            raise self.entry(name, f"needs zip version {rec.version_needed / 10:.1f}, newer than mftui writes")
        if disk != 0:
            raise self.entry(name, "claims to be on another disk; mftui backups are one file")
        if rec.method == STORED and rec.compressed_size != rec.file_size:
            raise self.entry(name, "is stored but its two sizes differ (headers disagree)")
        rec.mode = self._mode(rec)

    def _mode(self, rec: CentralRecord) -> int | None:
        """Permission bits from the external attribute; refuse anything but a plain file."""
        host = rec.made_by >> 8
        unix = rec.external_attr >> 16
        if rec.external_attr & 0x10 or rec.name.endswith("/"):
            raise self.entry(rec.name, "is a directory entry; mftui backups hold files only")
        if host == MSDOS:
            if unix:
                raise self.entry(rec.name, "has Unix attributes on a DOS entry (headers disagree)")
            return None
        if host != UNIX:
            raise self.entry(rec.name, f"was made on a system mftui never runs on (host {host})")
        kind = stat.S_IFMT(unix)
        if kind == stat.S_IFLNK:
            raise self.entry(rec.name, "is a symbolic link; mftui backups hold regular files only")
        if kind in (stat.S_IFCHR, stat.S_IFBLK):
            raise self.entry(rec.name, "is a device file; mftui backups hold regular files only")
        if kind == stat.S_IFDIR:
            raise self.entry(rec.name, "is a directory entry; mftui backups hold files only")
        if kind not in (0, stat.S_IFREG):
            raise self.entry(rec.name, "is a special file (pipe or socket); backups hold regular files only")
        if unix & 0o7000:
            bits = [w for bit, w in ((0o4000, "setuid"), (0o2000, "setgid"), (0o1000, "sticky")) if unix & bit]
            raise self.entry(rec.name, f"has the {' and '.join(bits)} bit set; mftui backups never do")
        return unix & 0o777
