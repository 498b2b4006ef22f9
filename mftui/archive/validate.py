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
   in bounded memory (metadata.parse_metadata), lists exactly the ``config/``
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
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path

from ..errors import ArchiveError
from ..progress import Progress, no_progress
from ..settings import Budgets
from ..text import show
from .container import ContainerParser
from .format import (
    METADATA_NAME,
    BackupInfo,
    FileEntry,
)
from .metadata import MetadataRefused, max_metadata_bytes, parse_metadata
from .paths import CONFIG_PREFIX, MAX_DEPTH, MAX_NAME_BYTES, MAX_SEGMENT_BYTES, NameSet, config_path_problem, fold
from .reading import Archive
from .zipspec import DEFLATED, CentralRecord, Member, not_mftui, size_words

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


def open_payload_archive(path: Path, fd: int, size: int, read: Callable[[int, int], bytes],
                         budgets: Budgets | None = None, *, lazy_local: bool = False) -> Archive:
    """:func:`open_archive` for the plain backup inside a protected one, read with ``read(size, offset)``.

    ``fd`` (the container, fstat'ed for the archive's identity) is the caller's: a duplicate is kept.
    ``lazy_local``: each entry's local header is checked just before its data is read (Archive.chunks),
    not all of them first, so that each age chunk is decrypted once; for a caller that reads every entry
    (verify), and so checks every header, before it says the archive is good.
    """
    archive = Archive(path, os.dup(fd), budgets or Budgets(), read)
    try:
        _Parser(archive, size).parse(lazy_local=lazy_local)
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


# --- the backup-level checks on top of the container ---------------------------------


class _Parser(ContainerParser):
    def parse(self, *, lazy_local: bool = False) -> None:
        _eocd_at, count, cd_size, cd_offset, _cd_end = self._container()
        try:
            records = self._central_records(cd_offset, cd_size, count)
            self._check_names(records)
        except ArchiveError as exc:
            raise self._lead_with_not_mftui(exc, cd_offset, cd_size, count) from None
        if records[-1].name != METADATA_NAME:
            raise self._metadata_not_last()
        members = self._local_headers(records, cd_offset, lazy=lazy_local)
        del records  # a restore's largest structure: gone before backup.json is parsed
        meta = [m for m in members if not m.config]  # backup.json: _check_names let nothing else through
        self.a.members = [m for m in members if m.config]
        if lazy_local:  # (headers already read, where the lazy layout did not apply, are read again: cheap)
            self.check_local(meta[0])  # backup.json is read now
            self.a.check_local = self.check_local
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
            raise self._metadata_not_last() if found_elsewhere else not_mftui()
        rec, disk = found
        self._check_record(rec, disk)
        member = self._local(rec, cd_offset)
        self._check_metadata_member(member)
        return self._metadata(member, count - 1, build=False)

    def _check_metadata_member(self, member: Member) -> None:
        """backup.json as the writer writes it: compressed (writer._write_metadata)."""
        if member.method != DEFLATED:
            raise self.refused("backup.json is stored; the mftui writer always compresses it", METADATA_NAME)

    def _check_names(self, records: list[CentralRecord]) -> None:
        names = NameSet()
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
            clash = names.add(name)
            if clash:
                raise self.refused(f"entries {clash}", name)
        if metadata == 0:
            raise not_mftui()
        for clash in names.folder_clashes():
            raise self.refused(clash)

    def _check_declared_budgets(self) -> None:
        b = self.a.budgets
        total = 0
        for m in self.a.members:
            if m.file_size > b.max_file_bytes:
                raise self.a._budget(f"entry {show(m.name)} declares {size_words(m.file_size)}, more than",
                                     size_words(b.max_file_bytes), m)
            total += m.file_size
        if total > b.max_total_bytes:
            raise self.a._budget(f"its entries declare {size_words(total)} in all, more than",
                                 size_words(b.max_total_bytes))

    def _metadata(self, member: Member, files: int, *, build: bool, paths: dict[str, str] | None = None
                  ) -> BackupInfo:
        """``backup.json`` of an archive of ``files`` files: inflated within what they need, CRC checked, parsed.

        It is parsed as it inflates, never more than a window of its text held
        (metadata.parse_metadata): what it costs is bounded by the files it may list, whatever it holds.
        ``build``: build the file entries as they are parsed, for a caller that uses them all (a
        restore, verify, compare); the information alone leaves them to FileList. ``paths``: the
        strings to use for the paths the manifest lists (metadata.parse_metadata).
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
