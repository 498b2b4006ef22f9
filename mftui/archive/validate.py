"""Strict checks of an uploaded backup archive, and reading its entries safely.

An archive is refused unless the mftui writer could have made it. The zip
container is parsed here, byte by byte, instead of trusting ``zipfile``: the
Python on an appliance may lack recent ``zipfile`` fixes, and ``zipfile``
tolerates things a restore must not (junk before or after the archive, two
archives glued together, headers that disagree, overlapping entries).

What is checked, in order:

1. The container: one End of Central Directory record ending exactly at the
   end of the file (no comment, no junk after), ZIP64 records exactly where
   the writer puts them (zipstream.py: where a value does not fit), the
   central directory immediately before it, and local headers that tile the
   file from byte 0 to the central directory with no gap and no overlap (no
   junk before, no glued archive, no entry hidden in another).
2. Each entry: its local header agrees with its central record (name, flags,
   method, CRC, sizes), no encryption, no data descriptor, no flag but UTF-8,
   method stored or deflate, a regular file (no link, device, directory or
   special file), no setuid, setgid or sticky bit, no extra field but ZIP64
   and that only where a value needs it; ``backup.json`` last and deflated.
   An archive without ``backup.json`` is "not an mftui backup", whatever
   else is wrong with it.
3. Names: ``backup.json`` or ``config/<path>`` where ``<path>`` passes the
   grammar in :func:`config_path_problem` (archive/paths.py, which the backup
   enforces too); no duplicates, no two names that
   fold to the same one (case, Unicode normalisation), no file that is also
   the folder of another.
4. The manifest (``backup.json``), no larger than its files need and parsed
   in bounded memory (format.parse_metadata), lists exactly the ``config/``
   entries, with the same sizes and modes.
5. Budgets: entry count, bytes per file, bytes in all, first from the
   headers, then counted again on the bytes actually inflated, which stop
   one byte past what the header declared.

:func:`open_archive` does 1-4 (it reads headers and ``backup.json`` only);
:meth:`Archive.chunks` streams one entry, checking 5 and its size, CRC and
SHA-256 as the bytes come out. Nothing here writes anywhere.
"""

from __future__ import annotations

import errno
import os
import stat
import struct
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

from ..errors import ArchiveError
from ..instance import MAX_IDENTITY_BYTES, parse_identity
from ..progress import Progress, no_progress
from ..settings import Budgets
from ..text import show
from . import zipstream
from .format import (
    CONFIG_PREFIX,
    IDENTITY_NAME,
    METADATA_NAME,
    BackupInfo,
    FileEntry,
    MetadataRefused,
    max_metadata_bytes,
    parse_metadata,
)
from .paths import MAX_DEPTH, MAX_NAME_BYTES, MAX_SEGMENT_BYTES, config_path_problem, fold

__all__ = [
    "MAX_DEPTH",
    "MAX_NAME_BYTES",
    "MAX_SEGMENT_BYTES",
    "Archive",
    "Member",
    "config_path_problem",
    "fold",
    "open_archive",
    "read_info",
    "show",
    "validate_archive",
]

CHUNK = 1024 * 1024  # bytes read from the archive, and inflated, at a time

# Zip record signatures and fixed sizes (APPNOTE.TXT 6.3).
_EOCD = b"PK\x05\x06"
_Z64_LOCATOR = b"PK\x06\x07"
_Z64_EOCD = b"PK\x06\x06"
_CENTRAL = b"PK\x01\x02"
_LOCAL = b"PK\x03\x04"
_EOCD_SIZE = 22
_Z64_LOCATOR_SIZE = 20
_Z64_EOCD_SIZE = 56
_CENTRAL_SIZE = 46
_LOCAL_SIZE = 30
_TAIL_SEARCH = 1024 * 1024  # how far back from the end an End of Central Directory is looked for

_ZIP64_EXTRA = 0x0001
_U16 = 0xFFFF
_U32 = 0xFFFFFFFF

# General-purpose flag bits.
_FLAG_ENCRYPTED = 1 << 0
_FLAG_DESCRIPTOR = 1 << 3
_FLAG_PATCHED = 1 << 5
_FLAG_STRONG_ENCRYPTION = 1 << 6
_FLAG_UTF8 = 1 << 11
_FLAG_MASKED_HEADERS = 1 << 13
_FLAGS_ALLOWED = _FLAG_UTF8  # the only flag the writer sets (zipstream.py), on a name that is not ASCII

_STORED, _DEFLATED = 0, 8
_METHOD_NAMES = {1: "shrink", 6: "implode", 9: "deflate64", 12: "bzip2", 14: "lzma", 93: "zstandard", 95: "xz",
                 98: "ppmd"}
_MAX_VERSION_NEEDED = 45  # ZIP64; anything newer is a feature the writer never uses
_UNIX, _MSDOS = 3, 0  # "version made by" host systems the writer can be on

_IDENTITY_PATH = IDENTITY_NAME[len(CONFIG_PREFIX) :]
# Smallest central directory record: header and a one-byte name.
_MIN_CENTRAL_RECORD = _CENTRAL_SIZE + 1
# Longest central directory record of any kind (three 16-bit lengths): a window always holds a whole one.
_LONGEST_RECORD = _CENTRAL_SIZE + 3 * 0xFFFF
# Largest central directory record a valid name can have: header, name, ZIP64 extra.
_MAX_CENTRAL_RECORD = _CENTRAL_SIZE + MAX_NAME_BYTES + 4 + 24


