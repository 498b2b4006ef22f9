"""Transfers over the console line from the TUI (issue 14).

In a real pty (TERM=linux, the screen diff on): the app hands the terminal
to the real rz/sz, the test plays the technician's terminal program (the
real sz/rz on the other end), then the whole screen must be painted again
(the same screen as a Ctrl+L repaint) and the received backup is checked and
shown in the metadata pane. Headless (Pilot): the wiring, USB sticks.
"""

from __future__ import annotations

import os
import select
import shutil
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from textual.widgets import Input

from mftui.archive.writer import create_backup
from mftui.settings import Settings
from mftui.transfer.armour import Decoder
from mftui.tui.app import MftuiApp
from mftui.tui.dialogs.download_zip import DownloadZip
from mftui.tui.dialogs.pick_backup import BackupList, PickBackup

from .helpers import SIZE, settle, static_text
from .pty_run import Terminal

F2, F3, F4, F6 = "\x1b[[B", "\x1b[[C", "\x1b[[D", "\x1b[17~"  # the Linux console's function keys
ZRINIT = b"**\x18B01"  # rz asking for a file
ZRQINIT = b"**\x18B00"  # sz offering one
needs_lrzsz = pytest.mark.skipif(shutil.which("sz") is None or shutil.which("rz") is None, reason="needs lrzsz")


def carry(term: Terminal, other: subprocess.Popen[bytes], timeout: float = 30) -> None:
    """Be the terminal program: the app's bytes to ``other`` and back, every byte also onto the emulated screen."""
    assert other.stdin is not None and other.stdout is not None
    end = time.monotonic() + timeout
    while other.poll() is None and time.monotonic() < end:
        ready, _, _ = select.select([term.master, other.stdout], [], [], 0.05)
        if term.master in ready:
            data = os.read(term.master, 65536)
            term.stream.feed(data)
            term.raw += data
            try:
                other.stdin.write(data)
                other.stdin.flush()
            except BrokenPipeError:
                pass
        if other.stdout in ready:
            data = os.read(other.stdout.fileno(), 65536)
            if data:
                os.write(term.master, data)
    other.wait(10)


def wait_raw(term: Terminal, marker: bytes, timeout: float = 15) -> None:
    end = time.monotonic() + timeout
    while marker not in term.raw and time.monotonic() < end:
        term.pump(0.05)
    assert marker in term.raw, f"{marker!r} never came; the screen shows:\n{term.text()}"


def assert_fully_repainted(term: Terminal) -> None:
    """What is on screen is what a full repaint (Ctrl+L) shows: nothing left over from the transfer."""
    term.settle(quiet=0.5)
    after_transfer = term.text()
    term.send("\x0c")
    term.settle(quiet=0.5)
    assert after_transfer == term.text()
    assert "mftui:" not in after_transfer and "**" not in after_transfer


def open_picker(term: Terminal) -> None:
    term.wait_for(r"q Quit")
    term.send("b")
    term.wait_for(r"Enter Backup")
    term.send("\t")
    term.settle()
    term.send("\t")
    term.settle()
    term.send("u")
    term.wait_for(r"F2 receive \(ZMODEM\)")


@pytest.fixture
def backup(settings: Settings) -> Path:
    return create_backup(settings, "site").path


