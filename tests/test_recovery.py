"""Crash safety: a restore killed (SIGKILL, real child processes) at every step of phase two, a
recovery killed at every one of its steps, and ENOSPC / EIO at every write of phase one.

After each, recovery runs and the instance must be byte-for-byte the old tree or the new one
(every file, its bytes and mode, every folder, logs and caches included): never a mix, never missing.
"""

from __future__ import annotations

import errno
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

import pytest
from test_restore import change_instance
from trees import snapshot

from mftui.archive import extract
from mftui.archive.writer import create_backup
from mftui.demo import write_demo_tree
from mftui.errors import RestoreError
from mftui.restore import recover, restore_backup
from mftui.restore.journal import PREPARED, read_journal
from mftui.settings import Settings

CHILD = """
import json, os, signal, sys
from pathlib import Path
from mftui.restore import fsops, recover, restore_backup, steps
from mftui.settings import Settings
a = json.loads(sys.argv[1])
s = Settings(instance_root=Path(a["root"]), backups_dir=Path(a["backups"]))
fsops.force_renames = a["renames"]
seen = []
def hook(step):
    seen.append(step)
    if len(seen) == a["kill_at"]:
        os.kill(os.getpid(), signal.SIGKILL)
steps.step_hook = hook
if a["what"] == "restore":
    restore_backup(s, Path(a["archive"]))
else:
    recover(s)
print(json.dumps(seen))
"""

SWAP_STEPS = ("exchanged", "old-aside")  # the first step after which the new tree is (to be) live


@dataclass
class Scenario:
    tmp: Path
    template: Path  # the old instance (changed since the backup)
    archive: Path
    old: dict[str, Any]
    new: dict[str, Any]
    runs: int = 0

    def fresh(self) -> Settings:
        """A new copy of the old instance, in its own folder (its own state dir)."""
        self.runs += 1
        root = self.tmp / f"run{self.runs}" / "site" / "mobiusflow"
        shutil.copytree(self.template, root, symlinks=True)
        return Settings(instance_root=root, backups_dir=self.tmp / f"run{self.runs}" / "backups")

    def child(self, settings: Settings, what: str, kill_at: int, renames: bool = False) -> tuple[int, list[str]]:
        arg = json.dumps({"root": str(settings.instance_root), "backups": str(settings.backups_dir),
                          "archive": str(self.archive), "what": what, "kill_at": kill_at, "renames": renames})
        proc = subprocess.run([sys.executable, "-c", CHILD, arg], capture_output=True, text=True, timeout=120)
        steps = json.loads(proc.stdout) if proc.returncode == 0 else []
        assert proc.returncode in (0, -signal.SIGKILL), proc.stderr
        return proc.returncode, steps


@pytest.fixture(scope="module")
def scenario(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Scenario]:
    tmp = tmp_path_factory.mktemp("recovery")
    template = tmp / "template" / "site" / "mobiusflow"
    template.mkdir(parents=True)
    write_demo_tree(template)
    settings = Settings(instance_root=template, backups_dir=tmp / "backups")
    archive = create_backup(settings, "target").path
    change_instance(template)
    (template / "plugins" / "v2").mkdir(parents=True)  # folders the backup lacks: rebuilt in the new tree
    shutil.rmtree(settings.state_dir)
    sc = Scenario(tmp, template, archive, snapshot(template), {})
    reference = sc.fresh()
    restore_backup(reference, archive)
    sc.new = snapshot(reference.instance_root)
    assert sc.new != sc.old
    yield sc


def assert_consistent(sc: Scenario, settings: Settings, expect: str) -> None:
    state = settings.state_dir
    now = snapshot(settings.instance_root)
    assert now == (sc.old if expect == "old" else sc.new), f"instance is not exactly the {expect} tree"
    assert not [n for n in os.listdir(state) if n.startswith("staging-") or n == "aside"]
    journal = read_journal(state)
    assert journal is None or journal.state != PREPARED
    assert recover(settings) is None  # idempotent: nothing left to do


