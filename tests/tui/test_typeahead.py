"""Keys typed ahead: a Tab and letters in one burst all reach the field the Tab moved to.

In a plain Textual app the letters go to the widget that had focus before the
Tab and are lost. This runs the real ``mftui`` in a pseudo-terminal.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from .pty_run import Terminal

pytestmark = pytest.mark.skipif(not hasattr(__import__("os"), "openpty"), reason="needs a pseudo-terminal")


@pytest.mark.parametrize("low_bandwidth", ["1", "0"])
def test_tab_then_letters_in_one_burst_reach_the_name_field(config_file: Path, low_bandwidth: str) -> None:
    with Terminal(["--config", str(config_file)], env={"MFTUI_LOW_BANDWIDTH": low_bandwidth}) as term:
        term.wait_for(r"q Quit")
        term.send("b")
        term.wait_for(r"Enter Backup")  # Backup/Restore, the name field has focus
        term.send("\t")  # -> Backup button
        term.wait_for(r"Enter Backup  Esc Admin")
        term.send("\t")  # -> Upload Zip (the last button: Restore is disabled)
        term.wait_for(r"u Upload Zip")
        term.settle()
        term.send("\tabc")  # one write: Tab wraps round to the name field, then three letters
        screen = term.wait_for(r"File  abc_\d{4}-")
        assert "Name  abc" in screen

        term.send("\t\t")  # -> Backup button -> Upload Zip
        term.wait_for(r"u Upload Zip")
        term.send("\x1b[Z\x1b[Zxyz")  # Shift+Tab twice: back into the field, then three letters
        screen = term.wait_for(r"File  abcxyz_\d{4}-")
        assert "Name  abcxyz" in screen


def test_a_pasted_burst_of_letters_keeps_its_order(config_file: Path) -> None:
    with Terminal(["--config", str(config_file)]) as term:
        term.wait_for(r"q Quit")
        term.send("b")
        term.wait_for(r"Enter Backup")
        term.send("site-visit-42")
        term.wait_for(r"File  site-visit-42_\d{4}-")


EDITING_BURSTS = [
    # (one write to the terminal, what the name field then holds)
    ("ab\x7fc", "ac"),  # Backspace between letters
    ("abc\x15def", "def"),  # Ctrl+U clears what came before it, not what comes after
    ("jk\x01X", "Xjk"),  # Ctrl+A: home, then the letter goes first
    ("wxyz\x1b[D\x1b[D\x7f-", "w-yz"),  # arrows and Backspace mid-word
    ("old\x15\x7f\x7fnew\x1b[1~A\x1b[4~Z", "AnewZ"),  # Ctrl+U, Backspace on empty, Home, End (linux console)
]


def name_in(screen: str) -> str:
    line = next(line for line in screen.splitlines() if line.startswith("Name  "))
    return line[len("Name  ") :].strip()


def test_editing_keys_in_one_burst_keep_their_order(config_file: Path) -> None:
    """Each burst is one write; the field must hold what slow typing gives."""
    with Terminal(["--config", str(config_file)]) as term:
        term.wait_for(r"q Quit")
        term.send("b")
        term.wait_for(r"Enter Backup  Tab Next")
        for keys, expected in EDITING_BURSTS:
            term.send("\x05\x15" + keys)  # from an empty field: End, then Ctrl+U
            screen = term.wait_for(rf"File  {re.escape(expected)}_\d{{4}}-")
            assert name_in(screen) == expected, (keys, screen)


def test_ctrl_u_then_a_name_and_enter_make_that_backup(config_file: Path, tmp_path: Path) -> None:
    with Terminal(["--config", str(config_file)]) as term:
        term.wait_for(r"q Quit")
        term.send("b")
        term.wait_for(r"Enter Backup  Tab Next")
        term.send("junk\x15burst-six\r")
        term.wait_for(r"Backup made")
    assert [p.name.split("_")[0] for p in (tmp_path / "backups").glob("*.zip")] == ["burst-six"]
