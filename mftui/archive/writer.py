"""Write a backup archive: on every core, streaming, atomic, mode 0600.

Files are read, hashed and compressed on a thread per core (see ``_Packer``
and compress.py) and laid out by a small zip writer (zipstream.py) in scan
order, so the archive is the same whatever the thread timing, and memory is
bounded by the bytes read ahead, not by the size of the instance.
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import re
import stat
import tempfile
import time
import zlib
from collections import Counter, deque
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from .. import __version__
from ..durable import fsync_path
from ..errors import BackupError, UnrestorableError
from ..instance import ConfigFile, Identity, Instance
from ..lock import instance_lock
from ..progress import Progress, no_progress
from ..settings import Budgets, Settings
from .compress import LEVEL, SAMPLE, STORE, WINDOW, choose, deflate, deflate_chunk
from .format import CONFIG_PREFIX, METADATA_NAME, BackupInfo, FileEntry, text_problem
from .names import backup_file_name, safe_name
from .paths import config_path_problem, fold, show
from .zipstream import DEFLATED, STORED, ZipStream

# A file larger than CHUNK is read in chunks of that size by the main thread and
# compressed chunk by chunk on every core; smaller files go to the workers in
# batches. IN_FLIGHT bounds the bytes read but not yet written: it, not the
# size of the instance, is what the backup's memory grows with.
CHUNK = 1024 * 1024
BATCH_BYTES = 256 * 1024
BATCH_FILES = 32
IN_FLIGHT = 16 * 1024 * 1024
OUT_BUFFER = 1024 * 1024

# The archive being written: ``.partial-<pid>-<random>.zip`` in the backups folder.
PARTIAL_PREFIX = ".partial-"
_PARTIAL_PID = re.compile(r"\.partial-(\d+)-[A-Za-z0-9_]+\.zip\Z")
STALE_PARTIAL_SECONDS = 24 * 3600  # a partial archive this old is stale whatever its pid says


@dataclass(frozen=True)
class BackupResult:
    """A backup that exists on disk, complete."""

    path: Path
    info: BackupInfo
    archive_bytes: int


def create_backup(
    settings: Settings,
    name: str = "",
    *,
    progress: Progress = no_progress,
    now: datetime | None = None,
) -> BackupResult:
    """Back up the instance's whole configuration into one new archive."""
    with instance_lock(settings, "backup"):
        return write_backup(Instance(settings), settings.backups_dir, name, progress=progress, now=now)


def write_backup(
    instance: Instance,
    dest_dir: Path,
    name: str,
    *,
    kind: str = "manual",
    progress: Progress = no_progress,
    now: datetime | None = None,
) -> BackupResult:
    """Write the archive (the caller holds the instance lock).

    The archive is written to a temporary file beside its final place
    (``.partial-<pid>-<random>.zip``), fsync'ed and linked into place without
    overwriting anything, so no partial archive ever carries a backup's name.
    Partial archives that a killed backup left behind are removed first (see
    :func:`remove_stale_partials`).
    """
    now = (now or datetime.now(UTC)).astimezone(UTC).replace(microsecond=0)
    files = instance.scan()
    if not files:
        source = instance.settings.source or "the settings"
        raise BackupError(f"no configuration file was found in {instance.root}: check [instance] include and "
                          f"exclude (and root) in {source}; no backup was made")
    _check_restorable(files, instance.settings.budgets)
    identity = instance.identity()
    _check_identity(identity)
    total = sum(f.size for f in files)
    try:
        dest_dir.mkdir(parents=True, exist_ok=True)
        remove_stale_partials(dest_dir)
        fd, tmp_name = tempfile.mkstemp(prefix=f"{PARTIAL_PREFIX}{os.getpid()}-", suffix=".zip", dir=dest_dir)
    except OSError as exc:
        raise BackupError(f"cannot write into the backups folder {dest_dir} ({exc.strerror})") from None
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb", buffering=OUT_BUFFER) as raw:
            zs = ZipStream(raw)
            entries = _Packer(zs, instance, total, progress).run(files)
            info = BackupInfo(
                name=safe_name(name),
                created_at=now.isoformat(),
                tool_version=__version__,
                product=identity.product,
                product_version=identity.version,
                instance_id=identity.hub_id,
                hostname=identity.hostname,
                files=tuple(entries),
                kind=kind,
                components=dict(Counter(e.component for e in entries)),
            )
            _write_metadata(zs, info)
            zs.close()
            os.fsync(raw.fileno())
        final = _link_unique(tmp, dest_dir, name, now)
        fsync_path(dest_dir)
    except BaseException as exc:
        tmp.unlink(missing_ok=True)
        if isinstance(exc, OSError):
            raise BackupError(_os_reason(exc, dest_dir, total)) from None
        raise
    tmp.unlink(missing_ok=True)
    progress(total, total, "done")
    return BackupResult(final, info, final.stat().st_size)


