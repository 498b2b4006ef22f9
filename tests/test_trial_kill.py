"""`mftui watch` killed (SIGKILL, a real child process running the real command line) at every step of
putting a trial back; then the next start (`mftui status`, a real process) must find exactly one of the two
configurations, byte for byte, and a record saying which and why. Killed twice, it stops: never a loop.
"""

from __future__ import annotations

import json
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from test_restore import change_instance
from trees import snapshot

from mftui.archive.writer import create_backup
from mftui.demo import write_demo_tree
from mftui.restore import restore_backup
from mftui.settings import Settings

CHILD = """
import os, signal, sys
from mftui import cli
from mftui.restore import steps
seen = []
def hook(step):
    seen.append(step)
    print("STEP", step, flush=True)
    if step == sys.argv[2] or (sys.argv[2].isdigit() and len(seen) == int(sys.argv[2])):
        os.kill(os.getpid(), signal.SIGKILL)
steps.step_hook = hook
sys.exit(cli.main(["--config", sys.argv[1], "watch"]))
"""


@dataclass
class Scenario:
    tmp: Path
    template: Path
    archive: Path
    old: dict[str, Any]  # the configuration before the trial
    new: dict[str, Any]  # the trial's
    runs: int = 0

    def fresh(self) -> tuple[Settings, Path]:
        """A copy of the instance, restored on a 1 s trial whose time has run out."""
        self.runs += 1
        base = self.tmp / f"run{self.runs}"
        root = base / "site" / "mobiusflow"
        shutil.copytree(self.template, root, symlinks=True)
        settings = Settings(instance_root=root, backups_dir=base / "backups")
        restore_backup(settings, self.archive, trial=1.0)
        cfg = base / "c.toml"
        cfg.write_text(f'[instance]\nroot = "{root}"\n[backups]\ndir = "{base / "backups"}"\n'
                       '[reboot]\nbackend = "demo"\n')
        return settings, cfg

    def watch(self, cfg: Path, kill_at: int | str) -> tuple[int, list[str]]:
        proc = subprocess.run([sys.executable, "-c", CHILD, str(cfg), str(kill_at)], capture_output=True,
                              text=True, timeout=60)
        assert proc.returncode in (0, -signal.SIGKILL), proc.stderr
        return proc.returncode, [ln[5:] for ln in proc.stdout.splitlines() if ln.startswith("STEP ")]


def mftui(cfg: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "mftui", "--config", str(cfg), *args], capture_output=True,
                          text=True, timeout=60, stdin=subprocess.DEVNULL)


@pytest.fixture(scope="module")
def scenario(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Scenario]:
    tmp = tmp_path_factory.mktemp("trialkill")
    template = tmp / "template" / "site" / "mobiusflow"
    template.mkdir(parents=True)
    write_demo_tree(template)
    settings = Settings(instance_root=template, backups_dir=tmp / "backups")
    archive = create_backup(settings, "target").path
    change_instance(template)
    shutil.rmtree(settings.state_dir)
    sc = Scenario(tmp, template, archive, snapshot(template), {})
    reference, _cfg = sc.fresh()
    sc.new = snapshot(reference.instance_root)
    assert sc.new != sc.old
    time.sleep(1.1)  # every fresh() trial of 1 s has run out by the time its watcher starts
    yield sc


def next_start(settings: Settings, cfg: Path) -> dict[str, Any]:
    proc = mftui(cfg, "status", "--json")
    assert proc.returncode == 0, proc.stderr
    data: dict[str, Any] = json.loads(proc.stdout)
    assert not [n for n in settings.state_dir.iterdir() if n.name.startswith("staging-") or n.name == "aside"]
    return data


def test_kill_watch_at_every_step_of_a_put_back(scenario: Scenario) -> None:
    settings, cfg = scenario.fresh()
    time.sleep(1.1)
    code, steps = scenario.watch(cfg, 0)
    assert code == 0
    assert "trial-reverting" in steps and steps[-2:] == ["trial-reverted", "trial-reboot-requested"]
    assert {"journal-prepared", "committed"} <= set(steps)
    assert snapshot(settings.instance_root) == scenario.old
    outcomes = set()
    for n in range(1, len(steps) + 1):
        settings, cfg = scenario.fresh()
        time.sleep(1.1)
        code, _ = scenario.watch(cfg, n)
        assert code == -signal.SIGKILL, steps[n - 1]
        status = next_start(settings, cfg)
        now = snapshot(settings.instance_root)
        if status["state"] == "reverted":
            assert now == scenario.old, f"killed after {steps[n - 1]}: reverted, but not the old tree"
            assert status["reason"] and "ran out" in status["reason"]
        else:
            assert status["state"] == "on-trial", (steps[n - 1], status)
            assert now == scenario.new, f"killed after {steps[n - 1]}: on trial, but not the trial's tree"
            if status["attempts"]:  # killed after "reverting" was recorded: the record says what happened
                assert "interrupted before it changed anything" in status["note"]
        outcomes.add(status["state"])
        # The watcher started again finishes the job: the old configuration, one reboot request at most.
        code, _ = scenario.watch(cfg, 0)
        assert code == 0
        final = next_start(settings, cfg)
        assert final["state"] == "reverted" and snapshot(settings.instance_root) == scenario.old
        reboots = (settings.state_dir / "reboot-requests.jsonl").read_text().splitlines()
        assert len(reboots) == 1  # the put back asks once (the restore here was the core: it never asks)
    assert outcomes == {"reverted", "on-trial"}


