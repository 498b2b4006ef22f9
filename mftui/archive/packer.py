"""Reading, hashing and compressing the files of a backup on every core, written strictly in scan order.

The main thread walks the files in order and hands work to a thread pool
(see :class:`Packer`); what it hands over is a small typed message, queued
and written in order, so the archive is the same whatever the thread timing.
"""

from __future__ import annotations

import errno
import hashlib
import os
import stat
import zlib
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from ..errors import BackupError
from ..instance import ConfigFile, Instance
from ..progress import Progress
from .compress import SAMPLE, STORE, WINDOW, choose, deflate, deflate_chunk
from .format import FileEntry
from .paths import CONFIG_PREFIX
from .zipstream import DEFLATED, STORED, ZipStream

# A file larger than CHUNK is read in chunks of that size by the main thread and
# compressed chunk by chunk on every core; smaller files go to the workers in
# batches. IN_FLIGHT bounds the bytes read but not yet written: it, not the
# size of the instance, is what the backup's memory grows with.
CHUNK = 1024 * 1024
BATCH_BYTES = 256 * 1024
BATCH_FILES = 32
IN_FLIGHT = 16 * 1024 * 1024


# --- what the main thread hands over, in order ----------------------------------


@dataclass(slots=True)
class _Batch:
    """Small files, packed whole on a worker."""

    job: Future[list[_Packed]]


@dataclass(slots=True)
class _Begin:
    """The start of a large member."""

    cf: ConfigFile
    method: int


@dataclass(slots=True)
class _Chunk:
    """A piece of a large member: as read (stored) or being compressed on a worker."""

    data: bytes | Future[bytes]


@dataclass(slots=True)
class _End:
    """The end of a large member, with what was computed while reading it."""

    cf: ConfigFile
    crc: int
    sha256: str


_Message = _Batch | _Begin | _Chunk | _End


def _workers() -> int:
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        cores = os.cpu_count() or 1
    return max(1, min(cores, 8))


@dataclass(slots=True)
class _Packed:
    """A small file read, hashed and compressed by a worker, ready to write."""

    cf: ConfigFile
    method: int
    crc: int
    sha256: str
    data: bytes


class Packer:
    """Read, hash and compress on every core; write members in scan order.

    The main thread walks the files in order: small ones go to the workers in
    batches; a large one it reads itself, chunk by chunk (hashing as it goes),
    and hands each chunk to the workers to compress. What it hands over waits
    in ``pending`` (futures, and the framing of large members) and is written
    strictly in order, so the archive and its manifest come out the same
    whatever the thread timing. At most IN_FLIGHT bytes are read ahead.
    """

    def __init__(self, zs: ZipStream, instance: Instance, total: int, progress: Progress) -> None:
        self.zs = zs
        self.instance = instance
        self.root = instance.root
        self.total = total
        self.progress = progress
        self.pending: deque[tuple[_Message, int]] = deque()  # what was handed over, and the bytes read for it
        self.in_flight = 0
        self.done = 0  # bytes of the files written
        self.large_done = 0  # bytes of the large file being written
        self.large_path = ""
        self.entries: list[FileEntry] = []
        self.pool = ThreadPoolExecutor(_workers(), thread_name_prefix="mftui-backup")

    def run(self, files: list[ConfigFile]) -> list[FileEntry]:
        self.progress(0, self.total, files[0].path if files else "")
        with self.pool as pool:
            try:
                batch: list[ConfigFile] = []
                batch_bytes = 0
                for cf in files:
                    if cf.size > CHUNK:
                        self._submit_batch(batch, batch_bytes)
                        batch, batch_bytes = [], 0
                        self._large(cf)
                        continue
                    batch.append(cf)
                    batch_bytes += cf.size
                    if batch_bytes >= BATCH_BYTES or len(batch) >= BATCH_FILES:
                        self._submit_batch(batch, batch_bytes)
                        batch, batch_bytes = [], 0
                self._submit_batch(batch, batch_bytes)
                self._write(everything=True)
            except BaseException:
                pool.shutdown(wait=True, cancel_futures=True)
                raise
        return self.entries

    # --- handing work over ----------------------------------------------------

    def _push(self, message: _Message, nbytes: int) -> None:
        self.pending.append((message, nbytes))
        self.in_flight += nbytes
        self._write()

    def _submit_batch(self, batch: list[ConfigFile], nbytes: int) -> None:
        if batch:
            self._push(_Batch(self.pool.submit(_pack_files, self.root, batch)), nbytes)

    def _large(self, cf: ConfigFile) -> None:
        """Frame one large member; read and hash it here, compress its chunks on the workers."""
        fd = _open_checked(self.root, cf)
        try:
            method = DEFLATED if any(choose(s) != STORE for s in _samples(fd, cf.size)) else STORED
            self._push(_Begin(cf, method), 0)
            sha = hashlib.sha256()
            crc = 0
            read = 0
            window = b""
            while read < cf.size:
                chunk = _read_upto(fd, min(CHUNK, cf.size - read), cf)
                if not chunk:
                    break
                read += len(chunk)
                sha.update(chunk)
                crc = zlib.crc32(chunk, crc)
                if method == STORED:
                    self._push(_Chunk(chunk), len(chunk))
                else:
                    job = self.pool.submit(deflate_chunk, chunk, window=window, last=read >= cf.size)
                    self._push(_Chunk(job), len(chunk))
                    window = chunk[-WINDOW:]
            after = os.fstat(fd)
        finally:
            os.close(fd)
        if read != cf.size or (after.st_size, after.st_mtime_ns) != (cf.size, cf.mtime_ns):
            raise _changed(cf)
        self._push(_End(cf, crc, sha.hexdigest()), 0)

    # --- writing, in order ----------------------------------------------------

    def _write(self, *, everything: bool = False) -> None:
        """Write what was handed over, oldest first, until at most IN_FLIGHT bytes wait (or none)."""
        while self.pending and (everything or self.in_flight > IN_FLIGHT):
            message, nbytes = self.pending.popleft()
            self.in_flight -= nbytes
            if isinstance(message, _Batch):
                for p in message.job.result():
                    self.progress(self.done, self.total, p.cf.path)
                    self.zs.add(CONFIG_PREFIX + p.cf.path, p.data, method=p.method, crc=p.crc, size=p.cf.size,
                                mode=p.cf.mode, mtime_ns=p.cf.mtime_ns)
                    self._record(p.cf, p.sha256)
            elif isinstance(message, _Begin):
                cf = message.cf
                self.progress(self.done, self.total, cf.path)
                self.zs.begin(CONFIG_PREFIX + cf.path, method=message.method, size=cf.size, mode=cf.mode,
                              mtime_ns=cf.mtime_ns)
                self.large_done = 0
                self.large_path = cf.path
            elif isinstance(message, _Chunk):
                data = message.data
                self.zs.write(data if isinstance(data, bytes) else data.result())
                self.large_done += nbytes
                self.progress(self.done + self.large_done, self.total, self.large_path)
            else:
                self.zs.end(crc=message.crc, size=message.cf.size)
                self._record(message.cf, message.sha256)

    def _record(self, cf: ConfigFile, sha: str) -> None:
        self.entries.append(FileEntry(cf.path, cf.size, sha, cf.mode, self.instance.component_of(cf.path)))
        self.done += cf.size