class Member(NamedTuple):
    """One entry of an archive that passed the container checks.

    A named tuple: a restore holds one per file for its whole run, and a
    tuple is a third the size of a dataclass instance. A ``config/`` entry
    keeps its path only, the very string its manifest entry holds (one
    string per file, not two: 50,000 long names are megabytes); ``name``
    puts the prefix back when a message needs it.
    """

    stored: str  # the path for a config/ entry ("hub/hub.json"), the whole name otherwise ("backup.json")
    config: bool  # whether it is a config/ entry
    method: int
    flags: int
    crc: int
    compressed_size: int
    file_size: int
    header_offset: int
    data_offset: int  # first byte of the (compressed) data
    end_offset: int  # first byte after the data
    mode: int | None  # permission bits from a Unix external attribute, None otherwise

    @property
    def name(self) -> str:
        """The full entry name, e.g. "config/hub/hub.json"."""
        return CONFIG_PREFIX + self.stored if self.config else self.stored

    @property
    def path(self) -> str:
        """The path relative to the instance root (for a ``config/`` entry)."""
        return self.stored if self.config else self.stored[len(CONFIG_PREFIX) :]


class Archive:
    """An archive that passed every container, name and manifest check.

    Its entries are read with :meth:`chunks`, which enforces the budgets on
    the bytes actually inflated and checks size, CRC and SHA-256.
    """

    def __init__(self, path: Path, fd: int, budgets: Budgets) -> None:
        self.path = path
        self._fd = fd
        self.budgets = budgets
        self.members: list[Member] = []  # the config/ entries, in archive order
        self.info: BackupInfo | None = None
        self.files: list[FileEntry] = []  # the manifest entry of each member, in the same order
        self.inflated = 0  # bytes actually inflated so far, across all entries

    # --- life cycle ---------------------------------------------------------

    def close(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1

    def __enter__(self) -> Archive:
        return self

    def identity(self) -> tuple[int, int]:
        """(device, inode) of the open file: what was checked, whatever its path names by now."""
        st = os.fstat(self._fd)
        return st.st_dev, st.st_ino

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- what callers use ---------------------------------------------------

    @property
    def backup_info(self) -> BackupInfo:
        assert self.info is not None
        return self.info

    def entries(self) -> Iterator[tuple[Member, FileEntry]]:
        """Every configuration entry with its manifest entry, in archive order (sequential reads)."""
        return zip(self.members, self.files, strict=True)

    @property
    def total_bytes(self) -> int:
        return sum(m.file_size for m in self.members)

    def chunks(self, member: Member, entry: FileEntry) -> Iterator[bytes]:
        """Inflate one entry chunk by chunk; raise ArchiveError the moment anything is wrong.

        Budgets count the bytes as they come out. The size, CRC and SHA-256
        are checked after the last chunk: a caller writing the chunks must
        treat the file as unconfirmed until this generator finishes.
        """
        import hashlib  # here, not at the top: reading an archive's information needs no hashing

        digest = hashlib.sha256()
        crc = 0
        size = 0
        identity: list[bytes] | None = None  # config/instance.json's bytes, to compare with backup.json's identity
        if member.config and member.stored == _IDENTITY_PATH:
            if member.file_size > MAX_IDENTITY_BYTES:
                raise self._refused(
                    f"entry {IDENTITY_NAME} is {member.file_size:,} bytes, more than the {MAX_IDENTITY_BYTES:,} "
                    "an instance.json may have (the mftui writer refuses to back up a larger one)",
                    member.name,
                )
            identity = []
        for chunk in self._inflate(member):
            if identity is not None:
                identity.append(chunk)
            size += len(chunk)
            self.inflated += len(chunk)
            if size > member.file_size:
                raise self._refused(
                    f"entry {show(member.name)} inflates to more than the {member.file_size} bytes its header "
                    "declares (a zip bomb, or a damaged entry)",
                    member.name,
                )
            if size > self.budgets.max_file_bytes:
                raise self._budget(f"entry {show(member.name)} is larger than", _size(self.budgets.max_file_bytes),
                                   member)
            if self.inflated > self.budgets.max_total_bytes:
                raise self._budget("the archive inflates to more than", _size(self.budgets.max_total_bytes), member)
            digest.update(chunk)
            crc = zlib.crc32(chunk, crc)
            yield chunk
        if size != member.file_size or size != entry.size:
            raise self._damaged(
                f"entry {show(member.name)} has {size} bytes, backup.json says {entry.size}", member.name
            )
        if crc != member.crc:
            raise self._damaged(f"entry {show(member.name)} fails its CRC check", member.name)
        if digest.hexdigest() != entry.sha256:
            raise self._damaged(
                f"entry {show(member.name)} fails its checksum (its SHA-256 differs from backup.json)", member.name
            )
        if identity is not None:
            self._check_identity(b"".join(identity))

    def _check_identity(self, data: bytes) -> None:
        """backup.json's identity is its config/instance.json's, as the writer reads it (instance.read_identity)."""
        info = self.backup_info
        ident = parse_identity(data)
        product, hub_id, hostname = ident.product, ident.hub_id, ident.hostname
        if (product, hub_id, hostname) != (info.product, info.instance_id, info.hostname):
            def unit(p: str, h: str, n: str) -> str:
                return f"{show(p or '(no product)', 40)} hub {show(h or '?', 40)} ({show(n or '?', 40)})"

            raise self._refused(
                f"backup.json says it is a backup of {unit(info.product, info.instance_id, info.hostname)}, but its "
                f"config/instance.json says {unit(product, hub_id, hostname)}; one of them was changed",
                IDENTITY_NAME,
            )

    def verify_all(self, progress: Progress = no_progress) -> None:
        """Inflate and check every entry, writing nothing."""
        total = self.total_bytes
        done = 0
        for member, entry in self.entries():
            progress(done, total, entry.path)
            for chunk in self.chunks(member, entry):
                done += len(chunk)
        progress(total, total, "done")

    # --- errors -------------------------------------------------------------

    def _refused(self, reason: str, entry: str | None = None) -> ArchiveError:
        return ArchiveError(f"the archive is refused: {reason}", entry)

    def _damaged(self, reason: str, entry: str | None = None) -> ArchiveError:
        return ArchiveError(f"the archive is damaged: {reason}", entry)

    def _budget(self, what: str, limit: str, member: Member | None = None) -> ArchiveError:
        return ArchiveError(
            f"the archive is refused: {what} the limit of {limit} set in the settings ([limits]); "
            "a real configuration stays far below it",
            member.name if member else None,
        )

    # --- reading ------------------------------------------------------------

    def _pread(self, size: int, offset: int) -> bytes:
        data = b""
        while len(data) < size:
            try:
                got = os.pread(self._fd, size - len(data), offset + len(data))
            except OSError as exc:
                raise ArchiveError(f"{self.path} cannot be read ({exc.strerror})") from None
            if not got:
                break
            data += got
        return data

    def _stored(self, member: Member) -> Iterator[bytes]:
        """The bytes of a stored entry, chunk by chunk."""
        remaining = member.compressed_size
        offset = member.data_offset
        while remaining:
            chunk = self._pread(min(CHUNK, remaining), offset)
            if not chunk:
                raise self._damaged(f"entry {show(member.name)} is cut short (truncated archive)", member.name)
            offset += len(chunk)
            remaining -= len(chunk)
            yield chunk

    def _inflate(self, member: Member) -> Iterator[bytes]:
        """The raw inflated bytes of one entry, never more than one byte past its declared size."""
        if member.method == _STORED:
            yield from self._stored(member)
            return
        remaining = member.compressed_size
        offset = member.data_offset
        inflater = zlib.decompressobj(-15)
        produced = 0
        while not inflater.eof:
            if inflater.unconsumed_tail:
                feed = inflater.unconsumed_tail
            elif remaining:
                feed = self._pread(min(CHUNK, remaining), offset)
                if not feed:
                    raise self._damaged(f"entry {show(member.name)} is cut short (truncated archive)", member.name)
                offset += len(feed)
                remaining -= len(feed)
            else:
                feed = b""
            # Ask for at most one byte more than declared: a bomb is caught
            # having inflated one extra byte, not gigabytes.
            room = min(CHUNK, member.file_size - produced + 1)
            try:
                out = inflater.decompress(feed, room)
            except zlib.error:
                raise self._damaged(f"entry {show(member.name)} has corrupt compressed data", member.name) from None
            if out:
                produced += len(out)
                yield out
            elif not feed:
                break  # no input left and nothing more comes out
        if not inflater.eof:
            raise self._damaged(f"entry {show(member.name)} ends before its compressed data does", member.name)
        if remaining or inflater.unused_data or inflater.unconsumed_tail:
            raise self._refused(
                f"entry {show(member.name)} has extra bytes after the end of its compressed data", member.name
            )


def open_archive(path: Path, budgets: Budgets | None = None) -> Archive:
    """Open and check an uploaded archive (container, names, manifest); read no file data.

    Raises ArchiveError with one sentence naming the entry and the reason.
    """
    archive, size = _open(Path(path), budgets or Budgets())
    try:
        _Parser(archive, size).parse()
    except BaseException:
        archive.close()
        raise
    return archive


def read_info(path: Path, budgets: Budgets | None = None) -> BackupInfo:
    """What ``backup.json`` says, reading only the end records and that one entry.

    The cost does not grow with the number of files in the archive (beyond
    parsing backup.json): the writer puts ``backup.json`` last, so its central
    record is found at the end of the central directory without reading the
    others (an archive laid out otherwise is refused). The end records get
    the same checks as in :func:`open_archive`, the entry budget included
    (``budgets``, the built-in limits by default: more entries than a restore
    accepts is refused, so that backup.json cannot list millions), and so do
    ``backup.json``'s own headers: deflate only, no encryption, headers that
    agree, size capped, CRC checked. The other entries are not looked at:
    :func:`open_archive` does that before anything uses them. The file entries
    of the returned information are checked when first used (see format.FileList).
    """
    archive, size = _open(Path(path), budgets or Budgets())
    try:
        parser = _Parser(archive, size)
        parser.not_zip = "not a readable zip archive"
        return parser.metadata_only()
    finally:
        archive.close()


def _open(path: Path, budgets: Budgets) -> tuple[Archive, int]:
    """The archive opened for reading (a regular file), and its size."""
    try:
        # O_NONBLOCK: a FIFO posing as an archive must not hang the restore.
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC | os.O_NONBLOCK)
    except FileNotFoundError:
        raise ArchiveError(f"{path} does not exist; check the path") from None
    except IsADirectoryError:
        raise ArchiveError(f"{path} is a folder, not a backup archive") from None
    except PermissionError:
        raise ArchiveError(f"{path} cannot be read (permission denied)") from None
    except OSError as exc:
        if exc.errno == errno.ENXIO:
            raise ArchiveError(f"{path} is not a regular file") from None
        raise ArchiveError(f"{path} cannot be opened ({exc.strerror})") from None
    archive = Archive(path, fd, budgets)
    try:
        st = os.fstat(fd)
        if stat.S_ISDIR(st.st_mode):
            raise ArchiveError(f"{path} is a folder, not a backup archive")
        if not stat.S_ISREG(st.st_mode):
            raise ArchiveError(f"{path} is not a regular file (a device, pipe or socket), so it is not a backup")
    except BaseException:
        archive.close()
        raise
    return archive, st.st_size


