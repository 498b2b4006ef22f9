"""Whole-tree snapshots for byte-for-byte comparisons (shared by the test modules)."""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Any


def snapshot(top: Path, skip: Path | None = None, owners: bool = False) -> dict[str, Any]:
    """Every file (bytes, mode[, uid]), folder (mode) and link under ``top``, except ``skip``."""
    out: dict[str, Any] = {}
    for dirpath, dirs, names in os.walk(top):
        if skip is not None:
            dirs[:] = [d for d in dirs if Path(dirpath) / d != skip]
        for name in dirs + names:
            p = Path(dirpath) / name
            if p == skip:
                continue
            st = p.lstat()
            rel = p.relative_to(top).as_posix()
            if stat.S_ISLNK(st.st_mode):
                out[rel] = ("link", os.readlink(p))
            elif stat.S_ISDIR(st.st_mode):
                out[rel] = ("dir", stat.S_IMODE(st.st_mode))
            else:
                entry = ("file", p.read_bytes(), stat.S_IMODE(st.st_mode))
                out[rel] = (*entry, st.st_uid) if owners else entry
    return out


def file_bytes(root: Path) -> dict[str, bytes]:
    """Every regular file under ``root``, by relative path: contents only."""
    out = {}
    for dirpath, _dirs, names in os.walk(root):
        for name in names:
            p = Path(dirpath) / name
            out[p.relative_to(root).as_posix()] = p.read_bytes()
    return out