@needs_lrzsz
def test_receive_zmodem_from_the_picker_shows_the_backup(config_file: Path, settings: Settings, backup: Path,
                                                         tmp_path: Path) -> None:
    laptop = tmp_path / "laptop"
    laptop.mkdir()
    sent = laptop / "fromlaptop_2026-11-05T101500Z.zip"
    shutil.copy(backup, sent)
    with Terminal(["--config", str(config_file)]) as term:
        open_picker(term)
        term.send(F2)
        wait_raw(term, ZRINIT)  # the app has handed the terminal to rz
        assert b"mftui: waiting for a backup" in term.raw
        sz = subprocess.Popen(["sz", "-b", str(sent)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                              stderr=subprocess.DEVNULL)
        carry(term, sz)
        assert sz.returncode == 0
        received = settings.backups_dir / "incoming" / sent.name
        screen = term.wait_for(r"Verified +yes")
        assert "incoming/" in screen and sent.name in screen  # in the metadata pane, as if picked
        assert "Name         site" in screen
        assert received.read_bytes() == backup.read_bytes()
        assert_fully_repainted(term)


@needs_lrzsz
def test_cancelled_receive_says_so_and_repaints(config_file: Path, settings: Settings) -> None:
    with Terminal(["--config", str(config_file)]) as term:
        open_picker(term)
        term.send(F2)
        wait_raw(term, ZRINIT)
        term.send("\x18" * 5)  # Ctrl+X five times
        screen = term.wait_for(r"Upload Zip: nothing received")
        assert "The transfer did not complete" in " ".join(screen.split())
        assert_fully_repainted(term)
        assert [p.name for p in (settings.backups_dir / "incoming").iterdir()] == []


def test_paste_as_text_in_the_picker_shows_the_backup(config_file: Path, settings: Settings, backup: Path) -> None:
    from mftui.transfer.armour import encode

    lines = list(encode(backup))
    with Terminal(["--config", str(config_file)]) as term:
        open_picker(term)
        term.send(F3)
        wait_raw(term, b"they are not echoed")
        start = len(term.raw)
        term.send("tech@laptop:~$ cat capture.txt\r\n")  # noise before the header, as a paste brings it
        for line in lines:
            term.send(line + "\r")  # a terminal sends Enter as CR
            term.pump(0.001)
        screen = term.wait_for(r"Verified +yes")
        assert backup.name in screen and "incoming/" in screen
        assert lines[1].encode() not in bytes(term.raw[start:])  # not echoed back over the line
        assert_fully_repainted(term)
    assert (settings.backups_dir / "incoming" / backup.name).read_bytes() == backup.read_bytes()


@pytest.mark.parametrize(("key", "said"), [("\x03", "cancelled with Ctrl+C; nothing was kept"),
                                           ("\x04", "no mftui-armour header line was found")])
def test_a_paste_given_up_says_so_and_the_terminal_comes_back(config_file: Path, settings: Settings, key: str,
                                                              said: str) -> None:
    with Terminal(["--config", str(config_file)]) as term:
        open_picker(term)
        term.send(F3)
        wait_raw(term, b"they are not echoed")
        term.send("00001 half a line")
        term.send(key * (2 if key == "\x04" else 1))  # Ctrl+D after a partial line: once for the line, once more
        screen = term.wait_for(r"Upload Zip: nothing received")
        assert said.lower() in " ".join(screen.split()).lower()
        assert_fully_repainted(term)
        term.send("\r")  # OK: the picker is back, and keys work
        term.wait_for(r"F2 receive \(ZMODEM\)")
    assert [p.name for p in (settings.backups_dir / "incoming").iterdir()] == []


def open_download(term: Terminal) -> None:
    term.wait_for(r"q Quit")
    term.send("b")
    term.wait_for(r"Enter Backup")
    term.send("\r")
    term.wait_for(r"Download Zip")
    term.send("d")
    term.wait_for(r"F2 send with ZMODEM")


@needs_lrzsz
def test_send_zmodem_from_download_zip(config_file: Path, tmp_path: Path) -> None:
    laptop = tmp_path / "laptop"
    laptop.mkdir()
    with Terminal(["--config", str(config_file)]) as term:
        open_download(term)
        term.send(F2)
        wait_raw(term, ZRQINIT)
        rz = subprocess.Popen(["rz", "-b"], cwd=laptop, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                              stderr=subprocess.DEVNULL)
        carry(term, rz)
        assert rz.returncode == 0
        term.wait_for(r"Sent with ZMODEM")
        [arrived] = laptop.iterdir()
        assert arrived.read_bytes() == next((tmp_path / "backups").glob("*.zip")).read_bytes()
        assert_fully_repainted(term)


def test_print_as_text_from_download_zip(config_file: Path, tmp_path: Path) -> None:
    with Terminal(["--config", str(config_file)]) as term:
        open_download(term)
        term.send(F3)
        wait_raw(term, b"Start your terminal's log now")
        start = len(term.raw)
        term.send("\r")
        wait_raw(term, b"Stop the log")
        captured = bytes(term.raw[start:]).decode(errors="replace")
        term.send("\r")
        term.wait_for(r"Printed as \d+ text lines")
        assert_fully_repainted(term)
    out = tmp_path / "decoded.zip"
    with out.open("wb") as f:
        decoder = Decoder(f, 10**8)
        assert any(decoder.feed(line) for line in captured.splitlines())
    assert out.read_bytes() == next((tmp_path / "backups").glob("*.zip")).read_bytes()


# Headless: the wiring (Pilot has no terminal to hand over) and USB sticks on real tmpfs mounts.

@pytest.fixture
def stick(tmp_path: Path) -> Iterator[Path]:
    top = tmp_path / "mnt" / "SITEKEY"
    top.mkdir(parents=True)
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(top)], capture_output=True,
                      timeout=30).returncode != 0:
        pytest.skip("needs root to mount a tmpfs")
    yield top
    subprocess.run(["umount", str(top)], capture_output=True, timeout=30)


