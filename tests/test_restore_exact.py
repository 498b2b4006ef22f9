"""A restore restores exactly what was checked and shown, or nothing (time of check to time of use).

The file is swapped for another unit's backup (by rename, as an attacker would) or
rewritten in place while the technician reads the question.
"""

from __future__ import annotations

import json
import os
import select
import subprocess
import sys
import time
from pathlib import Path

import pytest
from test_restore import change_instance
from trees import snapshot

from mftui.archive.writer import create_backup
from mftui.errors import RestoreError
from mftui.restore import plan_restore, restore_backup
from mftui.settings import Settings


@pytest.fixture
def two_backups(settings: Settings, tmp_path: Path) -> tuple[Path, Path]:
    """This unit's backup, and one of another unit (another hub id) in a folder of its own."""
    ours = create_backup(settings, "ours").path
    root = settings.instance_root
    inst = json.loads((root / "instance.json").read_text())
    (root / "instance.json").write_text(json.dumps({**inst, "hub_id": "bad0bd"}))
    theirs = create_backup(Settings(instance_root=root, backups_dir=tmp_path / "theirs"), "theirs").path
    (root / "instance.json").write_text(json.dumps(inst))
    change_instance(root)
    return ours, theirs


def test_a_file_replaced_after_the_check_is_not_restored(settings: Settings, two_backups: tuple[Path, Path]) -> None:
    ours, theirs = two_backups
    plan = plan_restore(settings, ours)
    os.replace(theirs, ours)  # same name, another file
    before = snapshot(settings.instance_root)
    with pytest.raises(RestoreError, match="replaced or changed after it was checked"):
        restore_backup(settings, plan)
    assert snapshot(settings.instance_root) == before


def test_a_file_rewritten_in_place_after_the_check_is_not_restored(settings: Settings,
                                                                   two_backups: tuple[Path, Path]) -> None:
    ours, theirs = two_backups
    plan = plan_restore(settings, ours)
    with open(ours, "r+b") as fh:  # same inode, other bytes
        fh.truncate(0)
        fh.write(theirs.read_bytes())
    before = snapshot(settings.instance_root)
    with pytest.raises(RestoreError, match="replaced or changed after it was checked"):
        restore_backup(settings, plan)
    assert snapshot(settings.instance_root) == before


def test_the_checked_plan_restores(settings: Settings, two_backups: tuple[Path, Path]) -> None:
    ours, _ = two_backups
    result = restore_backup(settings, plan_restore(settings, ours))
    assert result.info.name == "ours" and json.loads((settings.instance_root / "instance.json").read_text())[
        "hub_id"] == "3fa2c1"


def test_command_line_restores_what_it_showed(settings: Settings, config_file: Path,
                                              two_backups: tuple[Path, Path]) -> None:
    ours, theirs = two_backups
    before = snapshot(settings.instance_root)
    master, slave = os.openpty()
    proc = subprocess.Popen([sys.executable, "-m", "mftui", "--config", str(config_file), "restore", str(ours),
                             "--no-reboot"], stdin=slave, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        asked = b""
        deadline = time.monotonic() + 60
        while b"[y/N]" not in asked and time.monotonic() < deadline:
            ready, _, _ = select.select([proc.stderr], [], [], 1)
            if ready:
                asked += os.read(proc.stderr.fileno(), 4096)  # type: ignore[union-attr]
        assert b"[y/N]" in asked, asked
        os.replace(theirs, ours)  # while the technician reads the question
        os.write(master, b"y\n")
        out, err = proc.communicate(timeout=60)
    finally:
        os.close(slave)
        os.close(master)
    assert proc.returncode == 1, (out, err)
    assert b"replaced or changed after it was checked" in err
    assert snapshot(settings.instance_root) == before
