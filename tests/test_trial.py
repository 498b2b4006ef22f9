"""Trial restores through the real command line: restore on trial, keep, the deadline, a failing check,
two watchers, the clock across a reboot, the lockout guard. Real processes, real clocks (2 s trials).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from test_restore import change_instance
from trees import snapshot

from mftui.archive.writer import create_backup
from mftui.settings import Settings


def mftui(config: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "mftui", "--config", str(config), *args], stdin=subprocess.DEVNULL,
                          capture_output=True, text=True, timeout=60, env=env)


def config(settings: Settings, tmp_path: Path, trial: str = "") -> Path:
    path = tmp_path / "trial.toml"
    path.write_text(f'[instance]\nroot = "{settings.instance_root}"\n[backups]\ndir = "{settings.backups_dir}"\n'
                    f'[reboot]\nbackend = "demo"\n[trial]\n{trial}\n')
    return path


def script(tmp_path: Path, name: str, body: str) -> str:
    path = tmp_path / name
    path.write_text(f"#!/bin/sh\n{body}\n")
    path.chmod(0o755)
    return str(path)


@pytest.fixture
def before(settings: Settings) -> tuple[Path, dict[str, Any]]:
    """A backup, then the instance changed: (the backup, a snapshot of the changed instance)."""
    path = create_backup(settings, "target").path
    change_instance(settings.instance_root)
    return path, snapshot(settings.instance_root)


def status(cfg: Path) -> dict[str, Any]:
    proc = mftui(cfg, "status", "--json")
    assert proc.returncode == 0, proc.stderr
    data: dict[str, Any] = json.loads(proc.stdout)
    return data


def reboots(settings: Settings) -> list[dict[str, Any]]:
    log = settings.state_dir / "reboot-requests.jsonl"
    return [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []


def audit(settings: Settings) -> list[str]:
    return [json.loads(line)["event"] for line in (settings.state_dir / "trial-log.jsonl").read_text().splitlines()]


def test_keep(settings: Settings, tmp_path: Path, before: tuple[Path, dict[str, Any]]) -> None:
    cfg = config(settings, tmp_path)
    proc = mftui(cfg, "restore", str(before[0]), "--yes", "--no-reboot", "--trial", "2s", "--json")
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert out["trial"]["timeout_seconds"] == 2.0 and out["trial"]["deadline"] and out["scope"] == "replace"
    restored = snapshot(settings.instance_root)
    now = status(cfg)
    assert now["state"] == "on-trial" and now["backup"] == "target" and 0 < now["seconds_left"] <= 2
    kept = mftui(cfg, "keep")
    assert kept.returncode == 0 and "kept" in kept.stdout, kept.stderr
    time.sleep(2.2)
    watched = mftui(cfg, "watch")
    assert watched.returncode == 0 and "nothing to watch" in watched.stdout
    assert status(cfg)["state"] == "kept" and snapshot(settings.instance_root) == restored
    assert reboots(settings) == []
    assert audit(settings) == ["trial-recorded", "kept"]


def test_the_deadline_passes_and_it_is_put_back_once(settings: Settings, tmp_path: Path,
                                                     before: tuple[Path, dict[str, Any]]) -> None:
    cfg = config(settings, tmp_path, 'timeout = "2s"')  # the settings' timeout: no --trial needed
    assert mftui(cfg, "restore", str(before[0]), "--yes", "--no-reboot").returncode == 0
    assert snapshot(settings.instance_root) != before[1]
    started = time.monotonic()
    watched = mftui(cfg, "watch")
    took = time.monotonic() - started
    assert watched.returncode == 0, watched.stderr
    assert 1.0 < took < 10, took
    assert "ran out" in watched.stdout and "Reverted" in watched.stdout
    assert snapshot(settings.instance_root) == before[1]  # exactly the configuration from before the trial
    now = status(cfg)
    assert now["state"] == "reverted" and "ran out" in now["reason"] and now["attempts"] == 1
    assert now["reboot"] == "requested" and len(reboots(settings)) == 1
    # Never a second trial, never a second reboot: the watcher has nothing more to do.
    again = mftui(cfg, "watch")
    assert again.returncode == 0 and "nothing to watch" in again.stdout and len(reboots(settings)) == 1
    assert audit(settings) == ["trial-recorded", "watch-started", "revert-started", "reverted", "reboot-requested"]
    assert mftui(cfg, "keep").returncode == 1


def test_a_failing_check_puts_it_back_at_once(settings: Settings, tmp_path: Path,
                                              before: tuple[Path, dict[str, Any]]) -> None:
    ok = script(tmp_path, "ok", "exit 0")
    down = script(tmp_path, "down", "echo 'mobiusflow.service is inactive' >&2; exit 3")
    cfg = config(settings, tmp_path, f'timeout = "60s"\ncheck_every = "1s"\nchecks = [["{ok}"], ["{down}", "x"]]')
    assert mftui(cfg, "restore", str(before[0]), "--yes", "--no-reboot").returncode == 0
    started = time.monotonic()
    watched = mftui(cfg, "watch")
    assert watched.returncode == 0 and time.monotonic() - started < 10
    assert snapshot(settings.instance_root) == before[1]
    now = status(cfg)
    assert now["state"] == "reverted" and "health check" in now["reason"] and "is inactive" in now["reason"]
    assert [c["ok"] for c in now["checks"]] == [True, False] and "exit code 3" in now["checks"][1]["detail"]


def test_a_check_that_hangs_fails_after_its_timeout(settings: Settings, tmp_path: Path,
                                                    before: tuple[Path, dict[str, Any]]) -> None:
    slow = script(tmp_path, "slow", "sleep 31.25; echo done")  # sh waits for its child: the group is killed
    cfg = config(settings, tmp_path, f'timeout = "60s"\nchecks = [{{ run = ["{slow}"], timeout = "1s" }}]')
    assert mftui(cfg, "restore", str(before[0]), "--yes", "--no-reboot").returncode == 0
    started = time.monotonic()
    watched = mftui(cfg, "watch")
    assert watched.returncode == 0 and time.monotonic() - started < 10
    assert "no answer within 0:01" in status(cfg)["reason"]
    left = subprocess.run(["pgrep", "-f", "sleep 31.25"], capture_output=True, text=True)
    assert left.stdout == "", "the check's own child was left running"


def test_keep_refuses_while_a_check_fails(settings: Settings, tmp_path: Path,
                                          before: tuple[Path, dict[str, Any]]) -> None:
    down = script(tmp_path, "down", "exit 1")
    cfg = config(settings, tmp_path, f'timeout = "60s"\nchecks = [["{down}"]]')
    assert mftui(cfg, "restore", str(before[0]), "--yes", "--no-reboot").returncode == 0
    proc = mftui(cfg, "keep", "--json")
    assert proc.returncode == 1 and json.loads(proc.stdout)["ok"] is False
    assert "not kept: the health check" in proc.stderr and "Traceback" not in proc.stderr
    assert status(cfg)["state"] == "on-trial"


def test_keep_with_nothing_on_trial(settings: Settings, tmp_path: Path) -> None:
    cfg = config(settings, tmp_path)
    proc = mftui(cfg, "keep")
    assert proc.returncode == 1 and proc.stderr == (
        "mftui: nothing is on trial: no trial restore is waiting to be kept or put back\n")
    proc = mftui(cfg, "keep", "--json")
    assert proc.returncode == 1 and json.loads(proc.stdout) == {"ok": False, "reason": proc.stderr[7:-1]}
    assert status(cfg)["state"] == "normal"


def test_no_trial_and_a_bad_duration(settings: Settings, tmp_path: Path, before: tuple[Path, dict[str, Any]]) -> None:
    cfg = config(settings, tmp_path)
    bad = mftui(cfg, "restore", str(before[0]), "--yes", "--trial", "10 mins", "--json")
    assert bad.returncode == 2 and "--trial" in bad.stderr and json.loads(bad.stdout)["ok"] is False
    assert snapshot(settings.instance_root) == before[1]
    proc = mftui(cfg, "restore", str(before[0]), "--yes", "--no-reboot", "--no-trial", "--json")
    assert proc.returncode == 0 and json.loads(proc.stdout)["trial"] is None
    assert status(cfg)["state"] == "normal"


def test_two_watchers_one_lock(settings: Settings, tmp_path: Path, before: tuple[Path, dict[str, Any]]) -> None:
    cfg = config(settings, tmp_path)
    assert mftui(cfg, "restore", str(before[0]), "--yes", "--no-reboot", "--trial", "3s").returncode == 0
    first = subprocess.Popen([sys.executable, "-m", "mftui", "--config", str(cfg), "watch"],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 10
        while "watch-started" not in audit(settings) and time.monotonic() < deadline:
            time.sleep(0.05)
        second = mftui(cfg, "watch", "--json")
        assert second.returncode == 1 and "another mftui watch is already running" in second.stderr
        assert json.loads(second.stdout)["ok"] is False
    finally:
        out, err = first.communicate(timeout=30)
    assert first.returncode == 0 and "Reverted" in out, err


def rewrite_record(settings: Settings, **changes: Any) -> None:
    """Stand in for what a reboot changes in the record's eyes (another boot id), or for an old record."""
    path = settings.state_dir / "trial.json"
    record = json.loads(path.read_text())
    record.update(changes)
    path.write_text(json.dumps(record))


