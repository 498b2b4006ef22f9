"""A restore's memory grows as little as practical with the number of files.

The restore holds, per file, one zip member and one manifest entry (named
tuples), and parses backup.json once; it no longer keeps the central records,
a dict of the manifest and a dict of the members side by side. Measured with
tracemalloc on the Python heap (what grows with the files), not on RSS (which
the interpreter's own start-up dominates and the machine makes noisy).
"""

from __future__ import annotations

import ast
import json
import random
import subprocess
import sys
import tracemalloc
from collections.abc import Callable
from pathlib import Path

import pytest
from hostile import layout, make_backup, padded_metadata, read_tree

from mftui.archive.format import FileEntry, quick_entry
from mftui.archive.metadata import _BROKEN, _KNOWN_KEYS, MetadataRefused, parse_metadata
from mftui.archive.validate import open_archive
from mftui.settings import Settings

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
    """json.loads's result as parse_metadata keeps it: known keys only, the files list built, broken
    entries after the first one as a placeholder."""
    if not isinstance(value, dict):
        raise ValueError("not an object")
    value = {k: v for k, v in value.items() if k in _KNOWN_KEYS}
    if isinstance(value.get("files"), list):
        components: dict[str, str] = {}
        out: list[object] = []
        broken = False
        for item in value["files"]:
            entry = item if isinstance(item, FileEntry) else quick_entry(item, components)
            if entry is None:
                out.append(_BROKEN if broken or item is _BROKEN else item)
                broken = True
            else:
                out.append(entry)
        value["files"] = out
    return value


def _outcome(load: Callable[[str], object], text: str) -> object:
    try:
        return ("ok", _normalised(load(text)))
    except ValueError:
        return ("error",)


def _parse(text: str) -> object:
    """parse_metadata over the UTF-8 bytes of ``text``, fed in pieces of a few bytes (windows are cut anywhere)."""
    data = text.encode("utf-8", "surrogatepass")
    return parse_metadata((data[i : i + 7] for i in range(0, len(data), 7)), 10_000)


def _json_loads(text: str) -> object:
    """json.loads, refusing a key given twice at the top (parse_metadata refuses it; json keeps the last)."""
    def pairs(items: list[tuple[str, object]]) -> dict[str, object]:
        return dict(items)

    value = json.loads(text)
    if isinstance(value, dict):
        top = json.loads(text, object_pairs_hook=lambda items: items)
        keys = [k for k, _v in top]
        if len(keys) != len(set(keys)):
            raise ValueError("a key twice")
    return value


def test_parse_metadata_agrees_with_json_loads() -> None:
    """On valid documents, broken ones and odd spacing, the same result (or a refusal) as json.loads."""
    rnd = random.Random(7)
    entry = {"path": "hub/a.json", "size": 3, "sha256": "a" * 64, "mode": "0640", "component": "hub"}
    docs = [
        {"format": "mftui-backup", "files": [entry, {**entry, "path": "b"}], "totals": {"files": 2}},
        {"files": [entry, "not an object", {**entry, "mode": "4755"}, {**entry, "size": True}, 1.5, None]},
        {"files": [], "name": "x"},
        {"files": {"not": "a list"}},
        {"a": [1, {"files": [entry]}], "files": [entry], "b": "files"},
        {"files": [entry], "files2": [entry]},
        {"name": "r\u00e9seau \u4e2d\U0001f600", "files": [{**entry, "path": "\u4e2d/\U00020000.json"}]},
        {},
    ]
    texts = []
    for doc in docs:
        texts += [json.dumps(doc), json.dumps(doc, indent=1), json.dumps(doc, separators=(",", ":")),
                  json.dumps(doc, indent="\t"), json.dumps(doc, ensure_ascii=False)]
    texts += ['{"files": [1,]}', '{"files": [1] ', '{"files": [1]} x', '{"files": [1]}}', '{"files" [1]}',
              '{files: [1]}', '{"files": [1], }', '\ufeff{"files": []}', '{"files": [NaN, Infinity]}',
              '{"files": [] , "files": [{"path": "x"}]}', '{"x": 1, "x": 2}', " \t\r\n{} \n", "[]", '"files"',
              "", "{", '{"files": [{"path": "a", "size": 1, "sha256": "' + "0" * 64 + '"},]}',
              '{"files": [12345' + " " * 70_000 + "]}", '{"name": "\\ud800"}']
    for text in list(texts):
        for _ in range(40):
            cut = rnd.randrange(len(text) + 1) if text else 0
            texts.append(text[:cut] + rnd.choice(['"', ",", "]", "}", " ", "[", "{", ":", "x", ""]) + text[cut + 1 :])
    for text in texts:
        assert _outcome(_parse, text) == _outcome(_json_loads, text), repr(text[:200])


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ('{"pad": [' + "{}," * 30_000 + "{}]}", "value longer than 64 KiB"),
        ('{"pad": "' + "x" * 70_000 + '"}', "value longer than 64 KiB"),
        ("{" + ", ".join(f'"k{i}": "{"x" * 1000}"' for i in range(70)) + "}", "outside the files list"),
        ('{"files": [' + ", ".join(["{}"] * 101) + "]}", "more than 100 entries"),
        ('{"files": [], "files": []}', "key 'files' twice"),
    ],
    ids=["objects", "string", "many-keys", "too-many-files", "key-twice"],
)
def test_parse_metadata_refuses_what_no_writer_writes(text: str, reason: str) -> None:
    with pytest.raises(MetadataRefused, match=reason):
        parse_metadata([text.encode()], 100)


