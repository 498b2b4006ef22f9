"""The state folder is trusted only if mftui made it: real commands against planted links and foreign folders.

Each case plants what a local user could (a link, a folder of their own, a
loose mode) and runs the real command line as root; the victim file and the
instance must be byte-for-byte unchanged and the refusal one sentence.
"""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from trees import snapshot

from mftui.archive.writer import create_backup
from mftui.settings import Settings

OTHER_UID = 54321  # a local user who is not us


def mftui(config: Path, *args: str) -> subprocess.CompletedProcess[str]:
    cmd = [sys.executable, "-m", "mftui", "--config", str(config), *args]
    return subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=120)


@pytest.fixture
def victim(tmp_path: Path) -> Path:
    """A file a local user wants root to empty or overwrite."""
    path = tmp_path / "victim" / "shadow"
    path.parent.mkdir()
    path.write_bytes(b"root:$6$secret:19000::::::\n")
    return path


def refused(proc: subprocess.CompletedProcess[str], words: str) -> None:
    assert proc.returncode == 1, (proc.stdout, proc.stderr)
    assert words in proc.stderr, proc.stderr
    assert "Traceback" not in proc.stderr and proc.stderr.count("\n") == 1, proc.stderr


def test_new_state_folder_is_private(settings: Settings, config_file: Path) -> None:
    assert mftui(config_file, "backup").returncode == 0
    st = os.lstat(settings.state_dir)
    assert stat.S_ISDIR(st.st_mode) and stat.S_IMODE(st.st_mode) == 0o700 and st.st_uid == os.geteuid()


def test_planted_lock_link_is_never_followed(settings: Settings, config_file: Path, victim: Path) -> None:
    settings.state_dir.mkdir(mode=0o700)
    (settings.state_dir / "lock").symlink_to(victim)
    proc = mftui(config_file, "backup")
    refused(proc, "symbolic link")
    assert victim.read_bytes() == b"root:$6$secret:19000::::::\n"
    assert not list(settings.backups_dir.glob("*.zip")) if settings.backups_dir.exists() else True


def test_planted_demo_reboot_log_link_is_never_followed(settings: Settings, config_file: Path,
                                                        victim: Path) -> None:
    backup = create_backup(settings, "b").path
    (settings.state_dir / "reboot-requests.jsonl").symlink_to(victim)
    proc = mftui(config_file, "restore", str(backup), "--yes", "--json")
    assert json.loads(proc.stdout)["reboot"]["ok"] is False
    assert victim.read_bytes() == b"root:$6$secret:19000::::::\n"


def test_state_folder_that_is_a_link_is_refused(settings: Settings, config_file: Path, tmp_path: Path) -> None:
    elsewhere = tmp_path / "world"
    elsewhere.mkdir()
    os.chmod(elsewhere, 0o777)
    settings.state_dir.symlink_to(elsewhere)
    before = snapshot(settings.instance_root)
    refused(mftui(config_file, "backup"), "is a symbolic link")
    refused(mftui(config_file, "list"), "is a symbolic link")
    assert list(elsewhere.iterdir()) == []
    assert snapshot(settings.instance_root) == before


def test_state_folder_of_another_user_is_refused(settings: Settings, config_file: Path) -> None:
    settings.state_dir.mkdir(mode=0o700)
    os.chown(settings.state_dir, OTHER_UID, OTHER_UID)
    refused(mftui(config_file, "backup"), f"belongs to user {OTHER_UID}")
    assert list(settings.state_dir.iterdir()) == []


def test_state_folder_writable_by_others_is_refused(settings: Settings, config_file: Path) -> None:
    settings.state_dir.mkdir()
    os.chmod(settings.state_dir, 0o777)
    refused(mftui(config_file, "backup"), "can be changed by other users")
    assert list(settings.state_dir.iterdir()) == []


def test_readable_state_folder_of_ours_is_made_private(settings: Settings, config_file: Path) -> None:
    # mftui before 0.2 made it with the umask (0755): ours, nobody else could write in it.
    settings.state_dir.mkdir()
    os.chmod(settings.state_dir, 0o755)
    assert mftui(config_file, "backup").returncode == 0
    assert stat.S_IMODE(os.lstat(settings.state_dir).st_mode) == 0o700


def test_parent_others_can_write_in_is_refused(tmp_path: Path) -> None:
    # Whoever can rename entries in the state folder's parent can swap the folder after it was checked.
    shared = tmp_path / "shared"
    shared.mkdir()
    os.chmod(shared, 0o777)  # no sticky bit
    root = shared / "inst"
    root.mkdir()
    (root / "instance.json").write_text('{"product": "MobiusFlow", "hub_id": "3fa2c1"}')
    cfg = tmp_path / "c.toml"
    cfg.write_text(f'[instance]\nroot = "{root}"\n[backups]\ndir = "{tmp_path / "backups"}"\n')
    refused(mftui(cfg, "backup"), "other users can rename")
    assert not (shared / ".mftui-inst").exists()


def test_sticky_world_writable_parent_is_fine(tmp_path: Path) -> None:
    shared = tmp_path / "shared"
    shared.mkdir()
    os.chmod(shared, 0o1777)  # like /tmp: nobody renames what is not theirs
    root = shared / "inst"
    root.mkdir()
    (root / "instance.json").write_text('{"product": "MobiusFlow", "hub_id": "3fa2c1"}')
    cfg = tmp_path / "c.toml"
    cfg.write_text(f'[instance]\nroot = "{root}"\n[backups]\ndir = "{tmp_path / "backups"}"\n')
    proc = mftui(cfg, "backup")
    assert proc.returncode == 0, proc.stderr


def test_previous_tree_replaced_by_another_is_not_installed(settings: Settings, config_file: Path,
                                                            tmp_path: Path) -> None:
    backup = create_backup(settings, "b").path
    assert mftui(config_file, "restore", str(backup), "--yes", "--no-reboot").returncode == 0
    prev = settings.state_dir / "previous"
    # A tree of someone else's, put where the previous configuration was.
    os.rename(prev, tmp_path / "real-previous")
    evil = tmp_path / "evil"
    evil.mkdir()
    (evil / "instance.json").write_text('{"product": "MobiusFlow", "hub_id": "3fa2c1"}')
    os.rename(evil, prev)
    before = snapshot(settings.instance_root)
    refused(mftui(config_file, "restore", "--previous", "--yes", "--no-reboot"), "not the one")
    assert snapshot(settings.instance_root) == before


def test_link_planted_in_the_previous_tree_is_not_installed(settings: Settings, config_file: Path,
                                                            victim: Path) -> None:
    backup = create_backup(settings, "b").path
    assert mftui(config_file, "restore", str(backup), "--yes", "--no-reboot").returncode == 0
    key = settings.state_dir / "previous" / "certs" / "hub.key"
    key.unlink()
    key.symlink_to(victim)
    before = snapshot(settings.instance_root)
    refused(mftui(config_file, "restore", "--previous", "--yes", "--no-reboot"),
            "certs/hub.key in it is a symbolic link")
    assert snapshot(settings.instance_root) == before


def test_state_folder_that_cannot_be_made_is_a_sentence(tmp_path: Path) -> None:
    cfg = tmp_path / "c.toml"
    cfg.write_text('[instance]\nroot = "/proc/sys"\n[backups]\ndir = "' + str(tmp_path / "b") + '"\n')
    proc = mftui(cfg, "backup")
    assert proc.returncode in (1, 2) and "Traceback" not in proc.stderr, proc.stderr
    assert proc.stderr.count("\n") == 1 and "state folder" in proc.stderr, proc.stderr
