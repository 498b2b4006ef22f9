"""Write a backup archive: streaming, atomic, mode 0600."""

from __future__ import annotations

import errno
import hashlib
import json
import os
import stat
import tempfile
import time
import zipfile
import zlib
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from .. import __version__
from ..errors import BackupError
from ..instance import ConfigFile, Instance
from ..lock import instance_lock
from ..progress import Progress, no_progress
from ..settings import Settings
from .format import CONFIG_PREFIX, METADATA_NAME, BackupInfo, FileEntry
from .names import backup_file_name, safe_name

CHUNK = 1024 * 1024
SAMPLE = 64 * 1024
LEVEL = 6


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

    The archive is written to a temporary file beside its final place,
    fsync'ed and linked into place without overwriting anything, so no
    partial archive ever carries a backup's name.
    """
    now = (now or datetime.now(UTC)).astimezone(UTC).replace(microsecond=0)
    files = instance.scan()
    identity = instance.identity()
    total = sum(f.size for f in files)
    try:
        dest_dir.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(prefix=".partial-", suffix=".zip", dir=dest_dir)
    except OSError as exc:
        raise BackupError(f"cannot write into the backups folder {dest_dir} ({exc.strerror})") from None
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as raw, zipfile.ZipFile(raw, "w", allowZip64=True) as zf:
            entries = _write_files(zf, instance, files, total, progress)
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
            _write_metadata(zf, info)
        _fsync_path(tmp)
        final = _link_unique(tmp, dest_dir, name, now)
        _fsync_path(dest_dir)
    except BaseException as exc:
        tmp.unlink(missing_ok=True)
        if isinstance(exc, OSError):
            raise BackupError(_os_reason(exc, dest_dir)) from None
        raise
    tmp.unlink(missing_ok=True)
    progress(total, total, "done")
    return BackupResult(final, info, final.stat().st_size)


def _write_files(
    zf: zipfile.ZipFile, instance: Instance, files: list[ConfigFile], total: int, progress: Progress
) -> list[FileEntry]:
    entries: list[FileEntry] = []
    done = 0
    for cf in files:
        progress(done, total, cf.path)
        sha = _add_member(zf, instance.root, cf)
        entries.append(FileEntry(cf.path, cf.size, sha, cf.mode, instance.component_of(cf.path)))
        done += cf.size
    return entries


def _add_member(zf: zipfile.ZipFile, root: Path, cf: ConfigFile) -> str:
    """Stream one file into the archive; return its SHA-256.

    Opened without following links, and checked against what the scan saw
    before and after reading, so a file that changes under the backup is
    reported instead of being archived half-old, half-new.
    """
    path = root / cf.path
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise BackupError(f"{cf.path} became a symbolic link during the backup; try again") from None
        raise BackupError(f"{cf.path} cannot be read ({exc.strerror}); fix its permissions or exclude it") from None
    with os.fdopen(fd, "rb", buffering=0) as fh:
        before = os.fstat(fd)
        if not stat.S_ISREG(before.st_mode):
            raise BackupError(f"{cf.path} is no longer a regular file; try again")
        first = fh.read(SAMPLE)
        zinfo = zipfile.ZipInfo(CONFIG_PREFIX + cf.path, _zip_time(cf.mtime_ns))
        zinfo.external_attr = (stat.S_IFREG | cf.mode) << 16
        zinfo.file_size = before.st_size
        zinfo.compress_type = zipfile.ZIP_DEFLATED if _worth_deflating(first) else zipfile.ZIP_STORED
        if zinfo.compress_type == zipfile.ZIP_DEFLATED:
            zinfo._compresslevel = LEVEL  # type: ignore[attr-defined]  # per-member level (stdlib has no public setter before 3.13)
        digest = hashlib.sha256()
        read = 0
        with zf.open(zinfo, "w", force_zip64=before.st_size > 0x7FFF0000) as out:
            chunk = first
            while chunk:
                digest.update(chunk)
                out.write(chunk)
                read += len(chunk)
                chunk = fh.read(CHUNK)
        after = os.fstat(fd)
    if read != cf.size or (after.st_size, after.st_mtime_ns) != (cf.size, cf.mtime_ns):
        raise BackupError(
            f"{cf.path} changed while it was being backed up; "
            "try again when the instance is idle (stop the service that writes it if it keeps changing)"
        )
    return digest.hexdigest()


def _worth_deflating(sample: bytes) -> bool:
    """Deflate only what shrinks: random or already-compressed data costs CPU and gains nothing."""
    if len(sample) < 256:
        return True
    return len(zlib.compress(sample, 1)) < 0.9 * len(sample)


def _write_metadata(zf: zipfile.ZipFile, info: BackupInfo) -> None:
    zinfo = zipfile.ZipInfo(METADATA_NAME, info.created.timetuple()[:6])
    zinfo.external_attr = (stat.S_IFREG | 0o600) << 16
    zinfo.compress_type = zipfile.ZIP_DEFLATED
    zf.writestr(zinfo, json.dumps(info.to_json(), indent=1, ensure_ascii=False) + "\n")


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


def _fsync_path(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _zip_time(mtime_ns: int) -> tuple[int, int, int, int, int, int]:
    t = time.gmtime(mtime_ns // 1_000_000_000)
    return (max(t.tm_year, 1980), t.tm_mon, t.tm_mday, t.tm_hour, t.tm_min, t.tm_sec)


def _os_reason(exc: OSError, dest_dir: Path) -> str:
    if exc.errno == errno.ENOSPC:
        return f"the backups folder {dest_dir} is full; free some space (delete old backups) and try again"
    if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return f"cannot write into the backups folder {dest_dir} ({exc.strerror})"
    return f"the backup could not be written ({exc.strerror or exc}); no archive was left behind"