def remove_stale_partials(dest_dir: Path, *, now: float | None = None) -> list[str]:
    """Remove the partial archives of backups that died; return their names.

    A backup killed while writing (SIGKILL, power cut, a safety archive cut
    short with its restore) leaves its ``.partial-<pid>-*.zip``. One whose
    process is gone, or that is older than a day (its pid may have been
    reused), is removed; one whose process is alive may be another backup
    writing right now (another instance sharing the folder), and is kept.
    Partial archives named the older way (no pid) are removed after a day.
    Only regular files are touched; errors are ignored (the next backup
    tries again). The caller holds the instance lock.
    """
    now = time.time() if now is None else now
    removed = []
    try:
        names = [n for n in os.listdir(dest_dir) if n.startswith(PARTIAL_PREFIX) and n.endswith(".zip")]
    except OSError:
        return removed
    for name in names:
        match = _PARTIAL_PID.match(name)
        path = dest_dir / name
        try:
            st = os.lstat(path)
            if not stat.S_ISREG(st.st_mode):
                continue
            old = now - st.st_mtime > STALE_PARTIAL_SECONDS
            if old or (match is not None and not _alive(int(match.group(1)))):
                os.unlink(path)
                removed.append(name)
        except OSError:
            continue
    return removed


def _alive(pid: int) -> bool:
    """Whether a process with this pid exists (this one counts as alive)."""
    if pid == os.getpid():
        return True
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process
    except OSError:
        return True  # cannot tell: keep its file
    return True


def _check_restorable(files: list[ConfigFile], budgets: Budgets) -> None:
    """Refuse, before anything is written, a configuration whose backup the restore would refuse.

    The same rules as archive/validate.py, from the same place: every path
    passes the grammar of archive/paths.py, no two paths are the same once
    case and Unicode normalisation are ignored, no file is also (so
    ignoring) the folder of another, and the counts and sizes stay within
    the budgets ([limits]) the restore enforces. A backup that cannot be
    restored is worse than none: it is found out on the day it is needed.
    """
    problems: list[str] = []
    folded: dict[str, str] = {}
    for cf in files:
        try:
            cf.path.encode("utf-8")
        except UnicodeEncodeError:
            problems.append(f"{show(cf.path.encode('utf-8', 'replace').decode())} has a name that is not valid UTF-8")
            continue
        problem = config_path_problem(cf.path)
        if problem:
            problems.append(f"{show(cf.path)} {problem}")
            continue
        key = fold(cf.path)
        if key in folded:
            problems.append(
                f"{show(folded[key])} and {show(cf.path)} differ only in upper and lower case or in accents"
            )
            continue
        folded[key] = cf.path
    if not problems:
        for cf in files:
            parts = cf.path.split("/")
            for i in range(1, len(parts)):
                folder = folded.get(fold("/".join(parts[:i])))
                if folder is not None:
                    problems.append(
                        f"{show(folder)} is a file, and a folder of the same name (ignoring case) holds {show(cf.path)}"
                    )
                    break
    if problems:
        shown = "; ".join(problems[:5]) + (f"; and {len(problems) - 5} more" if len(problems) > 5 else "")
        raise UnrestorableError(
            f"the configuration holds names a restore would refuse, so no backup was made: {shown}. "
            "Rename each, or add it to [instance] exclude in the settings."
        )
    total = sum(cf.size for cf in files)
    largest = max(files, key=lambda cf: cf.size, default=None)
    limit = None
    if len(files) > budgets.max_entries:
        limit = f"it has {len(files)} files, and a restore accepts at most {budgets.max_entries}"
    elif largest is not None and largest.size > budgets.max_file_bytes:
        limit = (f"{show(largest.path)} is {_mib(largest.size)}, and a restore accepts files of at most "
                 f"{_mib(budgets.max_file_bytes)}")
    elif total > budgets.max_total_bytes:
        limit = f"it holds {_mib(total)}, and a restore accepts at most {_mib(budgets.max_total_bytes)}"
    if limit:
        raise UnrestorableError(
            f"the configuration is larger than a restore accepts, so no backup was made: {limit} ([limits] in "
            "the settings). Add what is not configuration (logs, databases, caches) to [instance] exclude, "
            "or raise the limit on every unit that restores it."
        )


