"""Restore scope: *replace* (everything from the backup) or *clone* (keep this unit's identity).

Clone keeps the live files the ``[instance] identity`` globs name (network,
hostname in ``instance.json``, licence, keys, the hub's pre-shared key) and
takes everything else from the backup. Either way one complete tree is staged
and swapped atomically: in clone mode the staged tree is the backup's files
minus its identity files, plus copies of the live identity files, each
checked against the SHA-256 read when the restore was planned.

The default: replace for a backup of this unit, clone for another unit's
(another hub id).
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
import stat
from pathlib import Path

from ..archive.format import BackupInfo, FileEntry
from ..errors import RestoreError
from ..instance import Instance
from ..settings import Settings
from ..text import show_path
from .changes import CHUNK, live_files

REPLACE, CLONE = "replace", "clone"
SCOPES = (REPLACE, CLONE)


def default_scope(settings: Settings, info: BackupInfo) -> str:
    """Replace for a backup of this unit; clone for a backup of another unit (another hub id)."""
    live = Instance(settings).identity().hub_id.strip().lower()
    theirs = info.instance_id.strip().lower()
    return CLONE if theirs and theirs != live else REPLACE


def describe_scope(scope: str) -> str:
    """The mode in words, for a confirmation."""
    if scope == CLONE:
        return "clone: keeps this unit's identity (network, hostname, licence, keys), takes the rest"
    return "replace: everything from the backup, identity included"


def scoped_info(settings: Settings, info: BackupInfo, scope: str) -> BackupInfo:
    """The manifest of the tree a restore in ``scope`` stages: for clone, live identity files instead of the
    backup's (each hashed now; staging checks its copy against it)."""
    if scope == REPLACE:
        return info
    instance = Instance(settings)
    root = settings.instance_root
    kept = [f for f in info.files if not instance.is_identity(f.path)]
    for rel, lf in sorted(live_files(instance, root).items()):
        if not instance.is_identity(rel) or not lf.regular:
            continue
        digest, size = _hash(root / rel)
        kept.append(FileEntry(rel, size, digest, lf.mode, instance.component_of(rel)))
    kept.sort(key=lambda f: f.path)
    return dataclasses.replace(info, files=tuple(kept))


def keep_identity(settings: Settings, staging: Path, scoped: BackupInfo) -> None:
    """Make ``staging`` hold this unit's identity files instead of the backup's (clone mode)."""
    instance = Instance(settings)
    root = settings.instance_root
    for rel, _lf in live_files(instance, staging).items():
        if instance.is_identity(rel):
            os.unlink(staging / rel)
    for entry in scoped.files:
        if instance.is_identity(entry.path):
            _copy_checked(root, staging, entry)


def _copy_checked(root: Path, staging: Path, entry: FileEntry) -> None:
    rel = entry.path
    _make_folders(root, staging, os.path.dirname(rel))
    src = os.open(root / rel, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
    try:
        if not stat.S_ISREG(os.fstat(src).st_mode):
            raise _changed(rel)
        dst = os.open(staging / rel, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
        digest = hashlib.sha256()
        size = 0
        try:
            while chunk := os.read(src, CHUNK):
                digest.update(chunk)
                size += len(chunk)
                os.write(dst, chunk)
            st = os.fstat(src)
            if os.geteuid() == 0:
                os.fchown(dst, st.st_uid, st.st_gid)
            os.fchmod(dst, entry.mode)
        finally:
            os.close(dst)
    finally:
        os.close(src)
    if digest.hexdigest() != entry.sha256 or size != entry.size:
        raise _changed(rel)


def _make_folders(root: Path, staging: Path, rel: str) -> None:
    if not rel or os.path.isdir(staging / rel):
        return
    _make_folders(root, staging, os.path.dirname(rel))
    st = os.stat(root / rel, follow_symlinks=False)
    os.mkdir(staging / rel, 0o700)
    if os.geteuid() == 0:
        os.chown(staging / rel, st.st_uid, st.st_gid, follow_symlinks=False)
    os.chmod(staging / rel, stat.S_IMODE(st.st_mode) & 0o777)


def _hash(path: Path) -> tuple[str, int]:
    digest = hashlib.sha256()
    size = 0
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
    try:
        while chunk := os.read(fd, CHUNK):
            digest.update(chunk)
            size += len(chunk)
    finally:
        os.close(fd)
    return digest.hexdigest(), size


def _changed(rel: str) -> RestoreError:
    return RestoreError(f"this unit's identity file {show_path(rel)} changed while the restore was copying it; "
                        "nothing was changed. Restore again")