@pytest.mark.parametrize("renames", [False, True], ids=["exchange", "renames"])
def test_kill_at_every_step_of_phase_two_then_recover(scenario: Scenario, renames: bool) -> None:
    code, steps = scenario.child(scenario.fresh(), "restore", 0, renames)
    assert code == 0
    swap = next(i for i, s in enumerate(steps, 1) if s in SWAP_STEPS)
    assert {"safety-backup", "journal-prepared", "folder", "carried", "old-is-previous", "committed"} <= set(steps)
    for n in range(1, len(steps) + 1):
        settings = scenario.fresh()
        code, _ = scenario.child(settings, "restore", n, renames)
        assert code == -signal.SIGKILL
        message = recover(settings)
        expect = "old" if n < swap else "new"
        if steps[n - 1] in ("journal-prepared",) or (n < swap and steps[n - 1] == "staged"):
            assert message and ("rolled back" in message or "unpacking" in message), message
        if swap <= n < len(steps):
            assert message and "finished" in message, (steps[n - 1], message)
        assert_consistent(scenario, settings, expect)
        if expect == "new":
            assert snapshot(settings.state_dir / "previous") != {}  # the old tree is kept


def test_kill_recovery_itself_at_every_step(scenario: Scenario) -> None:
    """A power cut during recovery: the next recovery still ends at old or new."""
    code, steps = scenario.child(scenario.fresh(), "restore", 0)
    swap = next(i for i, s in enumerate(steps, 1) if s in SWAP_STEPS)
    start = steps.index("journal-prepared") + 1
    for n in range(start, len(steps)):  # every crash that leaves recovery real work
        expect = "old" if n < swap else "new"
        m = 1
        while True:
            settings = scenario.fresh()
            assert scenario.child(settings, "restore", n)[0] == -signal.SIGKILL
            code, _ = scenario.child(settings, "recover", m)
            recover(settings)
            assert_consistent(scenario, settings, expect)
            if code == 0:
                break  # recovery ran to the end without reaching step m
            m += 1
        assert m > 1


def test_recovery_says_what_it_did_at_the_next_start(scenario: Scenario) -> None:
    settings = scenario.fresh()
    _, steps = scenario.child(scenario.fresh(), "restore", 0)
    scenario.child(settings, "restore", steps.index("exchanged") + 1)
    cfg = settings.instance_root.parent / "config.toml"
    cfg.write_text(f'[instance]\nroot = "{settings.instance_root}"\n[backups]\ndir = "{settings.backups_dir}"\n')
    proc = subprocess.run([sys.executable, "-m", "mftui", "--config", str(cfg), "list"], capture_output=True,
                          text=True, timeout=60)
    assert proc.returncode == 0
    assert "was interrupted after the new configuration was in place; it was finished" in proc.stderr
    assert snapshot(settings.instance_root) == scenario.new


def test_a_phase_one_crash_leaves_only_staging_which_recovery_removes(scenario: Scenario) -> None:
    settings = scenario.fresh()
    _, steps = scenario.child(scenario.fresh(), "restore", 0)
    scenario.child(settings, "restore", steps.index("staged") + 1)
    assert [n for n in os.listdir(settings.state_dir) if n.startswith("staging-")]
    message = recover(settings)
    assert message and "unpacking" in message and "unchanged" in message
    assert_consistent(scenario, settings, "old")


def test_damaged_journal_is_reported_not_guessed(scenario: Scenario) -> None:
    settings = scenario.fresh()
    settings.state_dir.mkdir()
    (settings.state_dir / "restore-journal.json").write_text("{ half a journ")
    with pytest.raises(RestoreError, match="journal .* is damaged"):
        recover(settings)
    assert snapshot(settings.instance_root) == scenario.old