def test_killed_twice_it_stops_with_a_record(scenario: Scenario) -> None:
    settings, cfg = scenario.fresh()
    time.sleep(1.1)
    for _ in range(2):
        code, _ = scenario.watch(cfg, "trial-reverting")  # killed right after "reverting" was recorded
        assert code == -signal.SIGKILL
    status = next_start(settings, cfg)
    assert status["state"] == "revert-failed" and status["attempts"] == 2
    assert "interrupted 2 times" in status["note"] and snapshot(settings.instance_root) == scenario.new
    proc = mftui(cfg, "watch")
    assert proc.returncode == 0 and "nothing to watch" in proc.stdout
    assert snapshot(settings.instance_root) == scenario.new


RESTORE_CHILD = """
import os, signal, sys
from pathlib import Path
from mftui.restore import restore_backup, steps
from mftui.settings import Settings
seen = []
def hook(step):
    seen.append(step)
    print("STEP", step, flush=True)
    if len(seen) == int(sys.argv[4]):
        os.kill(os.getpid(), signal.SIGKILL)
steps.step_hook = hook
restore_backup(Settings(instance_root=Path(sys.argv[1]), backups_dir=Path(sys.argv[2])), Path(sys.argv[3]),
               trial=60.0)
"""


def test_a_trial_restore_killed_at_every_step(scenario: Scenario, tmp_path: Path) -> None:
    """Killed (or the power cut) while the trial restore itself runs: after the next start, the old
    configuration and no trial, or the trial's configuration on trial; never a trial of the old one."""

    def run(n: int) -> tuple[Settings, Path, list[str], int]:
        base = tmp_path / f"r{n}"
        root = base / "site" / "mobiusflow"
        shutil.copytree(scenario.template, root, symlinks=True)
        cfg = base / "c.toml"
        cfg.write_text(f'[instance]\nroot = "{root}"\n[backups]\ndir = "{base / "backups"}"\n')
        proc = subprocess.run([sys.executable, "-c", RESTORE_CHILD, str(root), str(base / "backups"),
                               str(scenario.archive), str(n)], capture_output=True, text=True, timeout=60)
        assert proc.returncode in (0, -signal.SIGKILL), proc.stderr
        steps = [ln[5:] for ln in proc.stdout.splitlines() if ln.startswith("STEP ")]
        return Settings(instance_root=root, backups_dir=base / "backups"), cfg, steps, proc.returncode

    _s, _c, steps, code = run(0)
    assert code == 0 and "trial-recorded" in steps
    seen = set()
    for n in range(1, len(steps) + 1):
        settings, cfg, _, code = run(n)
        assert code == -signal.SIGKILL
        status = next_start(settings, cfg)
        now = snapshot(settings.instance_root)
        if now == scenario.old:
            assert status["state"] == "normal", steps[n - 1]
        else:
            assert now == scenario.new, f"killed after {steps[n - 1]}: neither tree"
            assert status["state"] == "on-trial" and 50 < status["seconds_left"] <= 60
        seen.add(status["state"])
    assert seen == {"normal", "on-trial"}


def test_a_put_back_finished_after_a_reboot_needs_no_other_reboot(scenario: Scenario) -> None:
    """Killed after the put back committed, before its reboot request; then the unit restarted (another
    boot id in the record's eyes): recovery finished it before the product started, so no reboot is asked."""
    settings, cfg = scenario.fresh()
    time.sleep(1.1)
    code, _ = scenario.watch(cfg, "trial-reverted")
    assert code == -signal.SIGKILL and snapshot(settings.instance_root) == scenario.old
    path = settings.state_dir / "trial.json"
    record = json.loads(path.read_text())
    assert record["reboot"] == "pending"
    path.write_text(json.dumps({**record, "revert_boot": "the-boot-before-the-power-cut"}))
    code, _ = scenario.watch(cfg, 0)
    assert code == 0 and not (settings.state_dir / "reboot-requests.jsonl").exists()
    status = next_start(settings, cfg)
    assert status["state"] == "reverted" and status["reboot"].startswith("not needed")
    # Killed at the same place without a restart: the next watcher asks for the reboot, once.
    settings, cfg = scenario.fresh()
    time.sleep(1.1)
    assert scenario.watch(cfg, "trial-reverted")[0] == -signal.SIGKILL
    assert scenario.watch(cfg, 0)[0] == 0
    assert len((settings.state_dir / "reboot-requests.jsonl").read_text().splitlines()) == 1