# --- peak RSS of the real command line on hostile archives ------------------------------

RSS_LIMIT_MIB = 100  # peak RSS for any archive (issue 8)
# The child runs under this address-space limit, so that a regression fails the test
# without taking gigabytes from a shared machine.
AS_LIMIT = 1024 * 1024 * 1024

_MEASURE = """
import resource, subprocess, sys
def limit():
    resource.setrlimit(resource.RLIMIT_AS, ({limit}, {limit}))
done = subprocess.run(sys.argv[1:], preexec_fn=limit, capture_output=True, text=True)
sys.stdout.write(repr((done.returncode, done.stdout[-2000:], done.stderr[-2000:],
                       resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)))
"""


def peak_rss(*args: str) -> tuple[int, str, str, float]:
    """(exit code, stdout, stderr, peak RSS in MiB) of ``python -m mftui ARGS``, the only child of a fresh process.

    RUSAGE_CHILDREN of that process covers the one command alone (pytest's own children would blur it).
    """
    code = _MEASURE.format(limit=AS_LIMIT)
    out = subprocess.run([sys.executable, "-c", code, sys.executable, "-m", "mftui", *args],
                         capture_output=True, text=True, timeout=300, check=True).stdout
    rc, stdout, stderr, kib = ast.literal_eval(out)
    return rc, stdout, stderr, kib / 1024


@pytest.fixture
def demo_files(instance_root: Path) -> dict[str, tuple[bytes, int]]:
    return read_tree(instance_root)


@pytest.mark.parametrize(
    ("case", "element", "pad_bytes"),
    [
        ("empty-objects", b"{},", 60_000_000),  # the archive of the issue: 67 KB, 60 MB of {} in backup.json
        ("empty-lists", b"[],", 60_000_000),
        ("floats", b"1.5,", 60_000_000),
        ("nested", b'{"a": [{"b": [1.5, "xx"]}]},', 40_000_000),
    ],
)
def test_a_padded_backup_json_stays_within_the_memory_limit(
    tmp_path: Path, config_file: Path, settings: Settings, demo_files: dict[str, tuple[bytes, int]],
    case: str, element: bytes, pad_bytes: int,
) -> None:
    """inspect, verify and list of a small archive whose backup.json inflates to tens of MB of unknown values."""
    settings.backups_dir.mkdir(parents=True, exist_ok=True)
    path = settings.backups_dir / f"{case}.zip"
    path.write_bytes(layout(padded_metadata(demo_files, pad_bytes, element)))
    assert path.stat().st_size < 2_000_000
    for command in (["inspect", str(path)], ["verify", str(path)], ["list"], ["list", "--json"]):
        rc, stdout, stderr, rss = peak_rss("--config", str(config_file), *command)
        assert "Traceback" not in stderr and "MemoryError" not in stderr, stderr
        assert rss <= RSS_LIMIT_MIB, f"{command[0]}: peak RSS {rss:.0f} MiB"
        if command[0] == "list":
            assert path.name in stdout and rc == 0
        else:
            assert rc == 1 and "backup.json" in stderr, stderr
            assert "\n" not in stderr.strip() and len(stderr) < 400, stderr