def _check_identity(identity: Identity) -> None:
    """Refuse identity text (from instance.json) that backup.json may not hold: a restore would refuse it."""
    for key in ("product", "version", "hub_id", "hostname"):
        problem = text_problem(getattr(identity, key))
        if problem:
            raise UnrestorableError(
                f"the {key} in instance.json {problem}, which a backup may not hold, so no backup was made; "
                "correct instance.json"
            )


def _mib(n: int) -> str:
    return f"{n / (1024 * 1024):.0f} MiB" if n >= 1024 * 1024 else f"{n} bytes"


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


class _Packer:
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
        self.pending: deque[tuple[str, Any, int]] = deque()  # (what, its value, bytes read for it)
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

    def _push(self, tag: str, value: Any, nbytes: int) -> None:
        self.pending.append((tag, value, nbytes))
        self.in_flight += nbytes
        self._write()

    def _submit_batch(self, batch: list[ConfigFile], nbytes: int) -> None:
        if batch:
            self._push("files", self.pool.submit(_pack_files, self.root, batch), nbytes)

    def _large(self, cf: ConfigFile) -> None:
        """Frame one large member; read and hash it here, compress its chunks on the workers."""
        fd = _open_checked(self.root, cf)
        try:
            method = DEFLATED if any(choose(s) != STORE for s in _samples(fd, cf.size)) else STORED
            self._push("begin", (cf, method), 0)
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
                    self._push("data", chunk, len(chunk))
                else:
                    job = self.pool.submit(deflate_chunk, chunk, window=window, last=read >= cf.size)
                    self._push("data", job, len(chunk))
                    window = chunk[-WINDOW:]
            after = os.fstat(fd)
        finally:
            os.close(fd)
        if read != cf.size or (after.st_size, after.st_mtime_ns) != (cf.size, cf.mtime_ns):
            raise _changed(cf)
        self._push("end", (cf, crc, sha.hexdigest()), 0)

    # --- writing, in order ----------------------------------------------------

    def _write(self, *, everything: bool = False) -> None:
        """Write what was handed over, oldest first, until at most IN_FLIGHT bytes wait (or none)."""
        while self.pending and (everything or self.in_flight > IN_FLIGHT):
            tag, value, nbytes = self.pending.popleft()
            self.in_flight -= nbytes
            if tag == "files":
                for p in value.result():
                    self.progress(self.done, self.total, p.cf.path)
                    self.zs.add(CONFIG_PREFIX + p.cf.path, p.data, method=p.method, crc=p.crc, size=p.cf.size,
                                mode=p.cf.mode, mtime_ns=p.cf.mtime_ns)
                    self._record(p.cf, p.sha256)
            elif tag == "begin":
                cf, method = value
                self.progress(self.done, self.total, cf.path)
                self.zs.begin(CONFIG_PREFIX + cf.path, method=method, size=cf.size, mode=cf.mode,
                              mtime_ns=cf.mtime_ns)
                self.large_done = 0
                self.large_path = cf.path
            elif tag == "data":
                self.zs.write(value if isinstance(value, bytes) else value.result())
                self.large_done += nbytes
                self.progress(self.done + self.large_done, self.total, self.large_path)
            else:  # "end"
                cf, crc, sha = value
                self.zs.end(crc=crc, size=cf.size)
                self._record(cf, sha)

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


