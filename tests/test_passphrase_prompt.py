"""The passphrase asked on a real terminal (a pty): echo off, twice for a new backup, once to open one.

The passphrase never appears in what the terminal shows (a pty echoes what
is typed unless echo is off), and never comes from argv or the environment.
"""

from __future__ import annotations

import json
import os
import pty
import sys
from pathlib import Path

from mftui.settings import Settings

SECRET = "tr0ub4dor&3-site-7"


def _in_pty(config: Path, args: list[str], answers: list[str]) -> tuple[int, str]:
    """Run mftui on a pty, typing one answer at each passphrase prompt; (exit code, everything the terminal showed)."""
    pid, fd = pty.fork()
    if pid == 0:  # the child: mftui with the pty as its terminal
        os.execv(sys.executable, [sys.executable, "-m", "mftui", "--config", str(config), *args])
    shown = b""
    answered = 0
    while True:
        try:
            chunk = os.read(fd, 4096)
        except OSError:
            break
        if not chunk:
            break
        shown += chunk
        while answered < len(answers) and shown.lower().count(b"passphrase") > answered:
            os.write(fd, answers[answered].encode() + b"\n")
            answered += 1
    _, status = os.waitpid(pid, 0)
    os.close(fd)
    return os.waitstatus_to_exitcode(status), shown.decode(errors="replace")


def test_backup_asks_twice_with_echo_off_and_restore_asks_once(settings: Settings, config_file: Path,
                                                               tmp_path: Path) -> None:
    code, shown = _in_pty(config_file, ["backup", "--encrypt", "passphrase", "--json"], [SECRET, SECRET])
    assert code == 0, shown
    assert SECRET not in shown
    path = Path(json.loads(shown[shown.index("{"):])["path"])
    code, shown = _in_pty(config_file, ["verify", str(path), "--json"], [SECRET])
    assert code == 0 and SECRET not in shown and '"complete": true' in shown, shown
    code, shown = _in_pty(config_file, ["verify", str(path)], ["not it"])
    assert code == 1 and "the passphrase is wrong" in shown


def test_two_different_passphrases_make_no_backup(settings: Settings, config_file: Path) -> None:
    code, shown = _in_pty(config_file, ["backup", "--encrypt", "passphrase"], [SECRET, SECRET + "x"])
    assert code == 1 and "the two passphrases differ" in shown
    assert not settings.backups_dir.exists() or not list(settings.backups_dir.iterdir())
