"""A kill -9 at every step of a prune leaves every backup whole or gone, and the next prune finishes the job.

The child is a real process killed with SIGKILL through retention.step_hook (after each rename to the
hidden name and after each unlink); the next prune is the real `mftui prune` command.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import signal
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from mftui.archive.writer import create_backup
from mftui.settings import Settings

CHILD = """
import json, os, signal, sys
from pathlib import Path
from mftui.history import retention
from mftui.retention_settings import RetentionSettings
from mftui.settings import Settings
a = json.loads(sys.argv[1])
s = Settings(instance_root=Path(a["root"]), backups_dir=Path(a["backups"]),
             retention=RetentionSettings(keep_last=1))
seen = []
def hook(step):
    seen.append(step)
    if len(seen) == a["kill_at"]:
        os.kill(os.getpid(), signal.SIGKILL)
retention.step_hook = hook
retention.prune(s)
print(json.dumps(seen))
"""
BACKUPS = 4  # the newest is kept: three removals, two steps each


def digests(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in folder.iterdir() if p.is_file()}


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A backups folder of four real backups, made a day apart."""
    from mftui.demo import write_demo_tree

    base = tmp_path_factory.mktemp("template")
    root = base / "site" / "mobiusflow"
    root.mkdir(parents=True)
    write_demo_tree(root)
    settings = Settings(instance_root=root, backups_dir=base / "backups")
    for n in range(BACKUPS):
        create_backup(settings, f"b{n}", now=datetime(2026, 11, 1, tzinfo=UTC) + timedelta(days=n))
    return base


@pytest.mark.parametrize("kill_at", range(1, 2 * (BACKUPS - 1) + 1))
def test_kill_at_every_step_leaves_each_backup_whole_or_gone(template: Path, tmp_path: Path, kill_at: int) -> None:
    run = tmp_path / "run"
    shutil.copytree(template, run, symlinks=True)
    root, backups = run / "site" / "mobiusflow", run / "backups"
    before = digests(backups)
    newest = max(before)  # b3_...: names sort by the time appended
    arg = json.dumps({"root": str(root), "backups": str(backups), "kill_at": kill_at})
    proc = subprocess.run([sys.executable, "-c", CHILD, arg], capture_output=True, text=True, timeout=60)
    assert proc.returncode == -signal.SIGKILL, proc.stderr
    after = digests(backups)
    for name, digest in after.items():  # whole: under its name or the hidden one, the same bytes
        assert digest == before[name.removeprefix(".deleting-")], name
    visible = {n for n in after if not n.startswith(".")}
    assert newest in visible
    assert len(visible) == BACKUPS - (kill_at + 1) // 2  # each rename takes one out of the list

    config = run / "config.toml"
    config.write_text(f'[instance]\nroot = "{root}"\n[backups]\ndir = "{backups}"\n[reboot]\nbackend = "demo"\n'
                      "[retention]\nkeep_last = 1\n")
    again = subprocess.run([sys.executable, "-m", "mftui", "--config", str(config), "prune", "--json"],
                           capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)
    assert again.returncode == 0, again.stderr
    assert json.loads(again.stdout)["ok"] is True
    assert digests(backups) == {newest: before[newest]}  # the hidden leftover is gone too


def test_the_child_without_a_kill_sees_every_step(template: Path, tmp_path: Path) -> None:
    run = tmp_path / "run"
    shutil.copytree(template, run, symlinks=True)
    arg = json.dumps({"root": str(run / "site" / "mobiusflow"), "backups": str(run / "backups"), "kill_at": 0})
    proc = subprocess.run([sys.executable, "-c", CHILD, arg], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    steps = json.loads(proc.stdout)
    assert len(steps) == 2 * (BACKUPS - 1) and steps[0].startswith("renamed b0_") and steps[1].startswith("removed b0_")
