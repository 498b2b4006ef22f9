"""Durability of trials: a power cut at every step of a trial restore, and of its put back, on a real ext4.

The method of test_power_cut.py (a loop-mounted ext4 image, ``commit=600,noauto_da_alloc``; the process
paused after each step and the image copied: what reached the disk, not the page cache), applied to the
trial record: after the cut and the next start, the instance is exactly one of the two trees and the record
agrees with it (the old tree: not on trial; the trial's: on trial; put back: reverted).
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import loopdisk
import pytest
from test_restore import change_instance
from trees import snapshot

from mftui.archive.writer import create_backup
from mftui.demo import write_demo_tree
from mftui.restore import recover, restore_backup, trial_status
from mftui.settings import Settings

RESTORE = """
import sys, time
from pathlib import Path
from mftui.restore import restore_backup, steps
from mftui.settings import Settings
seen = []
def hook(step):
    seen.append(step)
    print("STEP", step, flush=True)
    if len(seen) == int(sys.argv[4]):
        print("PAUSED", flush=True)
        time.sleep(600)
steps.step_hook = hook
restore_backup(Settings(instance_root=Path(sys.argv[1]), backups_dir=Path(sys.argv[2])), Path(sys.argv[3]),
               trial=60.0)
"""

WATCH = """
import sys, time
from mftui import cli
from mftui.restore import steps
seen = []
def hook(step):
    seen.append(step)
    print("STEP", step, flush=True)
    if len(seen) == int(sys.argv[2]):
        print("PAUSED", flush=True)
        time.sleep(600)
steps.step_hook = hook
sys.exit(cli.main(["--config", sys.argv[1], "watch"]))
"""


@dataclass
class Disk:
    image: Path
    pristine: Path  # the old instance, before the trial restore
    on_trial: Path  # the instance on a 1 s trial whose time has run out
    mnt: Path
    root: Path
    backups: Path
    config: Path
    archive: Path
    old: dict[str, Any]
    new: dict[str, Any]

    def mount(self, image: Path) -> None:
        loopdisk.mount(image, self.mnt)

    def umount(self) -> None:
        loopdisk.umount(self.mnt)

    def settings(self) -> Settings:
        return Settings(instance_root=self.root, backups_dir=self.backups)

    def cut_at(self, start: Path, argv: list[str], step: int) -> list[str]:
        """From ``start``, run the child until it pauses after ``step`` (0: to the end); mount what reached
        the disk. The steps it printed."""
        shutil.copyfile(start, self.image)
        self.mount(self.image)
        child = subprocess.Popen([sys.executable, "-c", *argv, str(step)], stdout=subprocess.PIPE,
                                 stderr=subprocess.PIPE, text=True)
        steps = []
        try:
            for line in child.stdout:  # type: ignore[union-attr]
                if line.startswith("STEP "):
                    steps.append(line[5:].strip())
                elif line.strip() == "PAUSED":
                    break
            cut = self.image.with_name("cut.img")
            if step:
                shutil.copyfile(self.image, cut)  # what reached the disk, not the page cache
        finally:
            child.send_signal(signal.SIGKILL)
            child.wait()
        self.umount()
        if step:
            self.mount(cut)  # at the same path
        return steps


@pytest.fixture(scope="module")
def disk(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Disk]:
    tmp = tmp_path_factory.mktemp("trialpower")
    image, mnt = tmp / "disk.img", tmp / "mnt"
    loopdisk.new_ext4(image, mnt)
    root = mnt / "site" / "mobiusflow"
    config = tmp / "c.toml"
    config.write_text(f'[instance]\nroot = "{root}"\n[backups]\ndir = "{tmp / "backups"}"\n')
    d = Disk(image, tmp / "pristine.img", tmp / "on-trial.img", mnt, root, tmp / "backups", config, Path(), {}, {})
    try:
        root.mkdir(parents=True)
        write_demo_tree(root)
        d.archive = create_backup(d.settings(), "target").path
        change_instance(root)
        shutil.rmtree(d.settings().state_dir)
        d.old = snapshot(root)
        os.sync()
        d.umount()
        shutil.copyfile(image, d.pristine)
        d.mount(image)
        restore_backup(d.settings(), d.archive, trial=1.0)
        d.new = snapshot(root)
        os.sync()
        d.umount()
        shutil.copyfile(image, d.on_trial)
        time.sleep(1.1)  # its time has run out: a watcher puts it back at once
        yield d
    finally:
        subprocess.run(["umount", str(mnt)], capture_output=True)


def test_power_cut_at_every_step_of_a_trial_restore(disk: Disk) -> None:
    argv = [RESTORE, str(disk.root), str(disk.backups), str(disk.archive)]
    steps = disk.cut_at(disk.pristine, argv, 0)
    committed = steps.index("committed") + 1
    seen = set()
    for n in range(1, len(steps) + 1):
        disk.cut_at(disk.pristine, argv, n)
        try:
            recover(disk.settings())
            now, state = snapshot(disk.root), trial_status(disk.settings()).state
            assert (now, state) in ((disk.old, "normal"), (disk.new, "on-trial")), f"cut after {steps[n - 1]}"
            if n >= committed:
                assert state == "on-trial", f"cut after {steps[n - 1]}: a committed trial was lost"
            seen.add(state)
        finally:
            disk.umount()
    assert seen == {"normal", "on-trial"}


def test_power_cut_at_every_step_of_a_put_back(disk: Disk) -> None:
    argv = [WATCH, str(disk.config)]
    steps = disk.cut_at(disk.on_trial, argv, 0)
    reverted = steps.index("trial-reverted") + 1
    seen = set()
    for n in range(1, len(steps) + 1):
        disk.cut_at(disk.on_trial, argv, n)
        try:
            recover(disk.settings())
            now, status = snapshot(disk.root), trial_status(disk.settings())
            assert (now, status.state) in ((disk.new, "on-trial"), (disk.old, "reverted")), f"cut after {steps[n - 1]}"
            if n >= reverted:
                assert status.state == "reverted", f"cut after {steps[n - 1]}: a finished put back was lost"
            seen.add(status.state)
        finally:
            disk.umount()
    assert seen == {"on-trial", "reverted"}
