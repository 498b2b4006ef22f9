"""Keys typed ahead: a Tab and letters in one burst all reach the field the Tab moved to.

In a plain Textual app the letters go to the widget that had focus before the
Tab and are lost. This runs the real ``mftui`` in a pseudo-terminal.
"""

from __future__ import annotations

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
        term.wait_for(r"Enter Backup  Esc Admin  q Quit")
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
