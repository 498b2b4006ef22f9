"""Partial archives left by a killed backup are removed by the next one, and only those.

The writer names its temporary archive ``.partial-<pid>-<random>.zip``; at the
start of a backup (under the instance lock) a partial whose process is gone,
or that is older than a day, is removed. A partial of a live process may be
another backup writing right now, and is kept.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from children import killed_at

from mftui.archive.partials import STALE_PARTIAL_SECONDS, remove_stale_partials
from mftui.archive.writer import create_backup
from mftui.restore import restore_backup
from mftui.restore import steps as restore_steps
from mftui.settings import Settings, load_settings

# Runs in a child: a backup (or a restore's safety archive) that stops, forever, half-way through
# writing its archive, after saying where it is.
CHILD = """
import sys, time
from mftui.archive import packer, writer
from mftui.settings import load_settings

real = packer.Packer._record

def record(self, cf, sha):
    real(self, cf, sha)
    if len(self.entries) == 3:
        self.zs._out.flush()
        print("writing", flush=True)
        time.sleep(600)

packer.Packer._record = record
settings = load_settings(sys.argv[1])
if sys.argv[2] == "backup":
    writer.create_backup(settings, "killed")
else:
    from mftui.restore import restore_backup
    restore_backup(settings, sys.argv[3])
"""


def kill_while_writing(config_file: Path, backups: Path, *args: str) -> Path:
    """Start a child that writes an archive, SIGKILL it mid-write; the partial it leaves behind."""
    with killed_at(CHILD, str(config_file), *args, word="writing") as proc:
        partials = list(backups.glob(f".partial-{proc.pid}-*.zip"))
        assert len(partials) == 1, list(backups.iterdir())
        assert partials[0].stat().st_size > 0
    assert partials[0].exists()  # a kill leaves it behind
    return partials[0]


def test_a_killed_backup_leaves_a_partial_that_the_next_backup_removes(config_file: Path, tmp_path: Path) -> None:
    backups = tmp_path / "backups"
    partial = kill_while_writing(config_file, backups, "backup")
    assert [p.name for p in backups.iterdir()] == [partial.name]  # no archive under a backup's name
    made = create_backup(load_settings(config_file), "next")
    assert not partial.exists()
    assert [p.name for p in backups.iterdir()] == [made.path.name]


def test_a_killed_safety_archive_is_removed_by_the_next_restore(config_file: Path, tmp_path: Path) -> None:
    settings = load_settings(config_file)
    good = create_backup(settings, "good").path
    backups = tmp_path / "backups"
    partial = kill_while_writing(config_file, backups, "restore", str(good))
    assert "pre-restore" not in " ".join(p.name for p in backups.glob("*.zip"))
    restore_steps.step_hook = None
    result = restore_backup(settings, good)  # recovery first, then a safety archive that cleans up
    assert result.safety_archive is not None and result.safety_archive.exists()
    assert not partial.exists()
    assert not list(backups.glob(".partial-*"))


def test_partials_of_live_processes_are_kept(settings: Settings) -> None:
    """A partial of a running process (another backup writing now) is not touched; a dead one's is."""
    folder = settings.backups_dir
    folder.mkdir(parents=True)
    mine = folder / f".partial-{os.getpid()}-abc123.zip"
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        theirs = folder / f".partial-{sleeper.pid}-x_y9.zip"
        for p in (mine, theirs):
            p.write_bytes(b"PK\x03\x04 being written")
        dead = subprocess.Popen([sys.executable, "-c", "pass"])
        dead.wait()
        gone = folder / f".partial-{dead.pid}-zz.zip"
        gone.write_bytes(b"PK\x03\x04 left behind")
        assert remove_stale_partials(folder) == [gone.name]
        create_backup(settings, "beside")
        assert mine.exists() and theirs.exists() and not gone.exists()
    finally:
        sleeper.kill()
        sleeper.wait()


def test_old_partials_are_removed_whatever_their_name(settings: Settings) -> None:
    folder = settings.backups_dir
    folder.mkdir(parents=True)
    legacy_old = folder / ".partial-k2j3h4l5.zip"  # named by an older mftui: no pid
    legacy_new = folder / ".partial-q9w8e7r6.zip"
    reused = folder / f".partial-{os.getppid()}-abcd.zip"  # a live pid, but a day old: reused
    not_ours = folder / ".partial-notes.txt"
    link = folder / ".partial-999999999-link.zip"
    for p in (legacy_old, legacy_new, reused, not_ours):
        p.write_bytes(b"x")
    target = folder / "elsewhere.bin"
    target.write_bytes(b"keep me")
    link.symlink_to(target)
    day_ago = time.time() - STALE_PARTIAL_SECONDS - 60
    for p in (legacy_old, reused, not_ours):
        os.utime(p, (day_ago, day_ago))
    removed = remove_stale_partials(folder)
    assert sorted(removed) == sorted([legacy_old.name, reused.name])
    assert legacy_new.exists() and not_ours.exists() and link.is_symlink() and target.read_bytes() == b"keep me"


@pytest.mark.parametrize("name", ["backup", "pre-restore"])
def test_partials_are_named_after_the_writer(settings: Settings, name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """The name carries the pid, and no archive is listed or named before it is complete."""
    from mftui.archive import writer

    seen: list[str] = []
    real = writer.ZipStream.close

    def close(self: writer.ZipStream) -> None:
        seen.extend(p.name for p in settings.backups_dir.iterdir())
        real(self)

    monkeypatch.setattr(writer.ZipStream, "close", close)
    create_backup(settings, name)
    assert len(seen) == 1 and seen[0].startswith(f".partial-{os.getpid()}-") and seen[0].endswith(".zip")