def validate_archive(path: Path, budgets: Budgets | None = None, progress: Progress = no_progress) -> BackupInfo:
    """Every check, including every entry's size, CRC and SHA-256; writes nothing."""
    with open_archive(path, budgets) as archive:
        archive.verify_all(progress)
        return archive.backup_info


# --- the parser ------------------------------------------------------------------


@dataclass(slots=True)
class _Central:
    """A central directory record, with ZIP64 values resolved."""

    raw_name: bytes  # as in the directory; b"" for an ASCII name (its bytes are name.encode())
    name: str
    made_by: int
    version_needed: int
    flags: int
    method: int
    crc: int
    compressed_size: int
    file_size: int
    header_offset: int
    external_attr: int
    mode: int | None = None


class _Parser:
    # How a file that is no zip at all is described: "not a zip archive" when
    # an upload is refused; "not a readable zip archive" in a backup's
    # information (``mftui list``, inspect), as zipfile-based readers say it.
    not_zip = "not a zip archive"

    def __init__(self, archive: Archive, size: int) -> None:
        self.a = archive
        self.size = size

    def refused(self, reason: str, entry: str | None = None) -> ArchiveError:
        return self.a._refused(reason, entry)

    def damaged(self, reason: str, entry: str | None = None) -> ArchiveError:
        return self.a._damaged(reason, entry)

    def entry(self, name: str, reason: str) -> ArchiveError:
        """The archive is refused because of one entry: the message names it."""
        return self.a._refused(f"entry {show(name)} {reason}", name)

    def parse(self) -> None:
        _eocd_at, count, cd_size, cd_offset, _cd_end = self._container()
        try:
            records = self._central_records(cd_offset, cd_size, count)
            self._check_names(records)
        except ArchiveError as exc:
            raise self._lead_with_not_mftui(exc, cd_offset, cd_size, count) from None
        if records[-1].name != METADATA_NAME:
            raise self._metadata_not_last()
        members = self._local_headers(records, cd_offset)
        del records  # a restore's largest structure: gone before backup.json is parsed
        meta = [m for m in members if not m.config]  # backup.json: _check_names let nothing else through
        self.a.members = [m for m in members if m.config]
        self._check_metadata_member(meta[0])
        self._check_declared_budgets()
        # The manifest's paths become the members' own strings as they are parsed: one string per file.
        paths = {m.stored: m.stored for m in self.a.members}
        self.a.info = self._metadata(meta[0], len(self.a.members), build=True, paths=paths)
        del paths
        self._check_manifest()

    def metadata_only(self) -> BackupInfo:
        """``backup.json`` alone: the end records, its central record, its local header, its data."""
        _eocd_at, count, cd_size, cd_offset, _cd_end = self._container()
        found = self._last_central(cd_offset, cd_size)
        if found is None:
            found_elsewhere = self._has_metadata(cd_offset, cd_size, count)
            if found_elsewhere is None:
                raise self.damaged("its central directory is damaged (a record is missing or cut short)")
            raise self._metadata_not_last() if found_elsewhere else _not_mftui()
        rec, disk = found
        self._check_record(rec, disk)
        member = self._local(rec, cd_offset)
        self._check_metadata_member(member)
        return self._metadata(member, count - 1, build=False)

    def _metadata_not_last(self) -> ArchiveError:
        return self.refused(
            "backup.json is not the last entry, where the mftui writer puts it (another tool rewrote the archive?)",
            METADATA_NAME,
        )

    def _check_metadata_member(self, member: Member) -> None:
        """backup.json as the writer writes it: compressed (writer._write_metadata)."""
        if member.method != _DEFLATED:
            raise self.refused("backup.json is stored; the mftui writer always compresses it", METADATA_NAME)

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
            if cd_size > count * _MAX_CENTRAL_RECORD:
                raise self.refused("its central directory is larger than its entries can need")
            if cd_size < count * _MIN_CENTRAL_RECORD:
                raise self.refused(f"its end record counts {count} entries, more than its central directory holds")
        except ArchiveError as exc:
            raise self._lead_with_not_mftui(exc, cd_offset, cd_size, count) from None
        return eocd_at, count, cd_size, cd_offset, cd_end

    def _lead_with_not_mftui(self, exc: ArchiveError, cd_offset: int, cd_size: int, count: int) -> ArchiveError:
        """``exc``, or, when the archive has no backup.json at all, that it is not an mftui backup.

        A zip made by another tool (``zip -r``) fails many checks; what a person needs to hear
        first is that it is no mftui backup, whichever check fails first. Error paths only.
        """
        return _not_mftui() if self._has_metadata(cd_offset, cd_size, count) is False else exc

    def _has_metadata(self, cd_offset: int, cd_size: int, count: int) -> bool | None:
        """Whether a central record is named backup.json; None when the directory cannot be walked.

        Error paths only: the records are walked name by name, two small reads each, so that
        this costs no memory whatever the directory claims to hold.
        """
        name = METADATA_NAME.encode()
        pos = cd_offset
        end = min(cd_offset + cd_size, self.size)
        for _ in range(count):
            head = self.a._pread(_CENTRAL_SIZE, pos)
            if len(head) != _CENTRAL_SIZE or head[:4] != _CENTRAL or pos + _CENTRAL_SIZE > end:
                return None
            n_len, x_len, c_len = struct.unpack_from("<HHH", head, 28)
            if self.a._pread(n_len, pos + _CENTRAL_SIZE) == name:
                return True
            pos += _CENTRAL_SIZE + n_len + x_len + c_len
        return False

    # --- 1. end records -------------------------------------------------------

    def _end_records(self) -> tuple[int, int, int, int, int]:
        """(eocd offset, entry count, cd size, cd offset, where the cd must end)."""
        if self.size < _EOCD_SIZE:
            if self.a._pread(4, 0) == _LOCAL:
                raise self.damaged("it is too short to be a zip archive (truncated?)")
            raise ArchiveError(f"{self.a.path.name} is {self.not_zip} (too short to be one)")
        # The writer's archive ends with the record itself (no comment): read just that.
        eocd_at = self.size - _EOCD_SIZE
        last = self.a._pread(_EOCD_SIZE, eocd_at)
        if last[:4] == _EOCD:
            disk, cd_disk, n_disk, n_total, cd_size, cd_offset, comment_len = struct.unpack("<4xHHHHIIH", last)
            if disk == 0 and cd_disk == 0 and n_disk == n_total and comment_len == 0:
                return self._end_records_at(eocd_at, n_total, cd_size, cd_offset)
        # Anything else: search back for it, to say what is wrong (a comment, junk after, a glued archive).
        tail_len = min(self.size, _TAIL_SEARCH + _EOCD_SIZE)
        tail_start = self.size - tail_len
        tail = self.a._pread(tail_len, tail_start)
        pos = tail.rfind(_EOCD, 0, len(tail) - _EOCD_SIZE + 4)  # a whole record must fit
        while pos >= 0:
            disk, cd_disk, n_disk, n_total, cd_size, cd_offset, comment_len = struct.unpack_from(
                "<4xHHHHIIH", tail, pos
            )
            if disk == 0 and cd_disk == 0 and n_disk == n_total:
                break
            pos = tail.rfind(_EOCD, 0, pos + 3)
        if pos < 0:
            if self.a._pread(4, 0) == _LOCAL:
                raise self.damaged(
                    "it has no end-of-archive record; it is truncated (copy it again) or not a zip at all"
                )
            raise ArchiveError(f"{self.a.path.name} is {self.not_zip} (no end-of-archive record found)")
        eocd_at = tail_start + pos
        record_end = eocd_at + _EOCD_SIZE + comment_len
        if record_end > self.size:
            raise self.damaged("its end-of-archive record is cut short (truncated archive)")
        if record_end < self.size:
            raise self._lead_with_not_mftui(self.refused(
                f"it has {self.size - record_end} bytes of junk after the end of the archive"
                + (" (possibly a second archive glued on)" if _EOCD in tail[pos + 4 :] else "")
            ), cd_offset, cd_size, n_total)
        if comment_len:
            raise self._lead_with_not_mftui(
                self.refused(f"it carries an archive comment ({comment_len} bytes); mftui backups have none"),
                cd_offset, cd_size, n_total)
        return self._end_records_at(eocd_at, n_total, cd_size, cd_offset)

    def _end_records_at(self, eocd_at: int, n_total: int, cd_size: int, cd_offset: int
                        ) -> tuple[int, int, int, int, int]:
        """The end records, given a valid End of Central Directory record at ``eocd_at``: ZIP64 where present."""
        if eocd_at >= _Z64_LOCATOR_SIZE and self.a._pread(4, eocd_at - _Z64_LOCATOR_SIZE) == _Z64_LOCATOR:
            return self._zip64_end(eocd_at, n_total, cd_size, cd_offset)
        if _needs_zip64_end(n_total, cd_size, cd_offset):  # a field at 0xFFFF(FFFF) says "see ZIP64"
            raise self.refused("its end-of-archive record needs ZIP64 end records it does not have")
        return eocd_at, n_total, cd_size, cd_offset, eocd_at

    def _zip64_end(self, eocd_at: int, n16: int, size32: int, offset32: int) -> tuple[int, int, int, int, int]:
        locator_at = eocd_at - _Z64_LOCATOR_SIZE
        z64_disk, z64_at, disks = struct.unpack("<4xIQI", self.a._pread(_Z64_LOCATOR_SIZE, locator_at))
        if z64_disk != 0 or disks != 1:
            raise self.refused("it claims to span several disks; mftui backups are one file")
        if z64_at != locator_at - _Z64_EOCD_SIZE:
            raise self.refused("its ZIP64 end record is not where its locator says (junk or a glued archive)")
        rec = self.a._pread(_Z64_EOCD_SIZE, z64_at)
        if len(rec) != _Z64_EOCD_SIZE or rec[:4] != _Z64_EOCD:
            raise self.damaged("its ZIP64 end record is missing or damaged")
        rec_size, _made, _need, disk, cd_disk, n_disk, n_total, cd_size, cd_offset = struct.unpack(
            "<4xQHHIIQQQQ", rec
        )
        if rec_size != _Z64_EOCD_SIZE - 12:
            raise self.refused("its ZIP64 end record carries extension data mftui never writes")
        if disk or cd_disk or n_disk != n_total:
            raise self.refused("it claims to span several disks; mftui backups are one file")
        if not _needs_zip64_end(n_total, cd_size, cd_offset):
            raise self.refused("it carries ZIP64 end records it does not need (the mftui writer never writes them)")
        # The 32-bit record holds each value, or "see ZIP64" where it does not fit, as the writer writes it.
        if (n16, size32, offset32) != (min(n_total, _U16), min(cd_size, _U32), min(cd_offset, _U32)):
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
            if _EOCD in chunk:
                return True
            pos += len(chunk) - len(carry)
            carry = chunk[-3:]
            if len(chunk) == len(carry):
                break
        return False

    # --- 2. central directory ----------------------------------------------------

    def _central_records(self, cd_offset: int, cd_size: int, count: int) -> list[_Central]:
        """Every central record, read a window at a time (the directory is never held whole)."""
        records: list[_Central] = []
        data = b""
        base = cd_offset  # where data starts in the file
        pos = 0
        end = cd_offset + cd_size
        for _ in range(count):
            if len(data) - pos < _LONGEST_RECORD and base + len(data) < end:
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

    def _central_record(self, data: bytes, pos: int) -> tuple[_Central, int, int]:
        """The record at ``pos`` of ``data`` (ZIP64 values resolved), its disk number, and where the next starts."""
        end = len(data)
        if pos + _CENTRAL_SIZE > end or data[pos : pos + 4] != _CENTRAL:
            raise self.damaged("its central directory is damaged (a record is missing or cut short)")
        (made_by, need, flags, method, _t, _d, crc, csize, usize, n_len, x_len, c_len, disk, _iattr,
         eattr, offset) = struct.unpack_from("<4xHHHHHHIIIHHHHHII", data, pos)
        pos += _CENTRAL_SIZE
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
        return _Central(raw_name, name, made_by, need, flags, method, crc, csize, usize, offset, eattr), disk, pos

    def _last_central(self, cd_offset: int, cd_size: int) -> tuple[_Central, int] | None:
        """``backup.json``'s central record when it is the last one, as the writer puts it; else None.

        Its length is known but for the ZIP64 extra field (none, or 1 to 3
        eight-byte values), so the directory's last bytes are read and each
        possible start is tried; a record must end exactly at the end.
        """
        name = METADATA_NAME.encode()
        longest = _CENTRAL_SIZE + len(name) + 4 + 24
        tail_len = min(cd_size, longest)
        tail = self.a._pread(tail_len, cd_offset + cd_size - tail_len)
        if len(tail) != tail_len:
            raise self.damaged("its central directory is cut short (truncated archive)")
        for x_len in (0, 12, 20, 28):
            pos = tail_len - (_CENTRAL_SIZE + len(name) + x_len)
            if pos < 0:
                break
            if tail[pos : pos + 4] != _CENTRAL or tail[pos + _CENTRAL_SIZE : pos + _CENTRAL_SIZE + len(name)] != name:
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
        if flags & _FLAG_UTF8:
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
        need = [v == _U32 for v in values]
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
            if ident != _ZIP64_EXTRA:
                raise self.entry(name, f"carries an extra field (id 0x{ident:04x}) the mftui writer never writes")
            if z64 is not None:
                raise self.entry(name, "has two ZIP64 extra fields")
            z64 = body
            pos += 4 + length
        return z64

    def _check_record(self, rec: _Central, disk: int) -> None:
        name = rec.name
        if rec.flags & (_FLAG_ENCRYPTED | _FLAG_STRONG_ENCRYPTION | _FLAG_MASKED_HEADERS) or rec.method == 99:
            raise self.entry(name, "is encrypted; mftui backups never are")
        if rec.flags & _FLAG_PATCHED:
            raise self.entry(name, "is patch data, which mftui backups never hold")
        if rec.flags & _FLAG_DESCRIPTOR:
            raise self.entry(name, "uses a data descriptor (flag 0x0008), which the mftui writer never writes")
        if rec.flags & ~_FLAGS_ALLOWED:
            raise self.entry(name, f"uses zip features mftui never writes (flags 0x{rec.flags:04x})")
        if rec.method not in (_STORED, _DEFLATED):
            what = _METHOD_NAMES.get(rec.method, "unknown")
            raise self.entry(
                name, f"uses compression method {rec.method} ({what}); mftui backups use only stored or deflate"
            )
        if rec.version_needed > _MAX_VERSION_NEEDED:
            raise self.entry(name, f"needs zip version {rec.version_needed / 10:.1f}, newer than mftui writes")
        if disk != 0:
            raise self.entry(name, "claims to be on another disk; mftui backups are one file")
        if rec.method == _STORED and rec.compressed_size != rec.file_size:
            raise self.entry(name, "is stored but its two sizes differ (headers disagree)")
        rec.mode = self._mode(rec)

    def _mode(self, rec: _Central) -> int | None:
        """Permission bits from the external attribute; refuse anything but a plain file."""
        host = rec.made_by >> 8
        unix = rec.external_attr >> 16
        if rec.external_attr & 0x10 or rec.name.endswith("/"):
            raise self.entry(rec.name, "is a directory entry; mftui backups hold files only")
        if host == _MSDOS:
            if unix:
                raise self.entry(rec.name, "has Unix attributes on a DOS entry (headers disagree)")
            return None
        if host != _UNIX:
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

    # --- 3. names --------------------------------------------------------------

    def _check_names(self, records: list[_Central]) -> None:
        seen: dict[str, str] = {}  # exact name -> itself
        folded: dict[str, str] = {}  # folded name -> first name
        metadata = 0
        for rec in records:
            name = rec.name
            if name == METADATA_NAME:
                metadata += 1
            elif not name.startswith(CONFIG_PREFIX):
                problem = config_path_problem(name)
                if problem:
                    raise self.entry(name, f"{problem}")
                raise self.entry(name, "is outside config/; mftui backups hold only backup.json and config/")
            else:
                problem = config_path_problem(name[len(CONFIG_PREFIX) :])
                if problem:
                    raise self.entry(name, f"{problem}")
            if name in seen:
                raise self.entry(name, "appears twice")
            seen[name] = name
            key = fold(name)
            if key == name:
                key = name  # the name itself, not an equal copy (50,000 long names are megabytes)
            if key in folded:
                raise self.refused(
                    f"entries {show(folded[key])} and {show(name)} collide once case and Unicode "
                    "normalisation are ignored",
                    name,
                )
            folded[key] = name
        if metadata == 0:
            raise _not_mftui()
        self._check_folders(records, folded)

    def _check_folders(self, records: list[_Central], folded: dict[str, str]) -> None:
        """No file that is also the folder of another entry (``folded``: every folded name -> its name)."""
        for rec in records:
            parts = rec.name.split("/")
            for i in range(1, len(parts)):
                folder = fold("/".join(parts[:i]))
                if folder in folded:
                    raise self.refused(
                        f"{show(folded[folder])} is both a file and the folder of {show(rec.name)}", rec.name
                    )

    # --- local headers and the tiling --------------------------------------------

    def _local_headers(self, records: list[_Central], cd_offset: int) -> list[Member]:
        """The members, from the records, which are consumed: each record (and its name) is dropped as its
        member is made, so the names are never held twice."""
        members: list[Member] = []
        records.reverse()
        while records:
            members.append(self._local(records.pop(), cd_offset))
        ordered = sorted(members, key=lambda m: m.header_offset)
        if ordered[0].header_offset != 0:
            first = ordered[0].header_offset
            glued = self.a._pread(4, 0) == _LOCAL
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
        return members

    def _local(self, rec: _Central, cd_offset: int) -> Member:
        if rec.header_offset + _LOCAL_SIZE > cd_offset:
            raise self.entry(rec.name, "points outside the archive's data area")
        head = self.a._pread(_LOCAL_SIZE, rec.header_offset)
        if head[:4] != _LOCAL:
            raise self.entry(rec.name, "has no local header where the central directory says")
        _need, flags, method, _t, _d, crc, csize, usize, n_len, x_len = struct.unpack_from("<4xHHHHHIIIHH", head)
        names_extra = self.a._pread(n_len + x_len, rec.header_offset + _LOCAL_SIZE)
        if len(names_extra) != n_len + x_len:
            raise self.damaged(f"entry {show(rec.name)} is cut short (truncated archive)", rec.name)
        if names_extra[:n_len] != (rec.raw_name or rec.name.encode("ascii")):
            local = show(names_extra[:n_len].decode("utf-8", "replace"))
            raise self.entry(rec.name, f"is named {local} in its local header (headers disagree)")
        if flags != rec.flags:
            raise self.entry(rec.name, "has different flags in its two headers (headers disagree)")
        if method != rec.method:
            raise self.entry(rec.name, "has different compression methods in its two headers")
        data_offset = rec.header_offset + _LOCAL_SIZE + n_len + x_len
        extra = names_extra[n_len:]
        if extra:
            # The writer's ZIP64 local header: both sizes "see ZIP64", both in the extra field, and only
            # for a member it framed as large (zipstream.ZipStream.begin / add).
            usize, csize, _o = self._zip64(extra, rec.name, usize, csize, 0, local=True)
            if (
                len(extra) != 20
                or struct.unpack_from("<II", head, 18) != (_U32, _U32)
                or not (usize >= zipstream.ZIP64_LOCAL_AT or max(usize, csize) >= zipstream.ZIP64_AT)
            ):
                raise self.entry(rec.name, "has a ZIP64 local header it does not need (mftui never writes it)")
        elif usize == _U32 or csize == _U32:
            raise self.entry(rec.name, "needs a ZIP64 extra field it does not have")
        if (crc, csize, usize) != (rec.crc, rec.compressed_size, rec.file_size):
            raise self.entry(rec.name, "has different sizes or CRC in its two headers (headers disagree)")
        end = data_offset + rec.compressed_size
        if end > cd_offset:
            raise self.entry(rec.name, "runs into the central directory (sizes are wrong)")
        config = rec.name.startswith(CONFIG_PREFIX)
        stored = rec.name[len(CONFIG_PREFIX) :] if config else rec.name
        return Member(stored, config, rec.method, rec.flags, rec.crc, rec.compressed_size, rec.file_size,
                      rec.header_offset, data_offset, end, rec.mode)

    # --- 4. budgets, metadata and manifest ---------------------------------------

    def _check_declared_budgets(self) -> None:
        b = self.a.budgets
        total = 0
        for m in self.a.members:
            if m.file_size > b.max_file_bytes:
                raise self.a._budget(f"entry {show(m.name)} declares {_size(m.file_size)}, more than",
                                     _size(b.max_file_bytes), m)
            total += m.file_size
        if total > b.max_total_bytes:
            raise self.a._budget(f"its entries declare {_size(total)} in all, more than", _size(b.max_total_bytes))

    def _metadata(self, member: Member, files: int, *, build: bool, paths: dict[str, str] | None = None
                  ) -> BackupInfo:
        """``backup.json`` of an archive of ``files`` files: inflated within what they need, CRC checked, parsed.

        It is parsed as it inflates, never more than a window of its text held
        (format.parse_metadata): what it costs is bounded by the files it may list, whatever it holds.
        ``build``: build the file entries as they are parsed, for a caller that uses them all (a
        restore, verify, compare); the information alone leaves them to FileList. ``paths``: the
        strings to use for the paths the manifest lists (format.parse_metadata).
        """
        limit = max_metadata_bytes(files)
        if member.file_size > limit:
            raise self.refused(
                f"backup.json declares {member.file_size:,} bytes, more than the {limit:,} a backup of "
                f"{files} file{'' if files == 1 else 's'} can need",
                METADATA_NAME,
            )
        # A manifest listing more files than the archive holds is told by name (_check_manifest).
        max_files = max(files, self.a.budgets.max_entries)
        state = [0, 0]  # bytes inflated, their CRC

        def inflated() -> Iterator[bytes]:
            for chunk in self.a._inflate(member):
                state[0] += len(chunk)
                if state[0] > member.file_size:
                    raise self.refused("backup.json inflates to more than its header declares", METADATA_NAME)
                state[1] = zlib.crc32(chunk, state[1])
                yield chunk

        stream = inflated()
        problem: ArchiveError | None = None
        data = None
        try:
            data = parse_metadata(stream, max_files, build=build, paths=paths)
        except MetadataRefused as exc:
            problem = ArchiveError(f"the backup information (backup.json) is not valid: {exc}", METADATA_NAME)
        except ValueError:  # UnicodeDecodeError and json's errors too
            problem = self.damaged("backup.json is not valid JSON", METADATA_NAME)
        except RecursionError:
            problem = self.refused("backup.json nests its values too deeply to be read", METADATA_NAME)
        for _chunk in stream:  # the rest, for the CRC (a damaged file says so before anything else)
            pass
        if state[0] != member.file_size or state[1] != member.crc:
            raise self.damaged("backup.json fails its CRC check", METADATA_NAME)
        if problem is not None:
            raise problem
        return BackupInfo.from_json(data)

    def _check_manifest(self) -> None:
        """Pair each member with its manifest entry: the same paths, sizes and modes, none twice."""
        info = self.a.backup_info
        manifest: dict[str, FileEntry] = {}
        for entry in info.files:
            name = CONFIG_PREFIX + entry.path
            problem = config_path_problem(entry.path)
            if problem:
                raise self.refused(f"backup.json lists {show(name)}, which {problem}", name)
            if entry.path in manifest:
                raise self.refused(f"backup.json lists {show(name)} twice", name)
            manifest[entry.path] = entry
        paired: list[FileEntry] = []
        extra: list[str] = []
        for m in self.a.members:
            listed = manifest.pop(m.stored, None)  # what is left at the end is missing from the archive
            if listed is None:
                extra.append(m.name)
            else:
                paired.append(listed)
        if manifest:
            name = CONFIG_PREFIX + min(manifest)
            raise self.damaged(f"{show(name)} is listed in backup.json but missing from the archive", name)
        if extra:
            name = min(extra)
            raise self.refused(f"the archive holds {show(name)}, which backup.json does not list", name)
        for m, entry in zip(self.a.members, paired, strict=True):
            if m.file_size != entry.size:
                raise self.damaged(
                    f"entry {show(m.name)} has {m.file_size} bytes, backup.json says {entry.size}", m.name
                )
            if m.mode is not None and m.mode != entry.mode:
                raise self.refused(
                    f"entry {show(m.name)} has mode {m.mode:04o} in the zip but {entry.mode:04o} in backup.json "
                    "(headers disagree)",
                    m.name,
                )
        self.a.files = paired


def _needs_zip64_end(count: int, cd_size: int, cd_offset: int) -> bool:
    """Whether the writer puts ZIP64 end records in an archive with this central directory (zipstream.close)."""
    return count >= zipstream.ZIP64_COUNT_AT or max(cd_size, cd_offset) >= zipstream.ZIP64_AT


def _not_mftui() -> ArchiveError:
    return ArchiveError("this zip is not an mftui backup: it has no backup.json")


def _size(n: int) -> str:
    """A byte count for a message: "512 MiB", "4 GiB", "1000 bytes"."""
    for unit, factor in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if n >= factor:
            value = n / factor
            return f"{value:.0f} {unit}" if value == int(value) else f"{value:.1f} {unit}"
    return f"{n} bytes"
