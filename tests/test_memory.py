"""A restore's memory grows as little as practical with the number of files.

The restore holds, per file, one zip member and one manifest entry (named
tuples), and parses backup.json once; it no longer keeps the central records,
a dict of the manifest and a dict of the members side by side. Measured with
tracemalloc on the Python heap (what grows with the files), not on RSS (which
the interpreter's own start-up dominates and the machine makes noisy).
"""

from __future__ import annotations

import tracemalloc
from pathlib import Path

from hostile import make_backup

from mftui.archive.validate import open_archive

FILES = 4000
# Bytes of Python heap per file at the peak of open_archive. Before the
# compaction it was about 1,840 on this archive; now about 1,290 (the
# members, the parsed backup.json, and its entries built from it).
PEAK_PER_FILE = 1500
KEPT_PER_FILE = 800


def test_open_archive_peak_memory_per_file(tmp_path: Path) -> None:
    files = {f"services/site-{i // 100:03d}/service-{i:05d}.json": (b'{"n": %d}' % i, 0o644) for i in range(FILES)}
    path = tmp_path / "many.zip"
    path.write_bytes(make_backup(files))
    tracemalloc.start()
    try:
        archive = open_archive(path)
        kept, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    with archive:
        assert len(archive.members) == FILES == len(archive.files)
        assert [m.path for m, _e in archive.entries()] == [e.path for e in archive.files]
    assert peak / FILES < PEAK_PER_FILE, f"{peak / FILES:.0f} bytes per file at the peak"
    assert kept / FILES < KEPT_PER_FILE, f"{kept / FILES:.0f} bytes per file kept"
