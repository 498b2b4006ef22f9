"""A restore's memory grows as little as practical with the number of files.

The restore holds, per file, one zip member and one manifest entry (named
tuples), and parses backup.json once; it no longer keeps the central records,
a dict of the manifest and a dict of the members side by side. Measured with
tracemalloc on the Python heap (what grows with the files), not on RSS (which
the interpreter's own start-up dominates and the machine makes noisy).
"""

from __future__ import annotations

import json
import random
import tracemalloc
from collections.abc import Callable
from pathlib import Path

from hostile import make_backup

from mftui.archive.format import _quick_entry, loads_compact
from mftui.archive.validate import open_archive

FILES = 4000
# Bytes of Python heap per file at the peak of open_archive. Before the
# compaction it was about 1,840 on this archive; now about 1,100 (the
# members, backup.json's text, and the entries built as it is parsed).
PEAK_PER_FILE = 1300
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


def _normalised(value: object) -> object:
    """json.loads's result with the top-level files list built as loads_compact builds it."""
    if isinstance(value, dict) and isinstance(value.get("files"), list):
        components: dict[str, str] = {}
        built = [_quick_entry(item, components) for item in value["files"]]
        value = {**value, "files": [item if entry is None else entry
                                    for item, entry in zip(value["files"], built, strict=True)]}
    return value


def _outcome(load: Callable[[str], object], text: str) -> object:
    try:
        return ("ok", _normalised(load(text)))
    except ValueError:
        return ("error",)


def test_loads_compact_agrees_with_json_loads() -> None:
    """On valid documents, broken ones and odd spacing, the same result (or the same refusal) as json.loads."""
    rnd = random.Random(7)
    entry = {"path": "hub/a.json", "size": 3, "sha256": "a" * 64, "mode": "0640", "component": "hub"}
    docs = [
        {"format": "mftui-backup", "files": [entry, {**entry, "path": "b"}], "totals": {"files": 2}},
        {"files": [entry, "not an object", {**entry, "mode": "4755"}, {**entry, "size": True}, 1.5, None]},
        {"files": [], "name": "x"},
        {"files": {"not": "a list"}},
        {"a": [1, {"files": [entry]}], "files": [entry], "b": "files"},
        {"files": [entry], "files2": [entry]},
        {},
    ]
    texts = []
    for doc in docs:
        texts += [json.dumps(doc), json.dumps(doc, indent=1), json.dumps(doc, separators=(",", ":")),
                  json.dumps(doc, indent="\t")]
    texts += ['{"files": [1,]}', '{"files": [1] ', '{"files": [1]} x', '{"files": [1]}}', '{"files" [1]}',
              '{files: [1]}', '{"files": [1], }', '\ufeff{"files": []}', '{"files": [NaN, Infinity]}',
              '{"files": [] , "files": [{"path": "x"}]}', " \t\r\n{} \n", "[]", '"files"', "", "{",
              '{"files": [{"path": "a", "size": 1, "sha256": "' + "0" * 64 + '"},]}']
    for text in list(texts):
        for _ in range(40):
            cut = rnd.randrange(len(text) + 1) if text else 0
            texts.append(text[:cut] + rnd.choice(['"', ",", "]", "}", " ", "[", "{", ":", "x", ""]) + text[cut + 1 :])
    for text in texts:
        assert _outcome(loads_compact, text) == _outcome(json.loads, text), repr(text)
