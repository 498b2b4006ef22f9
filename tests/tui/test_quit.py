"""Quitting: Ctrl+C quits (asking first during a backup), a restore cannot be interrupted,
and SIGTERM / SIGHUP leave the terminal usable and no partial archive."""

from __future__ import annotations

import os
import signal
import termios
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from textual.widgets import Static
from trees import file_bytes

from mftui.archive.reader import read_info
from mftui.settings import Settings
from mftui.tui.app import MftuiApp
from mftui.tui.dialogs.confirm_restore import ConfirmRestore
from mftui.tui.dialogs.message import MessageDialog
from mftui.tui.dialogs.restore_triggered import RestoreTriggered

from .helpers import SIZE, burst, plain, settle
from .pty_run import Terminal
from .test_restore import backup_then_change_live, open_backup_restore, upload

BIG = 160 * 1024 * 1024  # incompressible: a backup of it takes a moment


def make_big(root: Path) -> None:
    (root / "flows" / "big.bin").write_bytes(os.urandom(BIG))


async def test_ctrl_c_quits_even_from_the_name_field(make_app: Callable[..., MftuiApp]) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("b")
        await settle(pilot)
        assert app.focused is not None and app.focused.id == "name"
        await pilot.press("ctrl+c")
        await pilot.pause()
        assert app._exit  # noqa: SLF001 - Textual's own "exit requested" flag


async def test_q_during_a_restore_says_it_cannot_be_interrupted(
    make_app: Callable[..., MftuiApp], settings: Settings
) -> None:
    archive, backed_up = backup_then_change_live(settings)
    make_big(settings.instance_root)  # the live tree is big: the safety copy takes a moment
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await open_backup_restore(pilot)
        await upload(pilot, archive)
        await pilot.press("r")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmRestore)
        await burst(pilot, "tab", "enter", "ctrl+c")  # Ctrl+C handled while the restore runs
        said = [screen for screen in app.screen_stack if isinstance(screen, MessageDialog)]
        assert said and "it cannot be interrupted" in plain(said[0].query_one("#message", Static).content)
        assert not app._exit  # noqa: SLF001
        assert isinstance(app.screen, RestoreTriggered)  # the restore went on to the end
    assert file_bytes(settings.instance_root) == backed_up


def wait_for_partial(term: Terminal, backups: Path) -> None:
    """Until the backup is being written (its partial archive exists)."""
    end = time.monotonic() + 15
    while not list(backups.glob(".partial-*")):
        assert time.monotonic() < end, term.text()
        term.pump(0.01)


def _terminal_is_sane(term: Terminal) -> None:
    attrs = termios.tcgetattr(term.master)
    assert attrs[3] & termios.ECHO and attrs[3] & termios.ICANON, "the tty was left in raw mode"
    assert b"\x1b[?1049l" in term.raw, "the alternate screen was not left"


def _no_partial_archive(backups: Path) -> None:
    left = sorted(p.name for p in backups.iterdir()) if backups.exists() else []
    assert not [name for name in left if name.startswith(".partial")], left
    assert not left or all(name.endswith(".zip") and not name.startswith(".") for name in left), left


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP])
def test_a_signal_during_a_backup_leaves_no_partial_archive(
    config_file: Path, instance_root: Path, tmp_path: Path, signum: int
) -> None:
    make_big(instance_root)
    with Terminal(["--config", str(config_file)]) as term:
        term.wait_for(r"q Quit")
        term.send("b")
        term.wait_for(r"Enter Backup  Tab Next")
        term.send("sig\r")
        wait_for_partial(term, tmp_path / "backups")
        term.proc.send_signal(signum)
        term.wait_exit()
        _terminal_is_sane(term)
    _no_partial_archive(tmp_path / "backups")
    for made in (tmp_path / "backups").glob("*.zip"):  # finished before the signal arrived: whole
        assert len(read_info(made).files) == 18


def test_ctrl_c_during_a_backup_asks_then_stops_it(config_file: Path, instance_root: Path, tmp_path: Path) -> None:
    make_big(instance_root)
    with Terminal(["--config", str(config_file)]) as term:
        term.wait_for(r"q Quit")
        term.send("b")
        term.wait_for(r"Enter Backup  Tab Next")
        term.send("stop\r")
        wait_for_partial(term, tmp_path / "backups")
        term.send("\x03")  # Ctrl+C
        term.wait_for(r"Quit while a backup is running")
        term.send("\t\r")  # Tab to Yes, Enter
        assert term.wait_exit() == 0
        _terminal_is_sane(term)
    _no_partial_archive(tmp_path / "backups")
    for made in (tmp_path / "backups").glob("stop_*.zip"):  # it may have finished while the question was read
        assert len(read_info(made).files) == 18  # then it is whole


def test_the_line_dropping_during_a_backup_leaves_no_partial_archive(
    config_file: Path, instance_root: Path, tmp_path: Path
) -> None:
    """The SSH link drops: the pty is closed under mftui (the kernel sends SIGHUP and writes fail)."""
    make_big(instance_root)
    term = Terminal(["--config", str(config_file)])
    try:
        term.wait_for(r"q Quit")
        term.send("b")
        term.wait_for(r"Enter Backup  Tab Next")
        term.send("gone\r")
        wait_for_partial(term, tmp_path / "backups")
        os.close(term.master)
        assert term.proc.wait(20) == 0
    finally:
        if term.proc.poll() is None:
            term.proc.kill()
    _no_partial_archive(tmp_path / "backups")
    for made in (tmp_path / "backups").glob("*.zip"):
        assert len(read_info(made).files) == 18
