"""The command line, run as a real process: outputs, JSON shapes, exit codes."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest


def mftui(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "mftui", *args], capture_output=True, text=True,
                          env=env or dict(os.environ), timeout=60)


def test_demo_default_in_an_empty_home(isolated_home: Path) -> None:
    made = mftui("backup", "--name", "first", "--json")
    assert made.returncode == 0, made.stderr
    out = json.loads(made.stdout)
    assert Path(out["path"]).is_relative_to(isolated_home)
    assert out["name"] == "first" and out["files"] > 10 and out["bytes"] > 0
    listed = mftui("list")
    assert listed.returncode == 0 and "first_" in listed.stdout


def test_backup_json_and_inspect_json(config_file: Path) -> None:
    made = mftui("--config", str(config_file), "backup", "--name", "site A", "--json")
    assert made.returncode == 0, made.stderr
    out = json.loads(made.stdout)
    assert {"path", "name", "created_at", "files", "bytes"} <= set(out)
    assert made.stderr == ""  # no progress bar when stderr is not a terminal
    shown = mftui("--config", str(config_file), "inspect", out["path"], "--json")
    assert shown.returncode == 0, shown.stderr
    info = json.loads(shown.stdout)
    for key in ("name", "created_at", "format_version", "product_version", "instance_id", "hostname",
                "files", "bytes", "components"):
        assert key in info, key
    assert info["name"] == "site-A" and info["instance_id"] == "3fa2c1" and info["files"] == out["files"]
    assert sum(info["components"].values()) == info["files"]
    text = mftui("--config", str(config_file), "inspect", out["path"])
    assert "3fa2c1" in text.stdout and "MobiusFlow 4.2.1" in text.stdout


def test_plain_backup_prints_the_path(config_file: Path) -> None:
    made = mftui("--config", str(config_file), "backup")
    assert made.returncode == 0
    path = Path(made.stdout.strip())
    assert path.is_file() and path.name.startswith("backup_")


def test_list_newest_first_and_reports_unreadable(config_file: Path, tmp_path: Path) -> None:
    first = json.loads(mftui("--config", str(config_file), "backup", "--name", "one", "--json").stdout)
    second = json.loads(mftui("--config", str(config_file), "backup", "--name", "two", "--json").stdout)
    # Make 'one' older in its metadata-independent way: list orders by created_at, then name.
    (tmp_path / "backups" / "junk.zip").write_text("not a zip")
    listed = json.loads(mftui("--config", str(config_file), "list", "--json").stdout)
    good = [b for b in listed if b["ok"]]
    assert [b["created_at"] for b in good] == sorted((b["created_at"] for b in good), reverse=True)
    assert {b["path"] for b in good} == {first["path"], second["path"]}
    junk = [b for b in listed if not b["ok"]]
    assert len(junk) == 1 and "not a readable zip" in junk[0]["problem"]


def test_usage_errors_exit_2_and_help_documents_codes() -> None:
    assert mftui("frobnicate").returncode == 2
    assert mftui("inspect").returncode == 2
    helped = mftui("--help")
    assert helped.returncode == 0
    assert "exit codes" in helped.stdout and "2  usage" in helped.stdout


def test_inspect_missing_file_exits_1(config_file: Path, tmp_path: Path) -> None:
    proc = mftui("--config", str(config_file), "inspect", str(tmp_path / "nope.zip"))
    assert proc.returncode == 1 and "does not exist" in proc.stderr


@pytest.mark.skipif(shutil.which("script") is None, reason="needs script(1) for a terminal")
def test_progress_bar_on_a_terminal(config_file: Path, tmp_path: Path) -> None:
    big = Path(config_file).parent / "site" / "mobiusflow" / "flows" / "big.bin"
    big.write_bytes(os.urandom(4_000_000))
    log = tmp_path / "typescript"
    cmd = f"{sys.executable} -m mftui --config {config_file} backup 1>/dev/null"
    subprocess.run(["script", "-qec", cmd, str(log)], capture_output=True, timeout=60)
    assert "backup [" in log.read_text(errors="replace")


def test_list_shows_the_safety_copy_and_the_previous_configuration(config_file: Path) -> None:
    made = json.loads(mftui("--config", str(config_file), "backup", "--name", "keep", "--json").stdout)
    restored = mftui("--config", str(config_file), "restore", made["path"], "--yes", "--no-reboot")
    assert restored.returncode == 0, restored.stderr
    listed = json.loads(mftui("--config", str(config_file), "list", "--json").stdout)
    kinds = [row.get("kind") for row in listed]
    assert kinds.count("safety") == 1 and kinds.count("manual") == 1
    assert kinds[-1] == "previous" and listed[-1]["files"] == made["files"]
    text = mftui("--config", str(config_file), "list").stdout
    assert "[safety copy]" in text and "mftui restore --previous" in text
