"""Reading a backup's information: only the end records and backup.json, as strictly as a restore.

``read_info`` (``mftui inspect``, ``mftui list``, the TUI's archive details)
must not cost more for 20,000 files than for 300: it finds backup.json's
central record at the end of the directory, reads its local header and data,
and leaves the file entries to be checked when they are used. Whatever uses
them (verify, compare, restore) still gets every entry checked, and a broken
one is an ArchiveError naming it.
"""

from __future__ import annotations

import json
import os
import struct
import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path
from typing import Any

import pytest
from hostile import backup_entries, layout, read_tree

from mftui.archive import validate
from mftui.archive.format import FileEntry, FileList
from mftui.archive.metadata import max_metadata_bytes
from mftui.archive.reader import read_info, verify
from mftui.archive.writer import create_backup
from mftui.errors import ArchiveError
from mftui.restore import compare, plan_restore
from mftui.settings import Budgets, Settings


@pytest.fixture
def files(instance_root: Path) -> dict[str, tuple[bytes, int]]:
    return read_tree(instance_root)


def write(tmp_path: Path, data: bytes, name: str = "b.zip") -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def test_reads_only_the_end_records_and_backup_json(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    """With 600 more files: no byte before backup.json's local header, and only the directory's last record."""
    for i in range(600):
        (settings.instance_root / "flows" / f"extra-{i:04d}.json").write_text(json.dumps({"flow": i}) * 20)
    path = create_backup(settings, "many").path
    with zipfile.ZipFile(path) as zf:
        meta_at = zf.getinfo("backup.json").header_offset
        assert zf.infolist()[-1].filename == "backup.json"
    cd_size, cd_offset = struct.unpack("<12xII2x", path.read_bytes()[-22:])
    reads: list[tuple[int, int]] = []
    real = validate.Archive._pread

    def spy(self: validate.Archive, size: int, offset: int) -> bytes:
        reads.append((offset, size))
        return real(self, size, offset)

    monkeypatch.setattr(validate.Archive, "_pread", spy)
    info = read_info(path)
    assert len(info.files) > 600 and info.name == "many"
    assert min(off for off, _n in reads) == meta_at
    in_directory = sum(
        max(0, min(off + n, cd_offset + cd_size) - max(off, cd_offset)) for off, n in reads
    )
    assert 0 < in_directory <= 46 + len("backup.json") + 28 + 4
    assert cd_size > 600 * 46  # the directory itself is much larger


def test_backup_json_not_last_is_refused(tmp_path: Path, files: dict[str, tuple[bytes, int]]) -> None:
    """The writer puts backup.json last; an archive laid out otherwise (another tool rewrote it) is refused."""
    entries = backup_entries(files)
    entries.insert(0, entries.pop())
    with pytest.raises(ArchiveError, match=r"backup\.json is not the last entry"):
        read_info(write(tmp_path, layout(entries)))
    with pytest.raises(ArchiveError, match=r"not an mftui backup: it has no backup\.json"):
        read_info(write(tmp_path, layout(entries[1:]), "none.zip"))


def test_writer_zip64_records_are_read(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    """backup.json with a ZIP64 extra field of one, two or three values, behind ZIP64 end records."""
    from mftui.archive import zipstream

    for at in (100, 1500, 10**12):
        monkeypatch.setattr(zipstream, "ZIP64_AT", at)
        monkeypatch.setattr(zipstream, "ZIP64_COUNT_AT", 3)
        made = create_backup(settings, f"zip64-{at}")
        info = read_info(made.path)
        assert info.name == f"zip64-{at}" and info.files == made.info.files


@pytest.mark.parametrize(
    ("how", "match"),
    [
        ("encrypted", r"backup\.json is encrypted"),
        ("bzip2", r"backup\.json uses compression method 12"),
        ("crc", r"backup\.json fails its CRC"),
        ("local-name", r"headers disagree"),
        ("huge", r"backup\.json declares 67,073 bytes, more than the 67,072 a backup of 1 file can need"),
        ("no-metadata", r"no backup\.json"),
        ("junk-after", r"junk after the end"),
    ],
)
def test_backup_json_is_read_as_strictly_as_a_restore_reads_it(
    tmp_path: Path, files: dict[str, tuple[bytes, int]], how: str, match: str
) -> None:
    entries = backup_entries(files)
    meta = entries[-1]
    suffix = b""
    if how == "encrypted":
        meta.flags = 1
    elif how == "bzip2":
        meta.method = 12
        meta.payload = b"BZh9" + meta.data
    elif how == "crc":
        meta.local["crc"] = meta.central["crc"] = 1234
    elif how == "local-name":
        meta.local_name = b"backup.jsoN"
    elif how == "huge":
        entries = [entries[0], meta]  # one file: backup.json may be 64 KiB + 1.5 KiB
        meta.central["usize"] = meta.local["usize"] = max_metadata_bytes(1) + 1
    elif how == "no-metadata":
        entries.pop()
    elif how == "junk-after":
        suffix = b"\0" * 10
    path = write(tmp_path, layout(entries) + suffix)
    with pytest.raises(ArchiveError, match=match):
        read_info(path)


def test_not_a_zip_reads_as_not_a_readable_zip(tmp_path: Path) -> None:
    with pytest.raises(ArchiveError, match="not a readable zip"):
        read_info(write(tmp_path, b"this is not a zip\n" * 3))
    with pytest.raises(ArchiveError, match="does not exist"):
        read_info(tmp_path / "nope.zip")


def broken(meta: dict[str, Any]) -> None:
    entry = next(f for f in meta["files"] if f["path"] == "hub/psk.json")
    entry["mode"] = "4755"  # setuid


def test_a_broken_file_entry_is_named_by_everything_that_uses_the_entries(
    tmp_path: Path, files: dict[str, tuple[bytes, int]], settings: Settings
) -> None:
    path = write(tmp_path, layout(backup_entries(files, edit=broken)))
    info = read_info(path)  # the information shows without building the entries...
    assert len(info.files) == len(files)
    assert info.total_bytes == sum(len(d) for d, _m in files.values())
    with pytest.raises(ArchiveError, match=r"hub/psk\.json: mode '4755'") as err:
        list(info.files)  # ...and using them checks them
    assert err.value.path == "config/hub/psk.json"
    for use in (lambda: verify(path), lambda: compare(settings, path), lambda: plan_restore(settings, path)):
        with pytest.raises(ArchiveError, match=r"hub/psk\.json: mode '4755'"):
            use()


@pytest.mark.parametrize(
    ("edit", "match"),
    [
        (lambda f: f.update(size=-1), r"hub/psk\.json: size is not a whole number"),
        (lambda f: f.update(size=True), r"hub/psk\.json: size is not a whole number"),
        (lambda f: f.update(sha256="A" * 64), r"hub/psk\.json: sha256 is not 64 lowercase"),
        (lambda f: f.update(mode=644), r"hub/psk\.json: mode 644 is not a permission"),
        (lambda f: f.update(path=""), r"entry \d+ of the files list has no path"),
    ],
)
def test_each_kind_of_broken_entry_is_refused(
    tmp_path: Path, files: dict[str, tuple[bytes, int]], edit: Any, match: str
) -> None:
    def change(meta: dict[str, Any]) -> None:
        edit(next(f for f in meta["files"] if f["path"] == "hub/psk.json"))

    info = read_info(write(tmp_path, layout(backup_entries(files, edit=change))))
    with pytest.raises(ArchiveError, match=match):
        _ = info.files[0]
    with pytest.raises(ArchiveError, match=match):
        verify(tmp_path / "b.zip")


def test_an_entry_that_is_not_an_object_is_counted_but_refused(tmp_path: Path) -> None:
    entries = backup_entries({"hub/a.json": (b"{}", 0o644)}, edit=lambda m: m["files"].append("hub/b.json"))
    info = read_info(write(tmp_path, layout(entries)))
    assert len(info.files) == 2
    with pytest.raises(ArchiveError, match="entry 2 of the files list is not an object"):
        _ = info.total_bytes


def test_file_list_behaves_as_the_tuple_it_stands_for() -> None:
    raw = [{"path": "a", "size": 1, "sha256": "0" * 64, "mode": "0600", "component": "hub"},
           {"path": "b/c", "size": 2, "sha256": "f" * 64}]
    lazy = FileList(raw)
    assert len(lazy) == 2 and lazy.total_bytes() == 3
    expected = (FileEntry("a", 1, "0" * 64, 0o600, "hub"), FileEntry("b/c", 2, "f" * 64, 0o644, "other"))
    assert lazy == expected and expected == lazy and tuple(lazy) == expected
    assert lazy[1:] == expected[1:] and lazy[-1].path == "b/c" and expected[0] in lazy
    assert hash(lazy) == hash(expected) and len(lazy) == 2


def test_inspect_imports_neither_the_restore_nor_hashing(settings: Settings, config_file: Path) -> None:
    """The inspect path of the command line loads no restore machinery, no zipfile, no hashlib, no Textual."""
    path = create_backup(settings, "imports").path
    code = textwrap.dedent(
        f"""
        import sys
        from mftui.cli import main
        assert main(["--config", {str(config_file)!r}, "inspect", {str(path)!r}]) == 0
        heavy = [m for m in ("mftui.restore.transaction", "mftui.archive.extract", "zipfile", "hashlib",
                             "concurrent.futures", "textual") if m in sys.modules]
        assert not heavy, heavy
        """
    )
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, env=env)
    assert done.returncode == 0, done.stderr


def test_a_deeply_nested_backup_json_is_refused_not_a_crash(
    tmp_path: Path, files: dict[str, tuple[bytes, int]]
) -> None:
    """json's recursion limit is an ArchiveError, for the information and for a restore alike."""
    entries = backup_entries(files)
    entries[-1].data = b'{"format": "mftui-backup", "files": ' + b"[" * 20_000 + b"]" * 20_000 + b"}"
    path = write(tmp_path, layout(entries))
    with pytest.raises(ArchiveError, match="nests its values too deeply"):
        read_info(path)
    with pytest.raises(ArchiveError, match="nests its values too deeply"):
        verify(path)


def test_a_summary_keeps_the_count_and_the_bytes_only(settings: Settings) -> None:
    made = create_backup(settings, "summary")
    info = read_info(made.path, summary=True)
    assert len(info.files) == len(made.info.files) and info.total_bytes == made.info.total_bytes
    assert info.name == "summary" and info.instance_id == made.info.instance_id
    with pytest.raises(TypeError, match="holds no entries"):
        list(info.files)


def test_a_summary_of_a_broken_size_is_refused_naming_the_entry(
    tmp_path: Path, files: dict[str, tuple[bytes, int]]
) -> None:
    def change(meta: dict[str, Any]) -> None:
        next(f for f in meta["files"] if f["path"] == "hub/psk.json")["size"] = 5.0

    path = write(tmp_path, layout(backup_entries(files, edit=change)))
    with pytest.raises(ArchiveError, match=r"hub/psk\.json: size is not a whole number"):
        read_info(path, summary=True)


def test_more_entries_than_the_budget_is_refused_unless_the_limits_allow_them(
    tmp_path: Path, files: dict[str, tuple[bytes, int]]
) -> None:
    """As a restore refuses them: backup.json may then not list millions of files to parse."""
    path = write(tmp_path, layout(backup_entries(files)))
    with pytest.raises(ArchiveError, match=r"it has \d+ entries, more than the limit of 5 entries"):
        read_info(path, budgets=Budgets(max_entries=5))
    assert len(read_info(path, budgets=Budgets(max_entries=len(files))).files) == len(files)