# --- ENOSPC and EIO at every write of phase one ---------------------------------------------


class Fault:
    """extract.fault_hook that fails the n-th write with an errno (0: only count)."""

    def __init__(self, n: int, err: int) -> None:
        self.n, self.err, self.calls = n, err, 0
        self.where = ""

    def __call__(self, what: str) -> None:
        self.calls += 1
        if self.calls == self.n:
            self.where = what
            raise OSError(self.err, os.strerror(self.err))


@pytest.mark.parametrize("err", [errno.ENOSPC, errno.EIO], ids=["ENOSPC", "EIO"])
def test_write_error_at_every_write_of_phase_one(scenario: Scenario, err: int, monkeypatch: pytest.MonkeyPatch
                                                 ) -> None:
    counter = Fault(0, err)
    monkeypatch.setattr(extract, "fault_hook", counter)
    restore_backup(scenario.fresh(), scenario.archive)
    total = counter.calls
    assert total > 40  # mkdir, open, write, chmod for every file and folder
    kinds = set()
    for n in range(1, total + 1):
        settings = scenario.fresh()
        fault = Fault(n, err)
        monkeypatch.setattr(extract, "fault_hook", fault)
        with pytest.raises(RestoreError) as raised:
            restore_backup(settings, scenario.archive)
        kinds.add(fault.where.split()[0])
        text = str(raised.value)
        assert ("full" if err == errno.ENOSPC else "I/O error") in text and "nothing was changed" in text
        assert fault.where.split(" ", 1)[1].rstrip("/") in text or fault.where.startswith("chmod")
        assert snapshot(settings.instance_root) == scenario.old
        # no staging, no journal (audit.log: the failed restore is logged, history/audit.py)
        assert sorted(set(os.listdir(settings.state_dir)) - {"audit.log"}) == ["lock"]
        assert not settings.backups_dir.exists() or not os.listdir(settings.backups_dir)
    assert {"mkdir", "open", "write", "chmod"} <= kinds  # and chown, as root


def test_killed_between_the_two_renames_recovers_through_the_real_command_line(scenario: Scenario) -> None:
    """No RENAME_EXCHANGE, killed after the old tree went aside: there is no instance root at all.

    The settings loader insists that [instance] root exists; recovery must run before that
    check, or the unit could never get its configuration back (every command would stop there).
    """
    settings = scenario.fresh()
    _, steps = scenario.child(scenario.fresh(), "restore", 0, renames=True)
    code, _ = scenario.child(settings, "restore", steps.index("old-aside") + 1, renames=True)
    assert code == -signal.SIGKILL and not settings.instance_root.exists()
    config = settings.instance_root.parent.parent / "config.toml"
    config.write_text(f'[instance]\nroot = "{settings.instance_root}"\n[backups]\ndir = "{settings.backups_dir}"\n')
    proc = subprocess.run([sys.executable, "-m", "mftui", "--config", str(config), "list"],
                          capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL)
    assert proc.returncode == 0, proc.stderr
    assert "it was finished: the configuration is the restored one" in proc.stderr
    assert_consistent(scenario, settings, "new")


def test_a_restore_killed_while_staging_keeps_the_previous_configuration(scenario: Scenario) -> None:
    """The undo point of the last restore survives a restore killed before it committed."""
    from mftui.restore import fsops

    settings = scenario.fresh()
    assert scenario.child(settings, "restore", 0)[0] == 0  # a first restore: now there is a previous tree
    prev = settings.state_dir / "previous"
    kept = (fsops.identity(prev), snapshot(prev))
    _, steps = scenario.child(scenario.fresh(), "restore", 0)
    for step in ("safety-backup", "staged", "journal-prepared"):
        code, _ = scenario.child(settings, "restore", steps.index(step) + 1)
        assert code == -signal.SIGKILL
        recover(settings)
        assert (fsops.identity(prev), snapshot(prev)) == kept, step