async def test_headless_hand_over_is_refused_in_words(make_app: Callable[..., MftuiApp], backup: Path) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("b")
        await settle(pilot)
        await pilot.press("tab", "tab", "u")
        await settle(pilot)
        assert isinstance(app.screen, PickBackup)
        await pilot.press("f3")
        await settle(pilot)
        assert "cannot be handed over" in " ".join(static_text(pilot, "#message").split())


async def test_download_zip_picks_a_stick_copies_and_unmounts(make_app: Callable[..., MftuiApp], backup: Path,
                                                              stick: Path, tmp_path: Path,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(DownloadZip, "mount_patterns", (f"{tmp_path}/mnt/*",))
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.push_screen(DownloadZip(backup, backup.stat().st_size, blink=False))
        await settle(pilot)
        await pilot.press("f4")
        await settle(pilot)
        assert app.screen.query_one("#folder", Input).value == str(stick)
        assert static_text(pilot, "#media").startswith("USB 1 of 1: SITEKEY")
        await pilot.press("enter")
        await app.workers.wait_for_complete()
        await settle(pilot)
        status = " ".join(static_text(pilot, "#copy-status").split())
        assert "safe to unplug once unmounted" in status
        assert (stick / backup.name).read_bytes() == backup.read_bytes()
        await pilot.press("f6")
        await settle(pilot)
        assert "SITEKEY is unmounted: safe to unplug" in static_text(pilot, "#copy-status")
        assert str(stick) not in Path("/proc/self/mounts").read_text()


async def test_picker_jumps_to_a_stick(make_app: Callable[..., MftuiApp], backup: Path, stick: Path,
                                       tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(PickBackup, "mount_patterns", (f"{tmp_path}/mnt/*",))
    (stick / "onstick_2026-11-05T101500Z.zip").write_bytes(backup.read_bytes())
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("b")
        await settle(pilot)
        await pilot.press("tab", "tab", "u")
        await settle(pilot)
        await pilot.press("f4")
        await settle(pilot)
        assert app.screen.query_one(BackupList).location == stick
        await pilot.press("enter")  # the newest file on the stick is highlighted
        await settle(pilot)
        assert not isinstance(app.screen, PickBackup)



@pytest.mark.parametrize("name", ["download-zip-console", "received-pane"])
def test_pictures(name: str, snap_compare: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """The offers on a serial console (no SSH) and a received backup in the metadata pane, at 80x24."""
    from .scenes import snapshot
    from .scenes_transfer import SCENES

    if shutil.which("sz") is None:
        pytest.skip("the picture shows F2 (ZMODEM), offered only with lrzsz")
    assert snapshot(SCENES[name], snap_compare, monkeypatch)
