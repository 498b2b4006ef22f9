"""The zip container of an uploaded archive: end records, ZIP64, where the directory is, the tiling.

Section 1 of the checks (the end records, exactly where and as the writer
puts them) and the local headers that must tile the file from byte 0 to the
central directory with no gap and no overlap. Builds on central.py.
"""

from __future__ import annotations

import struct
from typing import TYPE_CHECKING

from ..errors import ArchiveError
from ..text import show
from . import zipstream
from .format import METADATA_NAME
from .paths import CONFIG_PREFIX
from .zipspec import (
    CHUNK,
    EOCD,
    EOCD_SIZE,
    LOCAL,
    LOCAL_SIZE,
    MAX_CENTRAL_RECORD,
    MIN_CENTRAL_RECORD,
    TAIL_SEARCH,
    U16,
    U32,
    Z64_EOCD,
    Z64_EOCD_SIZE,
    Z64_LOCATOR,
    Z64_LOCATOR_SIZE,
    CentralRecord,
    Member,
    needs_zip64_end,
    not_mftui,
)

if TYPE_CHECKING:
    pass
from .central import CentralDirectory


class ContainerParser(CentralDirectory):
    """The container checks; validate._Parser adds the names, the budgets and the manifest."""

    def _container(self) -> tuple[int, int, int, int, int]:
        """The end records, checked, and the central directory located: (eocd, count, size, offset, end).

        More entries than the budget allows are refused here, before anything is read of them.
        """
        if self.size == 0:
            raise ArchiveError(f"{self.a.path.name} is empty (0 bytes); it is not a backup")
        eocd_at, count, cd_size, cd_offset, cd_end = self._end_records()
        if count == 0:
            raise ArchiveError(f"{self.a.path.name} is an empty zip archive; it is not a backup")
        try:
            if count > self.a.budgets.max_entries + 1:  # + backup.json
                raise self.a._budget(f"it has {count - 1} entries, more than",
                                     f"{self.a.budgets.max_entries} entries")
            self._locate_central(cd_offset, cd_size, cd_end)
            if cd_size > count * MAX_CENTRAL_RECORD:
                raise self.refused("its central directory is larger than its entries can need")
            if cd_size < count * MIN_CENTRAL_RECORD:
                raise self.refused(f"its end record counts {count} entries, more than its central directory holds")
        except ArchiveError as exc:
            raise self._lead_with_not_mftui(exc, cd_offset, cd_size, count) from None
        return eocd_at, count, cd_size, cd_offset, cd_end

    def _lead_with_not_mftui(self, exc: ArchiveError, cd_offset: int, cd_size: int, count: int) -> ArchiveError:
        """``exc``, or, when the archive has no backup.json at all, that it is not an mftui backup.

        A zip made by another tool (``zip -r``) fails many checks; what a person needs to hear
        first is that it is no mftui backup, whichever check fails first. Error paths only.
        """
        return not_mftui() if self._has_metadata(cd_offset, cd_size, count) is False else exc

    def _end_records(self) -> tuple[int, int, int, int, int]:
        """(eocd offset, entry count, cd size, cd offset, where the cd must end)."""
        if self.size < EOCD_SIZE:
            if self.a._pread(4, 0) == LOCAL:
                raise self.damaged("it is too short to be a zip archive (truncated?)")
            raise ArchiveError(f"{self.a.path.name} is {self.not_zip} (too short to be one)")
        # The writer's archive ends with the record itself (no comment): read just that.
        eocd_at = self.size - EOCD_SIZE
        last = self.a._pread(EOCD_SIZE, eocd_at)
        if last[:4] == EOCD:
            disk, cd_disk, n_disk, n_total, cd_size, cd_offset, comment_len = struct.unpack("<4xHHHHIIH", last)
            if disk == 0 and cd_disk == 0 and n_disk == n_total and comment_len == 0:
                return self._end_records_at(eocd_at, n_total, cd_size, cd_offset)
        # Anything else: search back for it, to say what is wrong (a comment, junk after, a glued archive).
        tail_len = min(self.size, TAIL_SEARCH + EOCD_SIZE)
        tail_start = self.size - tail_len
        tail = self.a._pread(tail_len, tail_start)
        pos = tail.rfind(EOCD, 0, len(tail) - EOCD_SIZE + 4)  # a whole record must fit
        while pos >= 0:
            disk, cd_disk, n_disk, n_total, cd_size, cd_offset, comment_len = struct.unpack_from(
                "<4xHHHHIIH", tail, pos
            )
            if disk == 0 and cd_disk == 0 and n_disk == n_total:
                break
            pos = tail.rfind(EOCD, 0, pos + 3)
        if pos < 0:
            if self.a._pread(4, 0) == LOCAL:
                raise self.damaged(
                    "it has no end-of-archive record; it is truncated (copy it again) or not a zip at all"
                )
            raise ArchiveError(f"{self.a.path.name} is {self.not_zip} (no end-of-archive record found)")
        eocd_at = tail_start + pos
        record_end = eocd_at + EOCD_SIZE + comment_len
        if record_end > self.size:
            raise self.damaged("its end-of-archive record is cut short (truncated archive)")
        if record_end < self.size:
            raise self._lead_with_not_mftui(self.refused(
                f"it has {self.size - record_end} bytes of junk after the end of the archive"
                + (" (possibly a second archive glued on)" if EOCD in tail[pos + 4 :] else "")
            ), cd_offset, cd_size, n_total)
        if comment_len:
            raise self._lead_with_not_mftui(
                self.refused(f"it carries an archive comment ({comment_len} bytes); mftui backups have none"),
                cd_offset, cd_size, n_total)
        return self._end_records_at(eocd_at, n_total, cd_size, cd_offset)

    def _end_records_at(self, eocd_at: int, n_total: int, cd_size: int, cd_offset: int
                        ) -> tuple[int, int, int, int, int]:
        """The end records, given a valid End of Central Directory record at ``eocd_at``: ZIP64 where present."""
        if eocd_at >= Z64_LOCATOR_SIZE and self.a._pread(4, eocd_at - Z64_LOCATOR_SIZE) == Z64_LOCATOR:
            return self._zip64_end(eocd_at, n_total, cd_size, cd_offset)
        if needs_zip64_end(n_total, cd_size, cd_offset):  # a field at 0xFFFF(FFFF) says "see ZIP64"
            raise self.refused("its end-of-archive record needs ZIP64 end records it does not have")
        return eocd_at, n_total, cd_size, cd_offset, eocd_at

    def _zip64_end(self, eocd_at: int, n16: int, size32: int, offset32: int) -> tuple[int, int, int, int, int]:
        locator_at = eocd_at - Z64_LOCATOR_SIZE
        z64_disk, z64_at, disks = struct.unpack("<4xIQI", self.a._pread(Z64_LOCATOR_SIZE, locator_at))
        if z64_disk != 0 or disks != 1:
            raise self.refused("it claims to span several disks; mftui backups are one file")
        if z64_at != locator_at - Z64_EOCD_SIZE:
            raise self.refused("its ZIP64 end record is not where its locator says (junk or a glued archive)")
        rec = self.a._pread(Z64_EOCD_SIZE, z64_at)
        if len(rec) != Z64_EOCD_SIZE or rec[:4] != Z64_EOCD:
            raise self.damaged("its ZIP64 end record is missing or damaged")
        rec_size, _made, _need, disk, cd_disk, n_disk, n_total, cd_size, cd_offset = struct.unpack(
            "<4xQHHIIQQQQ", rec
        )
        if rec_size != Z64_EOCD_SIZE - 12:
            raise self.refused("its ZIP64 end record carries extension data mftui never writes")
        if disk or cd_disk or n_disk != n_total:
            raise self.refused("it claims to span several disks; mftui backups are one file")
        if not needs_zip64_end(n_total, cd_size, cd_offset):
            raise self.refused("it carries ZIP64 end records it does not need (the mftui writer never writes them)")
        # The 32-bit record holds each value, or "see ZIP64" where it does not fit, as the writer writes it.
        if (n16, size32, offset32) != (min(n_total, U16), min(cd_size, U32), min(cd_offset, U32)):
            raise self.refused("its end-of-archive records disagree with each other")
        return eocd_at, n_total, cd_size, cd_offset, z64_at

    def _locate_central(self, cd_offset: int, cd_size: int, cd_end: int) -> None:
        if cd_offset + cd_size == cd_end:
            return
        if cd_offset + cd_size > cd_end:
            raise self.damaged("its central directory runs past its end record (truncated or damaged)")
        extra = cd_end - cd_size - cd_offset
        glued = self._eocd_before(cd_end - cd_size)
        raise self.refused(
            "two archives are glued together" if glued else f"{extra} bytes of junk precede or sit inside the archive"
        )

    def _eocd_before(self, limit: int) -> bool:
        """Whether an end-of-archive record appears before ``limit`` (a glued archive). Error path only."""
        pos = 0
        carry = b""
        while pos < limit:
            chunk = carry + self.a._pread(min(CHUNK, limit - pos), pos)
            if EOCD in chunk:
                return True
            pos += len(chunk) - len(carry)
            carry = chunk[-3:]
            if len(chunk) == len(carry):
                break
        return False

    def _local_headers(self, records: list[CentralRecord], cd_offset: int, *, lazy: bool = False) -> list[Member]:
        """The members, from the records, which are consumed: each record (and its name) is dropped as its
        member is made, so the names are never held twice.

        ``lazy``: each member is laid out as its local header must be (its length follows from the record),
        and the header itself is read by :meth:`check_local` just before the member's data is: a payload read
        where it lies then decrypts each chunk once, not once for the headers and again for the data. Where
        the record allows two header lengths (a ZIP64 local header is optional), every header is read now.
        """
        self.cd_offset = cd_offset
        lazy = lazy and not any(self._local_length_open(r) for r in records)
        members: list[Member] = []
        records.reverse()
        while records:
            rec = records.pop()
            members.append(self._expected_local(rec, cd_offset) if lazy else self._local(rec, cd_offset))
        try:
            self._check_tiling(members, cd_offset)
        except ArchiveError:
            if lazy:  # a header that is wrong says so first, as when every header is read up front
                for member in members:
                    self.check_local(member)
            raise
        return members

    def _check_tiling(self, members: list[Member], cd_offset: int) -> None:
        """The members tile the file from byte 0 to the central directory: no junk, gap or overlap."""
        ordered = sorted(members, key=lambda m: m.header_offset)
        if ordered[0].header_offset != 0:
            first = ordered[0].header_offset
            glued = self.a._pread(4, 0) == LOCAL
            raise self.refused(
                "two archives are glued together (another one comes before this one)"
                if glued and self._eocd_before(first)
                else f"{first} bytes of junk come before the first entry"
            )
        for prev, cur in zip(ordered, ordered[1:], strict=False):
            if cur.header_offset < prev.end_offset:
                raise self.refused(
                    f"entries {show(prev.name)} and {show(cur.name)} overlap (one's data lies inside the other)",
                    cur.name,
                )
            if cur.header_offset > prev.end_offset:
                raise self.refused(
                    f"{cur.header_offset - prev.end_offset} unexplained bytes sit between entries "
                    f"{show(prev.name)} and {show(cur.name)}",
                    cur.name,
                )
        last = ordered[-1]
        if last.name != METADATA_NAME:  # the directory lists it last, but its data is elsewhere
            raise self._metadata_not_last()
        if last.end_offset > cd_offset:
            raise self.entry(last.name, "overlaps the central directory")
        if last.end_offset < cd_offset:
            raise self.refused(
                f"{cd_offset - last.end_offset} unexplained bytes sit between the last entry and the central directory"
            )

    @staticmethod
    def _local_has_zip64(usize: int, csize: int) -> bool:
        """Whether the writer may have given a member of these sizes a ZIP64 local header (zipstream.begin)."""
        return usize >= zipstream.ZIP64_LOCAL_AT or max(usize, csize) >= zipstream.ZIP64_AT

    def _local_length_open(self, rec: CentralRecord) -> bool:
        """Whether _local accepts this record's local header both with a ZIP64 field and without one."""
        return self._local_has_zip64(rec.file_size, rec.compressed_size) and \
            max(rec.file_size, rec.compressed_size) < U32

    def _expected_local(self, rec: CentralRecord, cd_offset: int) -> Member:
        """The member as its local header must lay it out; check_local reads that header before its data."""
        if rec.header_offset + LOCAL_SIZE > cd_offset:
            raise self.entry(rec.name, "points outside the archive's data area")
        name_len = len(rec.raw_name) if rec.raw_name else len(rec.name)
        data_offset = rec.header_offset + LOCAL_SIZE + name_len + \
            (20 if self._local_has_zip64(rec.file_size, rec.compressed_size) else 0)
        return self._member(rec, data_offset, cd_offset)

    def check_local(self, member: Member) -> None:
        """A member laid out by _expected_local: its local header, as _local checks it, and of that length."""
        name = member.name
        raw = name.encode("utf-8")
        rec = CentralRecord(b"" if raw.isascii() else raw, name, 0, 0, member.flags, member.method, member.crc,
                            member.compressed_size, member.file_size, member.header_offset, 0, member.mode)
        if self._local(rec, self.cd_offset).data_offset != member.data_offset:
            raise self.entry(name, "has a local header of another length than its directory record implies")

    def _local(self, rec: CentralRecord, cd_offset: int) -> Member:
        if rec.header_offset + LOCAL_SIZE > cd_offset:
            raise self.entry(rec.name, "points outside the archive's data area")
        head = self.a._pread(LOCAL_SIZE, rec.header_offset)
        if head[:4] != LOCAL:
            raise self.entry(rec.name, "has no local header where the central directory says")
        _need, flags, method, _t, _d, crc, csize, usize, n_len, x_len = struct.unpack_from("<4xHHHHHIIIHH", head)
        names_extra = self.a._pread(n_len + x_len, rec.header_offset + LOCAL_SIZE)
        if len(names_extra) != n_len + x_len:
            raise self.damaged(f"entry {show(rec.name)} is cut short (truncated archive)", rec.name)
        if names_extra[:n_len] != (rec.raw_name or rec.name.encode("ascii")):
            local = show(names_extra[:n_len].decode("utf-8", "replace"))
            raise self.entry(rec.name, f"is named {local} in its local header (headers disagree)")
        if flags != rec.flags:
            raise self.entry(rec.name, "has different flags in its two headers (headers disagree)")
        if method != rec.method:
            raise self.entry(rec.name, "has different compression methods in its two headers")
        data_offset = rec.header_offset + LOCAL_SIZE + n_len + x_len
        extra = names_extra[n_len:]
        if extra:
            # The writer's ZIP64 local header: both sizes "see ZIP64", both in the extra field, and only
            # for a member it framed as large (zipstream.ZipStream.begin / add).
            usize, csize, _o = self._zip64(extra, rec.name, usize, csize, 0, local=True)
            if len(extra) != 20 or struct.unpack_from("<II", head, 18) != (U32, U32) or \
                    not self._local_has_zip64(usize, csize):
                raise self.entry(rec.name, "has a ZIP64 local header it does not need (mftui never writes it)")
        elif usize == U32 or csize == U32:
            raise self.entry(rec.name, "needs a ZIP64 extra field it does not have")
        if (crc, csize, usize) != (rec.crc, rec.compressed_size, rec.file_size):
            raise self.entry(rec.name, "has different sizes or CRC in its two headers (headers disagree)")
        return self._member(rec, data_offset, cd_offset)

    def _member(self, rec: CentralRecord, data_offset: int, cd_offset: int) -> Member:
        """The member of ``rec`` whose data starts at ``data_offset``; its data must end before the directory."""
        end = data_offset + rec.compressed_size
        if end > cd_offset:
            raise self.entry(rec.name, "runs into the central directory (sizes are wrong)")
        config = rec.name.startswith(CONFIG_PREFIX)
        stored = rec.name[len(CONFIG_PREFIX) :] if config else rec.name
        return Member(stored, config, rec.method, rec.flags, rec.crc, rec.compressed_size, rec.file_size,
                      rec.header_offset, data_offset, end, rec.mode)

    def _metadata_not_last(self) -> ArchiveError:
        return self.refused(
            "backup.json is not the last entry, where the mftui writer puts it (another tool rewrote the archive?)",
            METADATA_NAME,
        )