def test_a_padded_backup_json_within_the_size_bound_is_refused_as_it_is_parsed(
    tmp_path: Path, config_file: Path, settings: Settings
) -> None:
    """40,000 files may have 61 MB of backup.json: 50 MB of {} in an unknown key is refused after 64 KiB of it."""
    files = {f"services/s-{i // 500:03d}/{i:05d}.json": (b"%d" % i, 0o644) for i in range(40_000)}
    settings.backups_dir.mkdir(parents=True, exist_ok=True)
    path = settings.backups_dir / "padded-many.zip"
    path.write_bytes(layout(padded_metadata(files, 50_000_000)))
    for command in (["inspect", str(path)], ["verify", str(path)], ["list"]):
        rc, stdout, stderr, rss = peak_rss("--config", str(config_file), *command)
        assert rss <= RSS_LIMIT_MIB, f"{command[0]}: peak RSS {rss:.0f} MiB"
        reason = "longer than 64 KiB, which mftui never writes"
        assert reason in (stdout if command[0] == "list" else stderr), (stdout, stderr)
        assert rc == (0 if command[0] == "list" else 1)


def test_the_largest_backup_json_the_budget_allows_stays_within_the_memory_limit(
    tmp_path: Path, config_file: Path, settings: Settings
) -> None:
    """A real archive at the entry budget (50,000 files) reads within the limit: the bound is not too tight."""
    files = {f"services/site-{i // 500:03d}/service-{i:05d}.json": (b"%d" % i, 0o644) for i in range(50_000)}
    settings.backups_dir.mkdir(parents=True, exist_ok=True)
    path = settings.backups_dir / "many.zip"
    path.write_bytes(make_backup(files))
    for command in (["inspect", str(path)], ["list"]):
        rc, stdout, stderr, rss = peak_rss("--config", str(config_file), *command)
        assert rc == 0, stderr
        assert rss <= RSS_LIMIT_MIB, f"{command[0]}: peak RSS {rss:.0f} MiB"


def many_large_backups(settings: Settings, count: int = 12, files: int = 20_000) -> list[Path]:
    """``count`` backups of ``files`` files each in the backups folder (the same archive, copied)."""
    data = make_backup({f"services/s-{i // 500:03d}/service-{i:05d}.json": (b"%d" % i, 0o644) for i in range(files)})
    settings.backups_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    for n in range(count):
        path = settings.backups_dir / f"site_2026-11-{n + 1:02d}T000000Z.zip"
        path.write_bytes(data)
        paths.append(path)
    return paths


def test_the_information_of_many_large_backups_held_together_stays_within_the_limit(settings: Settings) -> None:
    """read_info(summary=True) keeps a count and a total per backup, not 20,000 entries each.

    The peak is this process's own (VmHWM): ru_maxrss of a child of pytest starts at pytest's.
    """
    paths = many_large_backups(settings)
    code = (
        "import sys\n"
        "from pathlib import Path\n"
        "from mftui.archive.reader import read_info\n"
        "infos = [read_info(Path(p), summary=True) for p in sys.argv[1:]]\n"
        "assert all(len(i.files) == 20_000 for i in infos)\n"
        "print(next(line.split()[1] for line in open('/proc/self/status') if line.startswith('VmHWM:')))\n"
    )
    done = subprocess.run([sys.executable, "-c", code, *map(str, paths)], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert int(done.stdout) / 1024 <= RSS_LIMIT_MIB / 2, f"{int(done.stdout) / 1024:.0f} MiB"


def test_list_of_many_large_backups_stays_within_the_memory_limit(settings: Settings, config_file: Path) -> None:
    """12 backups of 20,000 files: `mftui list` held every entry of every one (about 150 MiB)."""
    many_large_backups(settings)
    for command in (["list"], ["list", "--json"]):
        rc, stdout, stderr, rss = peak_rss("--config", str(config_file), *command)
        assert rc == 0, stderr
        assert rss <= RSS_LIMIT_MIB, f"{command}: peak RSS {rss:.0f} MiB"


def test_each_path_is_held_once(tmp_path: Path) -> None:
    """A zip member and its manifest entry share one path string (and the directory is read a window at a time):
    with 1,000-byte paths the restore holds each once, not twice (the names of 50,000 such files are 50 MB)."""
    count = 3000
    seg = "d" * 200
    files = {f"{seg}/{seg}/{seg}/{seg}/{i:05d}-{'f' * 180}.json": (b"%d" % i, 0o644) for i in range(count)}
    length = len(next(iter(files)))
    path = tmp_path / "long.zip"
    path.write_bytes(make_backup(files))
    tracemalloc.start()
    try:
        archive = open_archive(path)
        kept, _peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    with archive:
        assert all(m.path is e.path for m, e in archive.entries())
    assert kept / count < length + 600, f"{kept / count:.0f} bytes kept per file of a {length}-byte path"