def test_within_a_boot_the_boot_clock_rules_not_the_wall_clock(settings: Settings, tmp_path: Path,
                                                                before: tuple[Path, dict[str, Any]]) -> None:
    """The wall-clock deadline says it passed an hour ago (the clock jumped forward): same boot, so the
    boot-time anchor decides, and the trial goes on."""
    cfg = config(settings, tmp_path)
    assert mftui(cfg, "restore", str(before[0]), "--yes", "--no-reboot", "--trial", "60s").returncode == 0
    rewrite_record(settings, deadline=time.time() - 3600)
    now = status(cfg)
    assert now["state"] == "on-trial" and 50 < now["seconds_left"] <= 60


def test_the_deadline_passed_while_the_unit_was_off(settings: Settings, tmp_path: Path,
                                                     before: tuple[Path, dict[str, Any]]) -> None:
    """Another boot: only the wall clock crossed it; the deadline passed, so the watcher puts it back at once."""
    cfg = config(settings, tmp_path)
    assert mftui(cfg, "restore", str(before[0]), "--yes", "--no-reboot", "--trial", "60s").returncode == 0
    rewrite_record(settings, anchor_boot="a-boot-before-the-power-cut", deadline=time.time() - 5)
    started = time.monotonic()
    watched = mftui(cfg, "watch")
    assert watched.returncode == 0 and time.monotonic() - started < 10 and "ran out" in watched.stdout
    assert snapshot(settings.instance_root) == before[1] and status(cfg)["state"] == "reverted"