def _write_metadata(zs: ZipStream, info: BackupInfo) -> None:
    """``backup.json``, compressed as it is encoded: never whole in memory."""
    c = zlib.compressobj(LEVEL, zlib.DEFLATED, -15)
    crc = size = 0
    zs.begin(METADATA_NAME, method=DEFLATED, size=0, mode=0o600, mtime_ns=int(info.created.timestamp()) * 10**9)
    for piece in _metadata_pieces(info):
        data = piece.encode()
        crc = zlib.crc32(data, crc)
        size += len(data)
        zs.write(c.compress(data))
    zs.write(c.flush())
    zs.end(crc=crc, size=size)


def _metadata_pieces(info: BackupInfo, per_piece: int = 500) -> Iterator[str]:
    """The text of ``backup.json`` in pieces: indented, with one line per file.

    Encoding 50,000 file entries with ``indent`` takes json's pure-Python
    encoder a quarter of a second, and building the whole document first
    holds every entry twice more; one line each, a few hundred at a time,
    takes its C encoder a tenth of that, and stays readable with ``unzip -p``.
    """
    head = replace(info, files=()).to_json()  # everything but the files...
    head["totals"] = {"files": len(info.files), "bytes": info.total_bytes}  # ...which the totals count
    del head["files"]
    text = json.dumps(head, indent=1, ensure_ascii=False)
    if not info.files:
        yield f'{text[:-2]},\n "files": []\n}}\n'
        return
    yield f'{text[:-2]},\n "files": [\n  '
    encode = json.JSONEncoder(ensure_ascii=False).encode
    for at in range(0, len(info.files), per_piece):
        lines = ",\n  ".join(encode(f.to_json()) for f in info.files[at : at + per_piece])
        yield lines if at == 0 else ",\n  " + lines
    yield "\n ]\n}\n"


def _link_unique(tmp: Path, dest_dir: Path, name: str, when: datetime) -> Path:
    """Give the archive its final name; never overwrite another backup."""
    for serial in range(1, 1000):
        final = dest_dir / backup_file_name(name, when, serial)
        try:
            os.link(tmp, final)
            return final
        except FileExistsError:
            continue
        except OSError as exc:
            if exc.errno not in (errno.EPERM, errno.EOPNOTSUPP):
                raise
            # A filesystem without hard links: check, then rename.
            if final.exists():
                continue
            os.rename(tmp, final)
            return final
    raise BackupError(f"too many backups named {name!r} in the same second; wait a second and try again")


def _os_reason(exc: OSError, dest_dir: Path, total: int) -> str:
    if exc.errno == errno.ENOSPC:
        try:
            st = os.statvfs(dest_dir)
            free = f", has {_mib(st.f_bavail * st.f_frsize)} free"
        except OSError:
            free = ""
        return (f"not enough space in the backups folder {dest_dir} (needs about {_mib(total)} at most{free}); "
                "delete old backups or choose another folder, and try again; no archive was left behind")
    if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return f"cannot write into the backups folder {dest_dir} ({exc.strerror})"
    return f"the backup could not be written ({exc.strerror or exc}); no archive was left behind"
