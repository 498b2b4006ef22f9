"""How long a transfer takes on a serial line, said before it starts (issue 14)."""

from __future__ import annotations

import os
import termios

from mftui.transfer.line_speed import baud, duration, estimate, seconds


def test_100_kb_at_9600_baud_is_about_two_minutes() -> None:
    assert seconds(100 * 1024, 9600) == 100 * 1024 * 10 / 9600
    assert duration(seconds(100 * 1024, 9600)) == "about 2 minutes"
    assert duration(seconds(100 * 1024, 115200)) == "about 9 seconds"
    assert duration(seconds(40 * 1024 * 1024, 9600)) == "about 12.1 hours"
    assert seconds(45_000, 9600, text=True) > seconds(45_000, 9600) * 1.6  # base64 and the line numbers


def test_the_speed_is_read_from_the_terminal_settings() -> None:
    master, slave = os.openpty()
    try:
        attrs = termios.tcgetattr(slave)
        attrs[4] = attrs[5] = termios.B9600
        termios.tcsetattr(slave, termios.TCSANOW, attrs)
        assert baud(slave, serial_only=False) == 9600
        assert estimate(100 * 1024, slave, serial_only=False) == "about 2 minutes at 9600 baud"
        # A pty's speed is made up (SSH, a terminal window): by default it says nothing.
        assert baud(slave) is None and estimate(100 * 1024, slave) is None
    finally:
        os.close(master)
        os.close(slave)


def test_no_terminal_no_estimate(tmp_path: object) -> None:
    read, write = os.pipe()
    try:
        assert baud(read, serial_only=False) is None
        assert estimate(1000, None) is None
    finally:
        os.close(read)
        os.close(write)