# --- on the workers -------------------------------------------------------------


def _pack_files(root: Path, batch: list[ConfigFile]) -> list[_Packed]:
    return [_pack(root, cf) for cf in batch]


def _pack(root: Path, cf: ConfigFile) -> _Packed:
    """Read one small file whole, hash it and compress it (if that shrinks it)."""
    fd = _open_checked(root, cf)
    try:
        data = _read_upto(fd, cf.size, cf)  # a file that grew is caught by its size below
        after = os.fstat(fd)
    finally:
        os.close(fd)
    if len(data) != cf.size or (after.st_size, after.st_mtime_ns) != (cf.size, cf.mtime_ns):
        raise _changed(cf)
    crc = zlib.crc32(data)
    sha = hashlib.sha256(data).hexdigest()
    kind = choose(memoryview(data)[:SAMPLE])
    if kind != STORE:
        packed = deflate(data, kind)
        if len(packed) < len(data):
            return _Packed(cf, DEFLATED, crc, sha, packed)
    return _Packed(cf, STORED, crc, sha, data)


def _open_checked(root: Path, cf: ConfigFile) -> int:
    """Open without following links; refuse what is no longer a regular file.

    What was read is later checked against what the scan saw, so a file that
    changes under the backup is reported instead of archived half-old, half-new.
    """
    try:
        # O_NONBLOCK: a pipe put in the file's place must not hang the open
        fd = os.open(root / cf.path, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC | os.O_NONBLOCK)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise BackupError(f"{cf.path} became a symbolic link during the backup; try again") from None
        if exc.errno == errno.ENOENT:
            raise BackupError(f"{cf.path} was removed during the backup (is the product writing its "
                              "configuration?); try again") from None
        raise BackupError(f"{cf.path} cannot be read ({exc.strerror}); fix its permissions or exclude it") from None
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise BackupError(f"{cf.path} is no longer a regular file; try again")
    except BaseException:
        os.close(fd)
        raise
    return fd


def _read_upto(fd: int, n: int, cf: ConfigFile) -> bytes:
    """Up to ``n`` bytes from the file position; fewer only at the end of the file."""
    try:
        data = os.read(fd, n)
        if 0 < len(data) < n:
            parts = [data]
            got = len(data)
            while got < n and (more := os.read(fd, n - got)):
                parts.append(more)
                got += len(more)
            data = b"".join(parts)
    except OSError as exc:
        raise BackupError(f"{cf.path} cannot be read ({exc.strerror}); fix the disk or exclude it") from None
    return data


def _samples(fd: int, size: int) -> list[bytes]:
    """The start, middle and end of a large file, to choose stored or deflated."""
    return [os.pread(fd, SAMPLE, max(0, at)) for at in (0, size // 2, size - SAMPLE)]


def _changed(cf: ConfigFile) -> BackupError:
    return BackupError(
        f"{cf.path} changed while it was being backed up; "
        "try again when the instance is idle (stop the service that writes it if it keeps changing)"
    )
