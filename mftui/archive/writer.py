"""Write a backup archive: on every core, streaming, atomic, mode 0600.

Files are read, hashed and compressed on a thread per core (packer.py and
compress.py) and laid out by a small zip writer (zipstream.py) in scan
order, so the archive is the same whatever the thread timing, and memory is
bounded by the bytes read ahead, not by the size of the instance.
"""

from __future__ import annotations

import errno
import json
import os
import tempfile
import zlib
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .. import __version__
from ..durable import fsync_path
from ..errors import BackupError, MftuiError, UnrestorableError
from ..instance import MAX_IDENTITY_BYTES, ConfigFile, Identity, Instance
from ..lock import instance_lock
from ..progress import Progress, no_progress
from ..settings import Budgets, Settings
from ..text import show, text_problem
from .compress import LEVEL
from .format import METADATA_NAME, BackupInfo
from .names import backup_file_name, safe_name
from .packer import Packer
from .partials import partial_prefix, remove_stale_partials
from .paths import NameSet, config_path_problem
from .protector import Protector
from .zipstream import DEFLATED, ZipStream

if TYPE_CHECKING:
    from .protect_writer import ContainerWriter

OUT_BUFFER = 1024 * 1024



@dataclass(frozen=True)
class BackupResult:
    """A backup that exists on disk, complete.

    ``made`` False (only with ``if_changed``): no archive was made, because
    the configuration is the newest backup's, which ``path`` and ``info`` are;
    ``reason`` says so. ``pruned``: what [retention] removed after it
    (history.retention.PruneResult, None when no rule is set); ``notes``:
    sentences for the person (the audit log not written, a prune that failed).
    """

    path: Path
    info: BackupInfo
    archive_bytes: int
    made: bool = True
    reason: str = ""
    pruned: Any = None
    notes: tuple[str, ...] = ()
    sha256: str = ""  # the archive file's SHA-256 (what the audit log and --json give), once it is known


def create_backup(
    settings: Settings,
    name: str = "",
    *,
    progress: Progress = no_progress,
    now: datetime | None = None,
    protect: Protector | None = None,
    kind: str = "manual",
    if_changed: bool = False,
) -> BackupResult:
    """Back up the instance's whole configuration into one new archive, log it, and apply [retention].

    ``protect``: how it is encrypted and signed; None: as ``[protection]``
    says (KeyProblem when that needs a passphrase and none is set: a caller
    that asks for one passes its Protector; ``Protector()`` makes it plain).
    ``kind``: "manual" or "scheduled". ``if_changed``: make none when the
    configuration is byte for byte the newest backup's (the result's ``made`` is False).
    """
    from ..history.audit import record
    from ..history.scheduled import after_backup, unchanged_backup

    if protect is None and (settings.protection.encrypt != "off" or settings.protection.sign_key is not None):
        from ..protection import protector_for

        protect = protector_for(settings)
    with instance_lock(settings, "backup"):
        note = ""
        if if_changed:
            same, note = unchanged_backup(settings)
            if same is not None:
                record(settings, "backup", "unchanged", archive=same.path, detail=same.reason)
                return same
        try:
            result = write_backup(Instance(settings), settings.backups_dir, name, kind=kind, progress=progress,
                                  now=now, protect=protect)
        except MftuiError as exc:
            record(settings, "backup", "failed", detail=str(exc))
            raise
        return after_backup(settings, result, note)