def test_a_clock_set_back_across_a_reboot_cannot_stretch_the_trial(settings: Settings, tmp_path: Path,
                                                                    before: tuple[Path, dict[str, Any]]) -> None:
    cfg = config(settings, tmp_path)
    assert mftui(cfg, "restore", str(before[0]), "--yes", "--no-reboot", "--trial", "60s").returncode == 0
    rewrite_record(settings, anchor_boot="a-boot-before-the-power-cut", deadline=time.time() + 86400,
                   anchor_left=20.0)
    assert 15 < status(cfg)["seconds_left"] <= 20


def test_lockout_guard_over_ssh(settings: Settings, tmp_path: Path, before: tuple[Path, dict[str, Any]]) -> None:
    """The backup changes network/network.json; over SSH the restore must be a trial, even with trials off."""
    net = settings.instance_root / "network" / "network.json"
    net.write_text('{"address": "10.9.9.9"}\n')
    cfg = config(settings, tmp_path, "enabled = false")
    ssh = {**os.environ, "SSH_CONNECTION": "10.0.0.5 50000 10.0.0.9 22"}
    refused = mftui(cfg, "restore", str(before[0]), "--yes", "--no-trial", "--take-identity", env=ssh)
    assert refused.returncode == 2 and "network configuration (network/network.json)" in refused.stderr
    assert "SSH_CONNECTION" in refused.stderr
    proc = mftui(cfg, "restore", str(before[0]), "--yes", "--no-reboot", "--take-identity", "--json", env=ssh)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["trial"]["timeout_seconds"] == 600.0
    assert status(cfg)["state"] == "on-trial"
    # Without SSH, trials off means no trial.
    plain = {k: v for k, v in os.environ.items() if k != "SSH_CONNECTION"}
    proc = mftui(cfg, "restore", str(before[0]), "--yes", "--no-reboot", "--take-identity", "--json", env=plain)
    assert proc.returncode == 0 and json.loads(proc.stdout)["trial"] is None


