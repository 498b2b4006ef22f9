"""A VT100, or a terminal whose locale is not UTF-8: ASCII only, focus in reverse video; MFTUI_ASCII forces either."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from rich.console import Console
from textual.widgets._progress_bar import Bar

from mftui.settings import Settings
from mftui.tui.lowband import ascii_default

from .pty_run import Terminal


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({"TERM": "vt100", "LANG": "C.UTF-8"}, True),
        ({"TERM": "linux", "LANG": "C.UTF-8"}, False),
        ({"TERM": "linux"}, True),  # no locale: POSIX, not UTF-8
        ({"TERM": "xterm-256color", "LANG": "en_US.UTF-8", "LC_ALL": "C"}, True),  # LC_ALL wins
        ({"TERM": "xterm-256color", "LANG": "de_DE.utf8"}, False),
        ({"TERM": "vt100", "MFTUI_ASCII": "0"}, False),  # forced
        ({"TERM": "xterm-256color", "LANG": "C.UTF-8", "MFTUI_ASCII": "1"}, True),
    ],
)
def test_ascii_is_decided_from_term_and_locale(env: dict[str, str], expected: bool) -> None:
    assert ascii_default(env) is expected


def _walk(term: Terminal) -> None:
    term.wait_for(r"q Quit")
    term.send("b")
    term.wait_for(r"Enter Backup")
    term.send("\t\tu")
    term.wait_for(r"Upload Zip:")
    term.send("\r")  # the cursor starts on the newest backup: Enter
    term.wait_for(r"Verified")
    term.send("r")
    term.wait_for(r"Restore this backup")


def _reverse_cells(term: Terminal, text: str) -> bool:
    for row, line in enumerate(term.screen.display):
        col = line.find(text)
        if col >= 0:
            return all(term.screen.buffer[row][col + i].reverse for i in range(len(text)))
    raise AssertionError(f"{text!r} not on screen:\n{term.text()}")


def test_vt100_gets_only_ascii_and_focus_in_reverse(config_file: Path, tmp_path: Path) -> None:
    from mftui.archive.writer import create_backup
    from mftui.settings import load_settings

    create_backup(load_settings(config_file), "vt")
    with Terminal(["--config", str(config_file)], env={"LANG": "C", "LC_ALL": "C"}, term="vt100") as term:
        _walk(term)
        assert not re.search(rb"[\x80-\xff]", bytes(term.raw)), "a non-ASCII byte was sent"
        assert "+---" in term.text()  # the dialog's border
        assert _reverse_cells(term, " No ")  # the focused answer, visible without colour or bold


def test_mftui_ascii_0_keeps_box_drawing(config_file: Path) -> None:
    from mftui.archive.writer import create_backup
    from mftui.settings import load_settings

    create_backup(load_settings(config_file), "vt")
    with Terminal(["--config", str(config_file)], env={"MFTUI_ASCII": "0"}, term="vt100") as term:
        _walk(term)
        assert "┌" in term.text()


def test_the_progress_bar_is_ascii_in_ascii_mode(settings: Settings) -> None:
    """Textual's bar is box-drawing, done and to-do told apart by colour only: in ASCII mode it is # and -,
    on every screen that shows one (a bar drawn only when a backup or a check runs long enough, which made
    the VT100 walk above fail now and then)."""
    import asyncio

    from mftui.tui.app import MftuiApp
    from mftui.tui.widgets.progress import AsciiBar, Progress

    console = Console(width=20, file=io.StringIO(), color_system=None)
    with console.capture() as captured:
        console.print(AsciiBar(highlight_range=(0, 7.6), width=20))
    assert captured.get().rstrip("\n") == "########------------"

    async def bars(ascii_only: bool) -> set[type]:
        app = MftuiApp(settings, ascii_only=ascii_only)
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.press("b")
            await pilot.pause()
            found = {bar.query_one(Bar).bar_renderable for bar in app.screen.query(Progress)}
            await pilot.press("escape")
            found |= {bar.query_one(Bar).bar_renderable for bar in app.screen.query(Progress)}
            return found

    assert asyncio.run(bars(True)) == {AsciiBar}
    assert AsciiBar not in asyncio.run(bars(False))