def write_backup(
    instance: Instance,
    dest_dir: Path,
    name: str,
    *,
    kind: str = "manual",
    progress: Progress = no_progress,
    now: datetime | None = None,
    protect: Protector | None = None,
) -> BackupResult:
    """Write the archive (the caller holds the instance lock).

    The archive is written to a temporary file beside its final place
    (``.partial-<pid>-<random>.zip``), fsync'ed and linked into place without
    overwriting anything, so no partial archive ever carries a backup's name.
    Partial archives that a killed backup left behind are removed first (see
    :func:`remove_stale_partials`). With ``protect`` (encryption or a
    signing key), the plain archive goes into a protected one as it is laid
    out (protect_writer.py: format version 2), never into a file of its own;
    the protected one is read back with its key before it is given its name.
    """
    now = (now or datetime.now(UTC)).astimezone(UTC).replace(microsecond=0)
    protect = protect if protect is not None and protect.active else None
    header = None
    if protect is not None:
        from .protect_writer import start_header

        header = start_header(protect)  # a passphrase's scrypt, on another core while the files are read
    files = instance.scan()
    if not files:
        source = instance.settings.source or "the settings"
        raise BackupError(f"no configuration file was found in {instance.root}: check [instance] include and "
                          f"exclude (and root) in {source}; no backup was made")
    _check_restorable(files, instance.settings.budgets)
    identity = instance.identity()
    _check_identity(identity, files)
    total = sum(f.size for f in files)
    container: ContainerWriter | None = None
    try:
        dest_dir.mkdir(parents=True, exist_ok=True)
        remove_stale_partials(dest_dir)
        if protect is None:
            fd, tmp_name = tempfile.mkstemp(prefix=partial_prefix(), suffix=".zip", dir=dest_dir)
            tmp = Path(tmp_name)
        else:
            from .protect_writer import ContainerWriter

            container = ContainerWriter(dest_dir, protect, header, mtime_ns=int(now.timestamp()) * 10**9,
                                        prefix=partial_prefix())
            tmp = container.path
    except OSError as exc:
        raise BackupError(f"cannot write into the backups folder {dest_dir} ({exc.strerror})") from None
    facts = _Facts(name, kind, now, identity)
    try:
        if container is None:
            with os.fdopen(fd, "wb", buffering=OUT_BUFFER) as raw:
                info = _lay_out(ZipStream(raw), instance, files, total, facts, progress)
                os.fsync(raw.fileno())
        else:
            info = _lay_out_protected(container, dest_dir, instance, files, total, facts, progress)
        final = _link_unique(tmp, dest_dir, name, now)
        fsync_path(dest_dir)
    except BaseException as exc:
        tmp.unlink(missing_ok=True)
        if container is not None:
            container.discard()
        if isinstance(exc, OSError):
            raise BackupError(_os_reason(exc, dest_dir, total)) from None
        raise
    tmp.unlink(missing_ok=True)
    progress(total, total, "done")
    return BackupResult(final, info, final.stat().st_size)


@dataclass(frozen=True)
class _Facts:
    """What backup.json says besides the files: the name given, the kind, the time, the unit."""

    name: str
    kind: str
    now: datetime
    identity: Identity


def _lay_out(zs: ZipStream, instance: Instance, files: list[ConfigFile], total: int, facts: _Facts,
             progress: Progress) -> BackupInfo:
    """The plain archive: every file (packer.py), then backup.json, then the directory; its information."""
    entries = Packer(zs, instance, total, progress).run(files)
    identity = facts.identity
    info = BackupInfo(
        name=safe_name(facts.name),
        created_at=facts.now.isoformat(),
        tool_version=__version__,
        product=identity.product,
        product_version=identity.version,
        instance_id=identity.hub_id,
        hostname=identity.hostname,
        files=tuple(entries),
        kind=facts.kind,
        components=dict(Counter(e.component for e in entries)),
    )
    _write_metadata(zs, info)
    zs.close()
    return info


def _lay_out_protected(container: ContainerWriter, dest_dir: Path, instance: Instance, files: list[ConfigFile],
                       total: int, facts: _Facts, progress: Progress) -> BackupInfo:
    """The plain archive laid out into the container as it is written (protect_writer.PlainFollower), never
    into a file of its own; the container finished and proven."""
    from .protect_writer import PlainFollower

    follower = PlainFollower(container, dest_dir)
    try:
        zs = ZipStream(follower)
        zs.settled = follower.settled
        info = _lay_out(zs, instance, files, total, facts, progress)
        follower.finish()
    finally:
        follower.close()
    container.finish(info)
    return info


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
    names = NameSet()
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
        clash = names.add(cf.path)
        if clash:
            problems.append(clash)
    if not problems:
        problems.extend(names.folder_clashes())
    if problems:
        shown = "; ".join(problems[:5]) + (f"; and {len(problems) - 5} more" if len(problems) > 5 else "")
        raise UnrestorableError(
            f"the configuration holds names a restore would refuse, so no backup was made: {shown}. "
            "Rename each, or add it to [instance] exclude in the settings."
        )
    _check_budgets(files, budgets)


def _check_budgets(files: list[ConfigFile], budgets: Budgets) -> None:
    """The counts and sizes a restore accepts ([limits])."""
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


def _check_identity(identity: Identity, files: list[ConfigFile]) -> None:
    """Refuse an identity (instance.json) that a restore would refuse: text backup.json may not hold, or an
    instance.json too large for a restore to compare with backup.json's identity."""
    large = next((cf for cf in files if cf.path == "instance.json" and cf.size > MAX_IDENTITY_BYTES), None)
    if large is not None:
        raise UnrestorableError(
            f"instance.json is {large.size:,} bytes, more than the {MAX_IDENTITY_BYTES:,} a restore reads, so no "
            "backup was made; make it smaller"
        )
    for key in ("product", "version", "hub_id", "hostname"):
        problem = text_problem(getattr(identity, key))
        if problem:
            raise UnrestorableError(
                f"the {key} in instance.json {problem}, which a backup may not hold, so no backup was made; "
                "correct instance.json"
            )


def _mib(n: int) -> str:
    return f"{n / (1024 * 1024):.0f} MiB" if n >= 1024 * 1024 else f"{n} bytes"


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
