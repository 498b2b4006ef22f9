"""Making what was written survive a power cut: one helper for every module."""

from __future__ import annotations

import os
from pathlib import Path


def fsync_path(path: Path, *, best_effort: bool = False) -> None:
    """fsync a file or a folder (a folder: its entries, so renames and creations last).

    ``best_effort`` ignores failures, for media such as a vfat USB stick whose
    driver refuses fsync on a folder.
    """
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    except OSError:
        if best_effort:
            return
        raise
    try:
        os.fsync(fd)
    except OSError:
        if not best_effort:
            raise
    finally:
        os.close(fd)