def test_restore_previous_during_a_trial_is_the_put_back(settings: Settings, tmp_path: Path,
                                                          before: tuple[Path, dict[str, Any]]) -> None:
    cfg = config(settings, tmp_path)
    assert mftui(cfg, "restore", str(before[0]), "--yes", "--no-reboot", "--trial", "60s").returncode == 0
    proc = mftui(cfg, "restore", "--previous", "--yes")
    assert proc.returncode == 0, proc.stderr
    assert snapshot(settings.instance_root) == before[1] and len(reboots(settings)) == 1
    now = status(cfg)
    assert now["state"] == "reverted" and "by hand" in now["reason"]
    watched = mftui(cfg, "watch")
    assert "nothing to watch" in watched.stdout and len(reboots(settings)) == 1


def test_keep_after_the_time_ran_out_is_refused(settings: Settings, tmp_path: Path,
                                                 before: tuple[Path, dict[str, Any]]) -> None:
    cfg = config(settings, tmp_path)
    assert mftui(cfg, "restore", str(before[0]), "--yes", "--no-reboot", "--trial", "1s").returncode == 0
    time.sleep(1.2)
    proc = mftui(cfg, "keep")
    assert proc.returncode == 1 and "time ran out" in proc.stderr
    assert mftui(cfg, "watch").returncode == 0 and snapshot(settings.instance_root) == before[1]


def test_the_whole_cycle_on_the_embedded_demo(isolated_home: Path) -> None:
    """No settings file at all: the demo instance, the demo reboot backend, trials on by default."""

    def demo(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "mftui", *args], stdin=subprocess.DEVNULL, capture_output=True,
                              text=True, timeout=60)

    made = demo("backup", "--name", "demo", "--json")
    assert made.returncode == 0, made.stderr
    backup = json.loads(made.stdout)["path"]
    root = Path(backup).parent.parent / "instance"
    flows = root / "flows" / "flows.json"
    flows.write_text('{"flows": ["edited after the backup"]}\n')
    restored = demo("restore", backup, "--yes", "--trial", "2s")
    assert restored.returncode == 0 and "Run mftui watch now" in restored.stdout, restored.stderr
    assert "edited" not in flows.read_text()
    assert json.loads(demo("status", "--json").stdout)["state"] == "on-trial"
    watched = demo("watch")
    assert watched.returncode == 0 and "Reverted" in watched.stdout
    assert "edited after the backup" in flows.read_text()
    log = root.parent / ".mftui-instance" / "reboot-requests.jsonl"
    assert len(log.read_text().splitlines()) == 2  # the restore's, then the put back's


def test_the_confirmation_over_ssh_says_the_network_changes(settings: Settings, tmp_path: Path,
                                                             before: tuple[Path, dict[str, Any]]) -> None:
    (settings.instance_root / "network" / "network.json").write_text('{"address": "10.9.9.9"}\n')
    cfg = config(settings, tmp_path, "enabled = false")
    master, slave = os.openpty()
    try:
        os.write(master, b"n\n")
        proc = subprocess.run([sys.executable, "-m", "mftui", "--config", str(cfg), "restore", str(before[0]),
                               "--take-identity"], stdin=slave, capture_output=True, text=True, timeout=60,
                              env={**os.environ, "SSH_CONNECTION": "10.0.0.5 50000 10.0.0.9 22"})
    finally:
        os.close(slave)
        os.close(master)
    assert proc.returncode == 1
    said = " ".join(proc.stdout.split())
    assert "This restore changes the network configuration (network/network.json) and you are connected over " \
           "SSH" in said
    assert "Trial: it is put back in 10:00 unless you keep it (mftui keep)." in said
    assert "over the live configuration? (replace, trial 10:00)" in proc.stderr
