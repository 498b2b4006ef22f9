"""`mftui install-units`: the systemd units it writes, checked by the real `systemd-analyze verify`."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ANALYZE = shutil.which("systemd-analyze")
needs_systemd = pytest.mark.skipif(ANALYZE is None, reason="systemd-analyze is not installed (Debian: systemd)")


def verify(*units: Path) -> subprocess.CompletedProcess[str]:
    assert ANALYZE is not None
    return subprocess.run([ANALYZE, "verify", "--man=no", *map(str, units)], capture_output=True, text=True,
                          timeout=60, cwd=units[0].parent)


def install(config: Path, directory: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "mftui", "--config", str(config), "install-units", "--dir",
                           str(directory), *extra], capture_output=True, text=True, timeout=60)


@needs_systemd
def test_the_units_pass_systemd_analyze_verify(config_file: Path, tmp_path: Path) -> None:
    units = tmp_path / "units"
    units.mkdir()
    proc = install(config_file, units)
    assert proc.returncode == 0, proc.stderr
    recover, watch = units / "mftui-recover.service", units / "mftui-watch.service"
    assert proc.stdout.splitlines()[:2] == [f"wrote {recover}", f"wrote {watch}"]
    checked = verify(recover, watch)
    assert checked.returncode == 0 and checked.stderr.strip() == "", checked.stderr
    text = recover.read_text()
    assert "Before=mobiusflow.service" in text and "Type=oneshot" in text
    assert f"-m mftui --config {config_file.resolve()} status" in text
    assert f"-m mftui --config {config_file.resolve()} watch" in watch.read_text()
    assert "After=mftui-recover.service" in watch.read_text()
    assert oct(recover.stat().st_mode & 0o777) == "0o644"


@needs_systemd
def test_verify_does_catch_a_broken_unit(tmp_path: Path) -> None:
    """The control: the check above would see a unit systemd refuses."""
    bad = tmp_path / "bad.service"
    bad.write_text("[Unit]\nDescription=x\n[Service]\nExecStart=relative/mftui watch\n")
    assert verify(bad).returncode != 0


def test_a_product_unit_and_json(config_file: Path, tmp_path: Path) -> None:
    proc = install(config_file, tmp_path, "--product-unit", "edge.service", "--json")
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout) == {"ok": True, "written": [str(tmp_path / "mftui-recover.service"),
                                                               str(tmp_path / "mftui-watch.service")]}
    assert "Before=edge.service" in (tmp_path / "mftui-recover.service").read_text()


def test_a_folder_that_cannot_be_written(config_file: Path, tmp_path: Path) -> None:
    proc = install(config_file, tmp_path / "missing", "--json")
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    assert "cannot write" in json.loads(proc.stdout)["reason"]
