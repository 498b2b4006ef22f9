"""Durability: a power cut at every step of a restore, on a real ext4 filesystem.

A SIGKILL keeps the page cache, so it cannot tell a restore that syncs from
one that does not. Here the instance lives on an ext4 image mounted through a
loop device (``commit=600,noauto_da_alloc``: no journal commit and no
rename-triggered flush except the ones mftui asks for). At each step the
restore is paused and the image file is copied: the copy holds exactly what
reached the "disk" (what the kernel wrote back or mftui synced), not what sat
in the page cache, which is what a power cut leaves. The copy is mounted in
place of the original (ext4 replays its journal, as at boot), recovery runs,
and the instance must be exactly the old tree or the new one.

Without the staging ``syncfs`` or the journal's ``fsync`` this test fails
(checked by hand when it was written). Without the parents' ``fsync`` after
the swap, or the ``syncfs`` after the carry-over, it still passes on ext4:
its one journal makes the next ``fsync`` durable for every earlier change,
so those two guard filesystems that order less, and this test cannot see them.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
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
from mftui.restore import recover, restore_backup
from mftui.settings import Settings

CHILD = """
import json, os, sys, time
from pathlib import Path
from mftui.restore import restore_backup, steps
from mftui.settings import Settings
a = json.loads(sys.argv[1])
s = Settings(instance_root=Path(a["root"]), backups_dir=Path(a["backups"]))
seen = []
def hook(step):
    seen.append(step)
    if len(seen) == a["pause_at"]:
        print("PAUSED", flush=True)
        time.sleep(600)
steps.step_hook = hook
restore_backup(s, Path(a["archive"]))
print(json.dumps(seen), flush=True)
"""


@dataclass
class Disk:
    image: Path  # the loop-mounted ext4 image
    pristine: Path  # a copy of it with the old instance, synced
    mnt: Path
    root: Path
    backups: Path
    archive: Path
    old: dict[str, Any]
    new: dict[str, Any]

    def mount(self, image: Path) -> None:
        loopdisk.mount(image, self.mnt)

    def umount(self) -> None:
        loopdisk.umount(self.mnt)

    def settings(self) -> Settings:
        return Settings(instance_root=self.root, backups_dir=self.backups)

    def child(self, pause_at: int) -> subprocess.Popen[str]:
        arg = json.dumps({"root": str(self.root), "backups": str(self.backups), "archive": str(self.archive),
                          "pause_at": pause_at})
        return subprocess.Popen([sys.executable, "-c", CHILD, arg], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                text=True)


@pytest.fixture(scope="module")
def disk(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Disk]:
    tmp = tmp_path_factory.mktemp("power")
    image, mnt = tmp / "disk.img", tmp / "mnt"
    loopdisk.new_ext4(image, mnt)
    d = Disk(image, tmp / "pristine.img", mnt, mnt / "site" / "mobiusflow", tmp / "backups", Path(), {}, {})
    try:
        d.root.mkdir(parents=True)
        write_demo_tree(d.root)
        d.archive = create_backup(d.settings(), "target").path
        change_instance(d.root)
        shutil.rmtree(d.settings().state_dir)
        d.old = snapshot(d.root)
        os.sync()
        d.umount()
        shutil.copyfile(image, d.pristine)
        # The new tree, by a restore that runs to the end.
        d.mount(image)
        restore_backup(d.settings(), d.archive)
        d.new = snapshot(d.root)
        d.umount()
        yield d
    finally:
        subprocess.run(["umount", str(mnt)], capture_output=True)


def _power_cut_at(d: Disk, step: int) -> str:
    """Restore from the pristine disk, pause at ``step``, keep only what is on the disk; what recovery said."""
    shutil.copyfile(d.pristine, d.image)
    d.mount(d.image)
    child = d.child(step)
    try:
        line = child.stdout.readline()  # type: ignore[union-attr]
        assert line.strip() == "PAUSED", (line, child.stderr.read())  # type: ignore[union-attr]
        cut = d.image.with_name("cut.img")
        shutil.copyfile(d.image, cut)  # what reached the disk, not the page cache
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait()
    d.umount()
    d.mount(cut)  # at the same path: the journal names the trees by absolute path
    return recover(d.settings()) or ""


def test_power_cut_at_every_step_leaves_the_old_or_the_new_tree(disk: Disk) -> None:
    shutil.copyfile(disk.pristine, disk.image)
    disk.mount(disk.image)
    child = disk.child(0)
    out, err = child.communicate(timeout=120)
    disk.umount()
    assert child.returncode == 0, err
    steps: list[str] = json.loads(out.strip().splitlines()[-1])
    committed = steps.index("committed") + 1
    prepared = steps.index("journal-prepared") + 1
    outcomes = []
    for n in range(1, len(steps) + 1):
        said = _power_cut_at(disk, n)
        try:
            now = snapshot(disk.root)
            assert now in (disk.old, disk.new), f"power cut after step {n} ({steps[n - 1]}): a mixed tree ({said})"
            if n >= committed:
                assert now == disk.new, f"power cut after {steps[n - 1]}: a committed restore was lost"
            if n < prepared:
                assert now == disk.old, f"power cut after {steps[n - 1]}: changed before the journal"
            assert recover(disk.settings()) is None
            outcomes.append((steps[n - 1], "new" if now == disk.new else "old"))
        finally:
            disk.umount()
    assert ("committed", "new") in outcomes
