"""Reading the entries of a checked archive: inflating in bounded steps, budgets, CRC and SHA-256.

:class:`Archive` is what :func:`validate.open_archive` returns once every
container, name and manifest check passed. Its :meth:`Archive.chunks`
streams one entry, checking the budgets on the bytes actually inflated
(stopping one byte past the declared size) and the size, CRC and SHA-256
after the last chunk; the archive's own ``config/instance.json`` must agree
with ``backup.json``'s identity.
"""

from __future__ import annotations

import os
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path

from ..errors import ArchiveError
from ..instance import MAX_IDENTITY_BYTES, parse_identity
from ..progress import Progress, no_progress
from ..settings import Budgets
from ..text import show
from .format import IDENTITY_NAME, BackupInfo, FileEntry
from .zipspec import CHUNK, IDENTITY_PATH, STORED, Member, size_words


class Archive:
    """An archive that passed every container, name and manifest check.

    Its entries are read with :meth:`chunks`, which enforces the budgets on
    the bytes actually inflated and checks size, CRC and SHA-256.
    """

    def __init__(self, path: Path, fd: int, budgets: Budgets, read: Callable[[int, int], bytes] | None = None) -> None:
        self.path = path
        self._fd = fd
        self._read = read  # (size, offset) -> bytes: the plain backup inside a payload (payload_source.py)
        self.budgets = budgets
        self.members: list[Member] = []  # the config/ entries, in archive order
        self.info: BackupInfo | None = None
        self.files: list[FileEntry] = []  # the manifest entry of each member, in the same order
        self.inflated = 0  # bytes actually inflated so far, across all entries
        # set when the members' local headers were not all read up front (validate.open_payload_archive):
        # each is checked by this before its first byte is read
        self.check_local: Callable[[Member], None] | None = None

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

        if self.check_local is not None:
            self.check_local(member)
        digest = hashlib.sha256()
        crc = 0
        size = 0
        identity = self._identity_bytes(member)
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
                raise self._budget(f"entry {show(member.name)} is larger than", size_words(self.budgets.max_file_bytes),
                                   member)
            if self.inflated > self.budgets.max_total_bytes:
                raise self._budget("the archive inflates to more than", size_words(self.budgets.max_total_bytes),
                                   member)
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

    def _identity_bytes(self, member: Member) -> list[bytes] | None:
        """Where config/instance.json's bytes are gathered, to compare with backup.json's identity; None for
        any other entry."""
        if not (member.config and member.stored == IDENTITY_PATH):
            return None
        if member.file_size > MAX_IDENTITY_BYTES:
            raise self._refused(
                f"entry {IDENTITY_NAME} is {member.file_size:,} bytes, more than the {MAX_IDENTITY_BYTES:,} "
                "an instance.json may have (the mftui writer refuses to back up a larger one)",
                member.name,
            )
        return []

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
        if self._read is not None:
            return self._read(size, offset)
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
        if member.method == STORED:
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
