"""SHA-256 of a file: the one way mftui hashes a file on disk (a restore's comparison, a copy's proof)."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

CHUNK = 1024 * 1024


def sha256_of(path: Path) -> str | None:
    """SHA-256 of a regular file, read in chunks, never through a link; None when it cannot be read."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
    except OSError:
        return None
    digest = hashlib.sha256()
    try:
        while chunk := os.read(fd, CHUNK):
            digest.update(chunk)
    except OSError:
        return None
    finally:
        os.close(fd)
    return digest.hexdigest()
