"""The Backups screen's delete and pin, from the command line: ``mftui delete``, ``pin``, ``unpin``.

Real archives, the real command line in child processes, a real pty for the question.
"""

from __future__ import annotations

import json
import os
import pty
import subprocess
import sys
from pathlib import Path

import jsonschema

from mftui.history import audit
from mftui.lock import instance_lock
from mftui.settings import Settings

SCHEMAS = Path(__file__).resolve().parents[1] / "docs" / "schemas"


def run(config: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "mftui", "--config", str(config), *args], capture_output=True,
                          text=True, timeout=60, stdin=subprocess.DEVNULL)


def valid(command: str, proc: subprocess.CompletedProcess[str]) -> dict[str, object]:
    data: dict[str, object] = json.loads(proc.stdout)
    jsonschema.validate(data, json.loads((SCHEMAS / f"{command}.json").read_text()),
                        cls=jsonschema.Draft202012Validator)
    return data


def two_backups(config: Path) -> tuple[Path, Path]:
    made = [json.loads(run(config, "backup", "--name", name, "--json").stdout)["path"] for name in ("one", "two")]
    return Path(made[0]), Path(made[1])


def test_pin_shows_in_list_and_keeps_it_from_delete(settings: Settings, config_file: Path) -> None:
    one, _two = two_backups(config_file)
    assert valid("pin", run(config_file, "pin", one.name, "--json")) == {"ok": True, "name": one.name,
                                                                       "pinned": True}
    rows = {Path(r["path"]).name: r for r in json.loads(run(config_file, "list", "--json").stdout) if "path" in r}
    assert rows[one.name]["pinned"] is True and [r["pinned"] for n, r in rows.items() if n != one.name] == [False]
    assert "[pinned]" in run(config_file, "list").stdout
    refused = run(config_file, "delete", one.name, "--yes", "--json")
    assert refused.returncode == 2 and "is pinned; unpin it first" in refused.stderr
    assert valid("delete", refused)["ok"] is False and one.exists()
    assert valid("unpin", run(config_file, "unpin", one.name, "--json"))["pinned"] is False
    done = run(config_file, "delete", one.name, "--yes", "--json")
    assert done.returncode == 0 and valid("delete", done) == {"ok": True, "deleted": one.name}
    assert not one.exists()
    logged = [(e.action, e.outcome) for e in audit.read_log(settings)[0]]
    assert ("pin", "ok") in logged and ("unpin", "ok") in logged and ("delete", "ok") in logged


def test_delete_refuses_what_is_not_a_backup_here(config_file: Path, tmp_path: Path) -> None:
    one, _two = two_backups(config_file)
    outside = tmp_path / "elsewhere.zip"
    outside.write_bytes(one.read_bytes())
    for name, words in ((str(outside), "without a folder"), ("../elsewhere.zip", "without a folder"),
                        ("nothing.zip", "there is no backup"), ("notes.txt", "ends in .zip")):
        proc = run(config_file, "delete", name, "--yes")
        assert proc.returncode == 2 and words in proc.stderr, (name, proc.stderr)
        assert proc.stderr.count("\n") == 1
    assert outside.exists() and one.exists()


def test_delete_asks_and_a_script_must_say_yes(config_file: Path) -> None:
    one, _two = two_backups(config_file)
    script = run(config_file, "delete", one.name)
    assert script.returncode == 2 and "add --yes" in script.stderr and one.exists()
    for answer, kept in ((b"n\n", True), (b"\n", True), (b"yes please\n", True), (b"y\n", False)):
        assert _on_a_terminal(config_file, answer, "delete", one.name) == (1 if kept else 0)
        assert one.exists() is kept


def test_delete_waits_for_no_restore(settings: Settings, config_file: Path) -> None:
    one, _two = two_backups(config_file)
    with instance_lock(settings, "restore"):
        proc = run(config_file, "delete", one.name, "--yes")
    assert proc.returncode == 1 and one.exists(), proc.stderr


def _on_a_terminal(config: Path, answer: bytes, *args: str) -> int:
    """Run mftui with a pty as its stdin (a technician's terminal), type ``answer``, return the exit code."""
    leader, follower = pty.openpty()
    proc = subprocess.Popen([sys.executable, "-m", "mftui", "--config", str(config), *args], stdin=follower,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    os.close(follower)
    os.write(leader, answer)
    try:
        return proc.wait(timeout=60)
    finally:
        os.close(leader)
