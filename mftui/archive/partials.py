"""Partial files: what a backup, a safety archive or an opened payload is written to before it has a name.

``.partial-<pid>-<random>.zip`` in the backups folder (the writer's process
id first), never under a backup's name. One whose process is gone, or older
than a day, is removed by the next backup (:func:`remove_stale_partials`).
"""

from __future__ import annotations

import os
import re
import stat
import time
from pathlib import Path

PARTIAL_PREFIX = ".partial-"
_PARTIAL_PID = re.compile(r"\.partial-(\d+)-[A-Za-z0-9_]+\.zip\Z")
STALE_PARTIAL_SECONDS = 24 * 3600  # a partial archive this old is stale whatever its pid says


def partial_prefix() -> str:
    """The start of this process's partial files' names (tempfile adds the random part)."""
    return f"{PARTIAL_PREFIX}{os.getpid()}-"


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
    removed: list[str] = []
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
            if old or (match is not None and not process_alive(int(match.group(1)))):
                os.unlink(path)
                removed.append(name)
        except OSError:
            continue
    return removed


def process_alive(pid: int) -> bool:
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
