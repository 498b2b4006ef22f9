"""The screen diff sends fewer bytes and the terminal ends up showing exactly the same thing."""

from __future__ import annotations

import random
import re
from pathlib import Path

import pyte
import pytest

from mftui.tui.screen_diff import SYNC_END, SYNC_START, ScreenDiff, apply_sgr, sgr_for

from .pty_run import Terminal

START = "\x1b[?1049h\x1b[?25l\x1b[?7l"  # what Textual sends first: alternate screen, no cursor, no wrap


def screen_pair() -> tuple[pyte.Screen, pyte.Stream, pyte.Screen, pyte.Stream]:
    direct, diffed = pyte.Screen(80, 24), pyte.Screen(80, 24)
    return direct, pyte.Stream(direct), diffed, pyte.Stream(diffed)


def cells(screen: pyte.Screen) -> list[tuple[str, str, str, bool, bool, bool]]:
    return [
        (c.data, c.fg, c.bg, c.bold, c.reverse, c.underscore)
        for row in range(screen.lines)
        for c in (screen.buffer[row][col] for col in range(screen.columns))
    ]


def segment(rng: random.Random, width: int) -> str:
    styles = ["", "1", "7", "1;7", "39;49", "32;49", "1;32;49", "30;47", "38;5;196", "4", "31;44"]
    text = "".join(rng.choice("  abcxyz.-_│─") for _ in range(width))
    style = rng.choice(styles)
    return f"\x1b[{style}m{text}\x1b[0m" if style else text


def frame(rng: random.Random, full: bool) -> str:
    """A frame as Textual writes one: per line a cursor move, then styled segments."""
    rows = range(1, 25) if full else sorted(rng.sample(range(1, 25), rng.randint(1, 5)))
    out = []
    for y in rows:
        x = 1 if full else rng.randint(1, 60)
        end = 81 if full else rng.randint(x + 1, 81)
        out.append(f"\x1b[{y};{x}H")
        while x < end:
            width = min(rng.randint(1, 20), end - x)
            out.append(segment(rng, width))
            x += width
        out.append("\n")
    return "".join(out).rstrip("\n") + "\x1b[1;1H"


@pytest.mark.parametrize("seed", range(8))
def test_random_frames_look_the_same_through_the_diff(seed: int) -> None:
    rng = random.Random(seed)
    direct, direct_stream, diffed, diffed_stream = screen_pair()
    diff = ScreenDiff()
    direct_stream.feed(START)
    diffed_stream.feed(diff.filter(START))
    sent = raw = 0
    for index in range(40):
        data = frame(rng, full=index == 0 or rng.random() < 0.1)
        out = diff.filter(data)
        direct_stream.feed(data)
        diffed_stream.feed(out)
        raw += len(data)
        sent += len(out)
        assert cells(diffed) == cells(direct), f"frame {index} differs"
    assert sent < raw


def test_an_unchanged_frame_sends_nothing() -> None:
    diff = ScreenDiff()
    data = "\x1b[1;1H\x1b[1;7mmftui\x1b[0m   \x1b[2;1Hhello"
    assert diff.filter(data)
    assert diff.filter(SYNC_START) == ""
    assert diff.filter(data) == ""
    assert diff.filter(SYNC_END) == ""


def test_one_changed_cell_sends_one_cell() -> None:
    diff = ScreenDiff()
    diff.filter("\x1b[4;7Habc" + " " * 30)
    out = diff.filter("\x1b[4;7Habd" + " " * 30)
    assert out == "\x1b[4;9Hd"


def test_sequences_it_does_not_draw_pass_through() -> None:
    diff = ScreenDiff()
    assert diff.filter("\x1b[?1000h\x1b[?2004h") == "\x1b[?1000h\x1b[?2004h"
    assert "\x1b]22;default\x07" in diff.filter("\x1b]22;default\x07\x1b[1;1Hx")


def test_invalidate_with_clear_resends_everything() -> None:
    diff = ScreenDiff()
    data = "\x1b[1;1Hhello"
    diff.filter(data)
    diff.invalidate(clear=True)
    out = diff.filter(data)
    assert "\x1b[2J" in out and "hello" in out


def test_sgr_is_canonical() -> None:
    assert apply_sgr("", "39;49") == ""  # the default pen, spelled out
    assert apply_sgr("", "1;7") == apply_sgr("", "7;1")
    assert apply_sgr(apply_sgr("", "1"), "0") == ""
    assert apply_sgr("", "38;5;39") != ""  # 39 here is a colour number, not "default"
    assert sgr_for(apply_sgr("", "1;32;49")) == "\x1b[0;1;32m"


def _normalised(term: Terminal) -> list[list[tuple[str, str, str, bool, bool]]]:
    """The screen, with the clock's digits masked (two runs cannot share a second)."""
    rows = term.cells()
    for index, line in enumerate(term.screen.display):
        for match in re.finditer(r"\d{4}-\d\d-\d\dT\d{6}Z", line):
            for col in range(match.start(), match.end()):
                rows[index][col] = ("#",) + rows[index][col][1:]
    return rows


def test_the_real_app_looks_the_same_with_and_without_the_diff(config_file: Path) -> None:
    """The same keys, with the diff on and off: every cell (character, colours, bold, reverse) equal."""
    steps = [
        ("", r"q Quit"),
        ("b", r"Enter Backup"),
        ("site", r"File  site_"),
        ("\t", r"Enter Backup  Esc Admin"),
        ("\t", r"u Upload Zip"),
        ("u", r"Upload Zip: Enter chooses"),
        ("\x1b", r"No backup chosen"),
        ("\x0c", r"No backup chosen"),  # Ctrl+L: redraw everything
        ("\x1b", r"Backup/Restore +back up"),
        ("\x1b[B", r"Refresh"),
    ]
    screens: dict[str, list[object]] = {}
    sent: dict[str, int] = {}
    for diff in ("0", "1"):
        env = {"MFTUI_LOW_BANDWIDTH": "1", "MFTUI_SCREEN_DIFF": diff}
        with Terminal(["--config", str(config_file)], env=env) as term:
            seen = []
            for keys, expect in steps:
                if keys:
                    term.send(keys)
                term.wait_for(expect)
                seen.append(_normalised(term))
            screens[diff] = seen
            sent[diff] = term.received
    for index, (before, after) in enumerate(zip(screens["0"], screens["1"], strict=True)):
        assert before == after, f"step {index} ({steps[index][0]!r}) looks different with the diff"
    assert sent["1"] < sent["0"] / 2
