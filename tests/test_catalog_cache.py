"""The list of backups remembers what it read (catalog_cache.py): real archives, a real state folder.

A cached row is proved by damaging an archive in place without changing its
name, size, mtime or inode: only a list that did not read it again still
shows its information.
"""

from __future__ import annotations

import dataclasses
import json
import os
from datetime import UTC, datetime
from pathlib import Path

from mftui.archive.catalog import unit_backups
from mftui.archive.catalog_cache import CACHE_NAME, CatalogCache, Verified, file_key, record_verified
from mftui.archive.writer import create_backup
from mftui.settings import Budgets, Settings

WHEN = datetime(2026, 11, 5, 10, 15, tzinfo=UTC)


def damage_in_place(path: Path) -> None:
    """Zero the end records, keeping the size, the mtime (ns) and the inode: the key stays the same."""
    st = path.stat()
    with path.open("r+b") as fh:
        fh.seek(st.st_size - 22)
        fh.write(b"\0" * 22)
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert file_key(path.name, path.stat()) == file_key(path.name, st)


def test_a_listed_backup_is_not_read_again_while_unchanged(settings: Settings) -> None:
    path = create_backup(settings, "kept", now=WHEN).path
    assert [b.info.name for b in unit_backups(settings) if b.info] == ["kept"]
    assert (settings.state_dir / CACHE_NAME).is_file()
    damage_in_place(path)
    again = unit_backups(settings)
    assert again[0].info is not None and again[0].info.name == "kept"
    assert again[0].total_bytes > 0 and len(again[0].info.files) > 0


def test_a_changed_backup_is_read_again(settings: Settings) -> None:
    path = create_backup(settings, "kept", now=WHEN).path
    unit_backups(settings)
    damage_in_place(path)
    os.utime(path, ns=(1, 1))  # its mtime changed: the cached row is not this file any more
    listed = unit_backups(settings)
    assert listed[0].info is None and listed[0].problem


def test_a_damaged_cache_is_ignored_and_rewritten(settings: Settings) -> None:
    create_backup(settings, "kept", now=WHEN)
    unit_backups(settings)
    cache = settings.state_dir / CACHE_NAME
    for junk in (b"{not json", b"[]", b'{"scope": 1, "entries": {"x": 5}}', b"\xff\xfe", b""):
        cache.write_bytes(junk)
        listed = unit_backups(settings)
        assert [b.info.name for b in listed if b.info] == ["kept"], junk
        assert json.loads(cache.read_bytes())["entries"], junk


def test_a_wrong_value_in_the_cache_is_not_believed(settings: Settings) -> None:
    create_backup(settings, "kept", now=WHEN)
    unit_backups(settings)
    cache = settings.state_dir / CACHE_NAME
    data = json.loads(cache.read_bytes())
    entry = next(iter(data["entries"].values()))
    entry["info"]["files"] = "many"
    cache.write_text(json.dumps(data))
    listed = unit_backups(settings)
    assert listed[0].info is not None and len(listed[0].info.files) > 1


def test_the_cache_is_never_read_or_written_through_a_link(settings: Settings, tmp_path: Path) -> None:
    create_backup(settings, "kept", now=WHEN)
    elsewhere = tmp_path / "elsewhere.json"
    elsewhere.write_text("precious\n")
    cache = settings.state_dir / CACHE_NAME
    cache.symlink_to(elsewhere)
    assert [b.info.name for b in unit_backups(settings) if b.info] == ["kept"]
    assert elsewhere.read_text() == "precious\n"
    assert not cache.is_symlink() and json.loads(cache.read_bytes())["entries"]


def test_other_limits_do_not_use_the_cache(settings: Settings) -> None:
    """[limits] decide whether a backup is listed as sound: a cache made under others is not used."""
    path = create_backup(settings, "kept", now=WHEN).path
    unit_backups(settings)
    damage_in_place(path)
    tighter = dataclasses.replace(settings, budgets=Budgets(max_entries=10_000))
    assert unit_backups(tighter)[0].info is None


def test_a_removed_backup_is_forgotten(settings: Settings) -> None:
    first = create_backup(settings, "first", now=WHEN).path
    create_backup(settings, "second", now=WHEN.replace(hour=11))
    unit_backups(settings)
    first.unlink()
    unit_backups(settings)
    entries = json.loads((settings.state_dir / CACHE_NAME).read_bytes())["entries"]
    assert list(entries) == [p.name for p in settings.backups_dir.glob("*.zip")]


def test_a_verify_is_shown_for_that_version_of_the_file_only(settings: Settings) -> None:
    path = create_backup(settings, "kept", now=WHEN).path
    assert unit_backups(settings)[0].verified is None
    record_verified(settings, file_key(path.name, path.stat()), Verified(True, WHEN.isoformat()))
    listed = unit_backups(settings)
    assert listed[0].verified == Verified(True, WHEN.isoformat())
    assert listed[0].to_json()["verified"]["ok"] is True
    os.utime(path, ns=(5, 5))
    assert unit_backups(settings)[0].verified is None


def test_without_a_state_folder_the_list_works_and_writes_nothing(settings: Settings, tmp_path: Path) -> None:
    path = create_backup(settings, "kept", now=WHEN).path
    moved = dataclasses.replace(settings, state_folder=tmp_path / "no-state-yet")
    cache = CatalogCache.of(moved)
    assert cache.state is None
    assert [b.info.name for b in unit_backups(moved) if b.info] == ["kept"]
    assert not (tmp_path / "no-state-yet").exists() and path.exists()


def test_mftui_verify_is_remembered_for_the_backups_screen(tmp_path: Path, instance_root: Path) -> None:
    """mftui verify of a backup in the unit's folder records its outcome; list (and the Backups screen) show it."""
    import subprocess
    import sys

    config = tmp_path / "config.toml"
    config.write_text(f'[instance]\nroot = "{instance_root}"\n[backups]\ndir = "{tmp_path / "backups"}"\n'
                      '[reboot]\nbackend = "demo"\n')

    def mftui(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "mftui", "--config", str(config), *args],
                              capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)

    good = Path(json.loads(mftui("backup", "--name", "good", "--json").stdout)["path"])
    bad = Path(json.loads(mftui("backup", "--name", "bad", "--json").stdout)["path"])
    elsewhere = tmp_path / "elsewhere.zip"
    elsewhere.write_bytes(good.read_bytes())
    data = bytearray(bad.read_bytes())
    data[200] ^= 0xFF  # inside the first entry's data: its checksum fails
    bad.write_bytes(bytes(data))
    assert mftui("verify", str(good)).returncode == 0
    assert mftui("verify", str(bad)).returncode == 1
    assert mftui("verify", str(elsewhere)).returncode == 0  # not in the backups folder: not noted
    rows = {Path(r["path"]).name: r for r in json.loads(mftui("list", "--json").stdout) if "path" in r}
    assert rows[good.name]["verified"]["ok"] is True
    assert rows[bad.name]["verified"]["ok"] is False
