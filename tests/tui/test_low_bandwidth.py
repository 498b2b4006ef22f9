"""Low-bandwidth mode: on for console terminals, and it really drops what costs bytes."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import pytest
from textual.widgets import Input

from mftui.tui.app import MftuiApp
from mftui.tui.lowband import low_bandwidth_default

from .helpers import SIZE, settle
from .pty_run import Terminal


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({"TERM": "linux"}, True),
        ({"TERM": "vt100"}, True),
        ({"TERM": "vt220"}, True),
        ({"TERM": "xterm-256color"}, False),
        ({"TERM": "xterm-256color", "MFTUI_LOW_BANDWIDTH": "1"}, True),
        ({"TERM": "linux", "MFTUI_LOW_BANDWIDTH": "0"}, False),
        ({"TERM": "linux", "MFTUI_LOW_BANDWIDTH": "off"}, False),
        ({}, False),
    ],
)
def test_default_follows_the_terminal_and_the_environment(env: dict[str, str], expected: bool) -> None:
    assert low_bandwidth_default(env) is expected


async def test_low_bandwidth_drops_blink_animation_and_dimming(make_app: Callable[..., MftuiApp]) -> None:
    app = make_app(low_bandwidth=True)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert app.animation_level == "none"
        assert app.theme == "ansi-dark"  # the terminal's own background and 16 colours
        assert app.screen_diff is not None
        await pilot.press("b")
        await settle(pilot)
        name = app.screen.query_one("#name", Input)
        assert name.cursor_blink is False
        await pilot.press("tab", "tab", "u")
        await settle(pilot)
        assert app.screen.__class__.__name__ == "PickBackup"
        assert all(field.cursor_blink is False for field in app.screen.query(Input))  # the picker's too
        assert app.screen.styles.background.a == 0  # no dimming of the screen behind a dialog


async def test_full_mode_keeps_textual_defaults(make_app: Callable[..., MftuiApp]) -> None:
    app = make_app(low_bandwidth=False)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert app.animation_level != "none"
        assert app.screen_diff is None
        await pilot.press("b")
        await settle(pilot)
        assert app.screen.query_one("#name", Input).cursor_blink is True


def test_an_idle_app_sends_nothing(config_file: Path) -> None:
    """No clock, no blink, no timer: an idle app writes zero bytes to a slow line (a real pty, TERM=linux)."""
    with Terminal(["--config", str(config_file)]) as term:
        term.wait_for(r"q Quit")
        term.settle(quiet=0.5)
        for where in ("Administration", "Backup/Restore, the name field focused"):
            before = term.received
            end = time.monotonic() + 2.0  # a blinking cursor repaints twice a second
            while time.monotonic() < end:
                term.pump(0.1)
            assert term.received == before, f"{where}: {term.received - before} bytes while idle"
            if where == "Administration":
                term.send("b")
                term.wait_for(r"Enter Backup")
                term.settle(quiet=0.5)


@pytest.mark.parametrize(("flag", "ascii_only"), [("--ascii", True), ("--no-ascii", False)])
def test_the_command_line_forces_ascii_or_not(config_file: Path, flag: str, ascii_only: bool) -> None:
    """A UTF-8 linux console draws boxes unless --ascii; --no-ascii keeps them (the env and TERM aside)."""
    with Terminal(["--config", str(config_file), flag, "--no-low-bandwidth"], env={"MFTUI_ASCII": ""}) as term:
        term.wait_for(r"q Quit")
        term.send("b")
        term.wait_for(r"Enter Backup")
        term.send("\t")  # the Backup button
        term.wait_for(r"Tab Next")
        term.send("\t")  # Upload Zip (Restore is not possible yet)
        term.wait_for(r"u Upload Zip")
        term.send("\r")
        term.wait_for(r"Enter chooses")  # the picker: a dialog with borders
        high = sum(1 for byte in term.raw if byte >= 0x80)
    assert (high == 0) is ascii_only, high
