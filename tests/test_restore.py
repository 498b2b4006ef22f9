"""Restore: round trips, what changes, the safety copy, the previous tree, carry-over, ownership, locking."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hostile import backup_entries, layout, make_backup, read_tree
from trees import snapshot

from mftui.archive.catalog import list_backups
from mftui.archive.writer import create_backup
from mftui.demo import write_demo_tree
from mftui.errors import ArchiveError, LockBusy, RestoreError
from mftui.instance import Instance
from mftui.restore import (
    compare,
    fsops,
    plan_restore,
    previous_configuration,
    recover,
    restore_backup,
    restore_previous,
    transaction,
)
from mftui.restore.journal import COMMITTED, read_journal
from mftui.settings import Settings


def config_only(t: dict[str, Any]) -> dict[str, Any]:
    """The configuration files of a tree (by the default settings' include and exclude)."""
    instance = Instance(Settings(instance_root=Path("/"), backups_dir=Path("/")))
    return {k: v for k, v in t.items() if v[0] == "file" and instance.includes(k)}


def change_instance(root: Path) -> None:
    """Add, change and remove configuration; change a mode; add non-configuration."""
    (root / "hub" / "hub.json").write_text('{"changed": true}\n')
    (root / "services" / "0ff.json").write_text('{"id": "0ff"}\n')
    (root / "users" / "users.json").unlink()
    (root / "flows" / "flows.json").chmod(0o600)
    (root / "logs" / "today.log").write_text("a log line written after the backup\n")
    (root / "services" / "draft.tmp").write_text("an editor's temporary file\n")  # excluded: **/*.tmp


@pytest.fixture
def backup(settings: Settings) -> Path:
    return create_backup(settings, "before").path


def test_round_trip_restores_the_configuration_exactly(settings: Settings, backup: Path) -> None:
    root = settings.instance_root
    original = snapshot(root)
    change_instance(root)
    changed = snapshot(root)

    result = restore_backup(settings, backup)

    after = snapshot(root)
    assert config_only(after) == config_only(original)  # configuration: exactly the backup's
    # Not configuration: what the unit had, carried over, untouched.
    assert after["logs/today.log"] == changed["logs/today.log"]
    assert after["services/draft.tmp"] == changed["services/draft.tmp"]
    for rel in ("logs/hub.log", "cache/objects.cache", "historian/2026-11.db"):
        assert after[rel] == original[rel]
    assert set(after) == set(original) | {"logs/today.log", "services/draft.tmp"}
    assert result.changes.added == ("users/users.json",)
    assert set(result.changes.changed) == {"hub/hub.json", "flows/flows.json"}
    assert result.changes.removed == ("services/0ff.json",)
    assert result.method == "exchange"
    assert read_journal(settings.state_dir).state == COMMITTED  # type: ignore[union-attr]
    assert not [n for n in os.listdir(settings.state_dir) if n.startswith("staging-")]


def test_safety_backup_is_listed_and_restores_the_changed_state(settings: Settings, backup: Path) -> None:
    root = settings.instance_root
    change_instance(root)
    changed = config_only(snapshot(root))

    result = restore_backup(settings, backup)

    assert result.safety_archive is not None and result.safety_backup == result.safety_archive
    assert result.safety_archive.name.startswith("pre-restore_")
    listed = {b.path: b for b in list_backups(settings.backups_dir)}
    assert listed[result.safety_archive].info.kind == "safety"  # type: ignore[union-attr]
    restore_backup(settings, result.safety_archive)
    assert config_only(snapshot(root)) == changed


def test_previous_tree_is_kept_and_can_be_put_back(settings: Settings, backup: Path) -> None:
    root = settings.instance_root
    change_instance(root)
    changed = snapshot(root)

    first = restore_backup(settings, backup)
    restored = snapshot(root)
    prev = previous_configuration(settings)
    assert prev is not None and prev.path == first.previous and prev.replaced_by == "backup 'before'"
    assert prev.files == len(config_only(changed)) and "3fa2c1" in prev.describe()

    restore_previous(settings)
    assert snapshot(root) == changed  # exactly the changed state, logs included
    restore_previous(settings)  # and back again: the undo undoes itself
    assert snapshot(root) == restored


def test_no_previous_to_put_back(settings: Settings) -> None:
    assert previous_configuration(settings) is None
    with pytest.raises(RestoreError, match="no previous configuration"):
        restore_previous(settings)


def test_big_configuration_keeps_the_previous_tree_instead_of_an_archive(
    settings: Settings, backup: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(transaction, "SAFETY_ARCHIVE_MAX_BYTES", 100)
    change_instance(settings.instance_root)
    changed = config_only(snapshot(settings.instance_root))
    result = restore_backup(settings, backup)
    assert result.safety_archive is None and result.safety_backup == result.previous
    assert [b.path for b in list_backups(settings.backups_dir)] == [backup]
    assert config_only(snapshot(result.previous)) == changed
    assert "mftui restore --previous" in result.summary


def test_a_second_restore_discards_the_first_previous_tree(settings: Settings, backup: Path) -> None:
    restore_backup(settings, backup)
    first_prev = fsops.identity(settings.state_dir / "previous")
    restore_backup(settings, backup)
    assert fsops.identity(settings.state_dir / "previous") != first_prev
    deadline = time.monotonic() + 10
    while any(n.startswith("trash-") for n in os.listdir(settings.state_dir)) and time.monotonic() < deadline:
        time.sleep(0.05)  # removed in the background
    assert sorted(os.listdir(settings.state_dir)) == ["audit.log", "lock", "previous", "restore-journal.json"]


def test_rename_fallback_when_there_is_no_exchange(
    settings: Settings, backup: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(fsops, "force_renames", True)
    original = config_only(snapshot(settings.instance_root))
    change_instance(settings.instance_root)
    result = restore_backup(settings, backup)
    assert result.method == "renames"
    assert config_only(snapshot(settings.instance_root)) == original
    assert not (settings.state_dir / "aside").exists()


def test_non_configuration_is_moved_not_copied(settings: Settings, backup: Path) -> None:
    root = settings.instance_root
    before = (root / "historian" / "2026-11.db").stat().st_ino
    restore_backup(settings, backup)
    assert (root / "historian" / "2026-11.db").stat().st_ino == before


def test_folder_skeleton_and_modes(settings: Settings, tmp_path: Path) -> None:
    root = settings.instance_root
    (root / "plugins").mkdir(mode=0o750)
    (root / "plugins").chmod(0o750)
    (root / "certs").chmod(0o700)
    archive = tmp_path / "b.zip"
    files = read_tree(root)
    files["extra/deep/new.json"] = (b"{}\n", 0o640)
    archive.write_bytes(make_backup(files))
    restore_backup(settings, archive)
    assert stat.S_IMODE((root / "plugins").stat().st_mode) == 0o750  # an empty folder stays
    assert stat.S_IMODE((root / "certs").stat().st_mode) == 0o700  # folder modes from the live tree
    assert stat.S_IMODE((root / "extra" / "deep" / "new.json").stat().st_mode) == 0o640  # file modes: manifest
    assert stat.S_IMODE((root / "hub" / "psk.json").stat().st_mode) == 0o600


@pytest.mark.skipif(os.geteuid() != 0, reason="changing owners needs root")
def test_owners_come_from_the_live_instance(settings: Settings, backup: Path, tmp_path: Path) -> None:
    root = settings.instance_root
    for dirpath, dirs, names in os.walk(root):
        for name in dirs + names:
            os.chown(Path(dirpath) / name, 1234, 1235, follow_symlinks=False)
    os.chown(root, 1234, 1235)
    files = read_tree(root)
    files["services/0aa.json"] = (b"{}\n", 0o644)  # a file the live tree lacks
    archive = tmp_path / "b.zip"
    archive.write_bytes(make_backup(files))
    restore_backup(settings, archive)
    for path in (root, root / "hub", root / "hub" / "hub.json", root / "services" / "0aa.json"):
        st = path.stat()
        assert (st.st_uid, st.st_gid) == (1234, 1235), path


def test_compare_reports_changes_by_component_and_identity(settings: Settings, backup: Path) -> None:
    root = settings.instance_root
    change_instance(root)
    net = json.loads((root / "network" / "network.json").read_text())
    net["interfaces"]["eth0"]["address"] = "192.0.2.99/24"
    (root / "network" / "network.json").write_text(json.dumps(net))

    changes = compare(settings, backup)

    assert changes.added == ("users/users.json",)
    assert set(changes.changed) == {"hub/hub.json", "flows/flows.json", "network/network.json"}
    assert changes.removed == ("services/0ff.json",)
    assert changes.by_component["hub"]["changed"] == 1 and changes.by_component["services"]["removed"] == 1
    assert changes.identity_changes == ("network/network.json",)
    assert not changes.other_unit
    assert any("SSH session may be cut" in w for w in changes.warnings)
    data = changes.to_json()
    assert data["other_unit"] is False and data["identity_changes"] == ["network/network.json"]
    text = changes.describe()
    assert "1 added, 3 changed, 1 removed" in text and "network/network.json" in text
    assert max(len(line) for line in text.splitlines()) <= 80


def test_a_backup_from_another_unit_is_a_clone_and_says_so(settings: Settings, backup: Path) -> None:
    root = settings.instance_root
    inst = json.loads((root / "instance.json").read_text())
    inst["hub_id"] = "a1b2c3"
    (root / "instance.json").write_text(json.dumps(inst))
    changes = compare(settings, backup)
    assert changes.other_unit and changes.archive_instance_id == "3fa2c1" and changes.live_instance_id == "a1b2c3"
    assert any("another unit (hub 3fa2c1" in w and "clones" in w for w in changes.warnings)
    assert "instance.json" in changes.identity_changes
    restore_backup(settings, backup)  # cloning is allowed
    assert json.loads((root / "instance.json").read_text())["hub_id"] == "3fa2c1"


def test_unchanged_instance_compares_as_nothing(settings: Settings, backup: Path) -> None:
    changes = compare(settings, backup)
    assert changes.total == 0 and changes.warnings == [] and "nothing" in changes.describe()


def test_plan_restore_checks_everything_and_changes_nothing(settings: Settings, backup: Path) -> None:
    before = snapshot(settings.instance_root)
    seen: list[tuple[int, int, str]] = []
    plan = plan_restore(settings, backup, progress=lambda d, t, w: seen.append((d, t, w)))
    assert plan.info.name == "before" and plan.changes.total == 0 and plan.path == backup
    assert seen[-1][0] == seen[-1][1] == plan.info.total_bytes
    assert snapshot(settings.instance_root) == before
    # a plan writes nothing (the lock and the audit log are the backup's)
    assert sorted(os.listdir(settings.state_dir)) == ["audit.log", "lock"]


def test_recover_with_nothing_to_do_creates_nothing(settings: Settings) -> None:
    assert recover(settings) is None
    assert not settings.state_dir.exists()


def test_restore_progress_reaches_the_total(settings: Settings, backup: Path) -> None:
    seen: list[tuple[int, int, str]] = []
    restore_backup(settings, backup, progress=lambda d, t, w: seen.append((d, t, w)))
    assert seen and all(d <= t for d, t, _ in seen) and seen[-1][0] == seen[-1][1]


def test_instance_root_that_is_a_link_is_refused(settings: Settings, backup: Path, tmp_path: Path) -> None:
    link = tmp_path / "site" / "linked"
    link.symlink_to(settings.instance_root)
    linked = Settings(instance_root=link, backups_dir=settings.backups_dir)
    with pytest.raises(RestoreError, match="symbolic link"):
        restore_backup(linked, backup)


def test_mount_points_are_recognised() -> None:
    assert fsops.is_mount_point(Path("/proc"))
    assert not fsops.is_mount_point(Path("/proc/self"))


# --- the lock: against a backup, against another restore ---------------------------------------

HOLD_LOCK = """
import sys, time
from pathlib import Path
from mftui.lock import instance_lock
from mftui.settings import Settings
s = Settings(instance_root=Path(sys.argv[1]), backups_dir=Path(sys.argv[2]))
with instance_lock(s, sys.argv[3]):
    print("held", flush=True)
    sys.stdin.readline()
"""

PAUSED_RESTORE = """
import sys
from pathlib import Path
from mftui.restore import restore_backup, steps
from mftui.settings import Settings
s = Settings(instance_root=Path(sys.argv[1]), backups_dir=Path(sys.argv[2]))
def hook(step):
    if step == "journal-prepared":
        print("paused", flush=True)
        sys.stdin.readline()
steps.step_hook = hook
restore_backup(s, Path(sys.argv[3]))
print("done", flush=True)
"""


def _child(code: str, *args: str) -> subprocess.Popen[str]:
    proc = subprocess.Popen([sys.executable, "-c", code, *args], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            text=True)
    assert proc.stdout is not None
    proc.stdout.readline()  # "held" / "paused"
    return proc


def test_restore_during_a_backup_is_refused_clearly(settings: Settings, backup: Path) -> None:
    change_instance(settings.instance_root)
    before = snapshot(settings.instance_root)
    holder = _child(HOLD_LOCK, str(settings.instance_root), str(settings.backups_dir), "backup")
    try:
        with pytest.raises(LockBusy, match="another backup .* is in progress"):
            restore_backup(settings, backup)
    finally:
        holder.communicate("\n", timeout=30)
    assert snapshot(settings.instance_root) == before
    assert not [n for n in os.listdir(settings.state_dir) if n.startswith("staging-")]


def test_two_concurrent_restores_one_is_refused_the_other_finishes(settings: Settings, backup: Path,
                                                                     tmp_path: Path) -> None:
    root = settings.instance_root
    original = config_only(snapshot(root))
    change_instance(root)
    other = tmp_path / "other.zip"
    other.write_bytes(make_backup(read_tree(root)))
    first = _child(PAUSED_RESTORE, str(root), str(settings.backups_dir), str(backup))  # paused mid-phase-two
    try:
        with pytest.raises(LockBusy, match="another restore"):
            restore_backup(settings, other)
        assert recover(settings) is None  # a live restore is not "interrupted": recovery keeps off
    finally:
        out, _ = first.communicate("\n", timeout=60)
    assert first.returncode == 0 and "done" in out
    assert config_only(snapshot(root)) == original
    assert read_journal(settings.state_dir).state == COMMITTED  # type: ignore[union-attr]


def test_refused_archive_message_names_the_entry(settings: Settings, tmp_path: Path) -> None:
    files = read_tree(settings.instance_root)
    files["hub/../escape.json"] = (b"{}", 0o644)
    bad = tmp_path / "bad.zip"
    bad.write_bytes(make_backup(files))
    with pytest.raises(ArchiveError) as err:
        restore_backup(settings, bad)
    assert err.value.path == "config/hub/../escape.json"


def _kept_previous(settings: Settings) -> tuple[tuple[int, int] | None, dict[str, Any]]:
    prev = settings.state_dir / "previous"
    return fsops.identity(prev), snapshot(prev)


def test_a_refused_restore_keeps_the_previous_configuration(settings: Settings, backup: Path,
                                                            tmp_path: Path) -> None:
    change_instance(settings.instance_root)
    restore_backup(settings, backup)
    kept = _kept_previous(settings)
    data = bytearray(backup.read_bytes())
    name = b"config/hub/hub.json"
    data[data.find(name) + len(name) + 3] ^= 0xFF  # a byte of that entry's compressed data
    damaged = tmp_path / "damaged.zip"
    damaged.write_bytes(bytes(data))
    with pytest.raises(ArchiveError, match="hub/hub.json"):
        restore_backup(settings, damaged)
    assert _kept_previous(settings) == kept
    assert previous_configuration(settings) is not None


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A real 4 MiB filesystem (tmpfs), so that "not enough space" is the kernel's answer."""
    top = tmp_path / "disk"
    top.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(top)],
                      capture_output=True).returncode != 0:
        pytest.skip("needs root to mount a tmpfs")
    try:
        yield top
    finally:
        subprocess.run(["umount", "-l", str(top)], check=True)


def test_a_restore_that_lacks_space_keeps_the_previous_configuration_and_says_so(
    small_disk: Path, tmp_path: Path
) -> None:
    root = small_disk / "site" / "mobiusflow"
    root.mkdir(parents=True)
    write_demo_tree(root)
    (root / "flows" / "big.json").write_bytes(os.urandom(900 * 1024))
    settings = Settings(instance_root=root, backups_dir=tmp_path / "backups")
    backup = create_backup(settings, "big").path
    # With no previous configuration to give back, the restore just says what it needs.
    hog = small_disk / "hog"
    hog.write_bytes(b"\0" * (fsops.free_bytes(settings.state_dir) - 100 * 1024))
    untouched = snapshot(root)
    with pytest.raises(RestoreError, match=r"free, and staging this backup needs about .*nothing was changed"):
        restore_backup(settings, backup)
    assert snapshot(root) == untouched and sorted(set(os.listdir(settings.state_dir)) - {"audit.log"}) == ["lock"]
    hog.unlink()
    restore_backup(settings, backup)  # the previous tree now holds ~900 KiB
    kept = _kept_previous(settings)
    # Fill the disk until staging no longer fits beside the live tree and the previous one.
    need = sum(f.size for f in Instance(settings).scan()) + 4096 * 40
    free = fsops.free_bytes(settings.state_dir)
    (small_disk / "filler").write_bytes(b"\0" * (free - need + 200 * 1024))
    before = snapshot(root)
    config = tmp_path / "config.toml"
    config.write_text(f'[instance]\nroot = "{root}"\n[backups]\ndir = "{settings.backups_dir}"\n')
    mftui = [sys.executable, "-m", "mftui", "--config", str(config), "restore", str(backup), "--yes", "--no-reboot"]
    refused = subprocess.run(mftui, capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)
    assert refused.returncode == 1 and "the previous configuration" in refused.stderr, refused.stderr
    assert "--discard-previous" in refused.stderr and "nothing was changed" in refused.stderr
    assert _kept_previous(settings) == kept and snapshot(root) == before
    # The technician chooses: the previous configuration goes, the restore fits.
    done = subprocess.run([*mftui, "--discard-previous"], capture_output=True, text=True, timeout=60,
                          stdin=subprocess.DEVNULL)
    assert done.returncode == 0, done.stderr
    assert previous_configuration(settings) is not None  # the tree this restore replaced


@pytest.mark.parametrize("planted", ["work.tmp/evil.json", "logs/app.json", "cache/x/y.json", "services/a.swp"])
def test_a_path_no_backup_here_could_hold_is_refused(settings: Settings, config_file: Path, tmp_path: Path,
                                                     planted: str) -> None:
    """Excluded files, and files in excluded folders: the unit's own data there must never be replaced."""
    root = settings.instance_root
    (root / "work.tmp").mkdir()
    (root / "work.tmp" / "unit-data.db").write_bytes(b"the unit's own data")
    files = read_tree(root)
    files = {k: v for k, v in files.items() if Instance(settings).includes(k)}
    files[planted] = (b"{}", 0o644)
    bad = tmp_path / "bad.zip"
    bad.write_bytes(make_backup(files))
    before = snapshot(root)
    for command in ("verify", "restore"):
        proc = subprocess.run([sys.executable, "-m", "mftui", "--config", str(config_file), command, str(bad),
                               *(["--yes", "--no-reboot"] if command == "restore" else [])],
                              capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)
        assert proc.returncode == 1, (command, proc.stdout, proc.stderr)
        assert f"config/{planted} is not configuration" in proc.stderr, proc.stderr
    assert snapshot(root) == before


@pytest.mark.parametrize("how", ["tmpfs", "bind"])
def test_a_mount_inside_the_instance_is_refused_before_anything_changes(settings: Settings, backup: Path,
                                                                        tmp_path: Path, how: str) -> None:
    """historian on its own partition, or a bind mount: a rename cannot move it (EBUSY after the swap)."""
    root = settings.instance_root
    target = root / "historian"
    if how == "tmpfs":
        cmd = ["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(target)]
    else:
        (tmp_path / "elsewhere").mkdir()
        cmd = ["mount", "--bind", str(tmp_path / "elsewhere"), str(target)]
    if subprocess.run(cmd, capture_output=True).returncode != 0:
        pytest.skip("needs root to mount")
    try:
        (target / "data.db").write_bytes(b"historian data")
        change_instance(root)
        before = snapshot(root)
        with pytest.raises(RestoreError, match=r"historian .*is a mount point") as err:
            plan_restore(settings, backup)
        assert str(target) in str(err.value)
        with pytest.raises(RestoreError, match=r"historian .*is a mount point"):
            restore_backup(settings, backup)
        assert snapshot(root) == before
        assert not [n for n in os.listdir(settings.state_dir) if n.startswith("staging-")]
    finally:
        subprocess.run(["umount", str(target)], check=True)


def test_what_a_restore_says_never_carries_control_characters(settings: Settings, backup: Path) -> None:
    """Hub ids, hostnames and names from an archive, and file names from the live tree, are shown escaped."""
    from mftui.archive.format import BackupInfo

    hostile = "\x1b]0;owned\x07\x1b[2J"
    info = restore_backup(settings, backup).info
    (settings.instance_root / "flows" / f"x{hostile}.json").write_text("{}")  # a live file: "removed"
    info = BackupInfo(name=hostile, created_at=info.created_at, tool_version="", product=info.product,
                      product_version="", instance_id="abc" + hostile, hostname=hostile, files=info.files)
    changes = transaction.compute_changes(settings, info)
    assert changes.other_unit
    result = transaction.RestoreResult(info, backup, changes, backup)
    for text in (changes.describe(), result.summary, *changes.warnings):
        assert "\x1b" not in text and "\x07" not in text
    assert "R flows/x\\x1b]0;owned\\x07" in changes.describe()


def test_identity_is_read_without_following_links_or_reading_a_huge_file(settings: Settings, tmp_path: Path) -> None:
    from mftui.instance import read_identity

    inst = settings.instance_root / "instance.json"
    assert read_identity(inst).hub_id == "3fa2c1"
    inst.write_text('{"hub_id": "3fa2c1", "pad": "' + "x" * 300_000 + '"}')
    assert read_identity(inst).hub_id == ""  # not an instance.json
    target = tmp_path / "elsewhere.json"
    target.write_text('{"hub_id": "abcdef"}')
    inst.unlink()
    inst.symlink_to(target)
    assert read_identity(inst).hub_id == ""
    inst.unlink()
    inst.write_text("[" * 100_000)
    assert read_identity(inst).hub_id == ""


def test_a_backup_that_names_no_product_is_not_restored_onto_one_that_has(settings: Settings, tmp_path: Path) -> None:
    """A unit with no instance.json writes product "" (allowed); it must not restore onto a MobiusFlow."""
    files = {k: v for k, v in read_tree(settings.instance_root).items()
             if Instance(settings).includes(k) and k != "instance.json"}
    bare = tmp_path / "bare.zip"
    bare.write_bytes(layout(backup_entries(files, instance={"product": "", "version": "", "id": "", "hostname": ""})))
    before = snapshot(settings.instance_root)
    with pytest.raises(ArchiveError, match="names no product") as err:
        plan_restore(settings, bare)
    assert "MobiusFlow" in str(err.value)
    with pytest.raises(ArchiveError, match="names no product"):
        restore_backup(settings, bare)
    assert snapshot(settings.instance_root) == before


@pytest.mark.parametrize("renames", [False, True], ids=["exchange", "renames"])
def test_unit_data_under_what_the_backup_has_as_a_file_is_left_behind(
    settings: Settings, monkeypatch: pytest.MonkeyPatch, renames: bool
) -> None:
    """The backup has services/old as a file; the unit now has a folder there holding unit data (*.tmp).

    The data cannot go under a file: it stays in the previous configuration and is reported, and the
    restore commits (it used to fail after the swap with "Not a directory", and recovery with it).
    """
    monkeypatch.setattr(fsops, "force_renames", renames)
    root = settings.instance_root
    (root / "services" / "old").write_text('{"id": "old"}')
    backup = create_backup(settings, "old-is-a-file").path
    (root / "services" / "old").unlink()
    (root / "services" / "old").mkdir()
    (root / "services" / "old" / "x.tmp").write_text("unit data")
    (root / "logs" / "deep").mkdir()
    (root / "logs" / "deep" / "keep.log").write_text("carried over as usual")
    result = restore_backup(settings, backup)
    assert "services/old" in result.left_behind
    assert (root / "services" / "old").read_text() == '{"id": "old"}'
    assert (result.previous / "services" / "old" / "x.tmp").read_text() == "unit data"
    assert (root / "logs" / "deep" / "keep.log").read_text() == "carried over as usual"
    assert read_journal(settings.state_dir).state == COMMITTED  # type: ignore[union-attr]
    assert recover(settings) is None
