"""How long a transfer takes on a serial line, said before it starts.

A serial console's speed is known (``stty speed``: termios' output speed);
a pseudo-terminal (SSH, a terminal window) reports a made-up speed, so it
says nothing. Ten bits a byte on the wire (start, 8 data, stop): 100 KB at
9600 baud is about 2 minutes.
"""

from __future__ import annotations

import os
import re
import termios

# Serial devices: ttyS0 (8250), ttyUSB0/ttyACM0 (USB adapters), ttyAMA0 (Raspberry Pi), ttymxc0 (i.MX)...
_SERIAL = re.compile(r"/dev/tty(?:S|USB|ACM|AMA|AMC|mxc|O|SAC|PS|LP|MSM|HS|XRUSB|GS|SC)\d+")
ARMOUR_FACTOR = 76 / 45  # text armour: 45 bytes become a 75-character line and its newline


def _speeds() -> dict[int, int]:
    found = {}
    for name in dir(termios):
        if re.fullmatch(r"B\d+", name):
            found[getattr(termios, name)] = int(name[1:])
    return found


def baud(fd: int, *, serial_only: bool = True) -> int | None:
    """The line's speed in baud, or None when it is not known (not a terminal, or not a serial line)."""
    try:
        if serial_only and not _SERIAL.fullmatch(os.ttyname(fd)):
            return None
        speed = termios.tcgetattr(fd)[5]  # ospeed
    except (OSError, termios.error):
        return None
    return _speeds().get(speed) or None


def seconds(size: int, rate: int, *, text: bool = False) -> float:
    """Seconds to move ``size`` bytes at ``rate`` baud (10 bits a byte; ``text``: armoured lines)."""
    return size * (ARMOUR_FACTOR if text else 1.0) * 10 / rate


def duration(secs: float) -> str:
    """``about 2 minutes``, ``about 40 seconds``, ``about 1.5 hours``."""
    if secs < 90:
        return f"about {max(1, round(secs))} second{'s' if round(secs) > 1 else ''}"
    if secs < 90 * 60:
        return f"about {round(secs / 60)} minutes"
    return f"about {secs / 3600:.1f} hours"


def estimate(size: int, fd: int | None, *, text: bool = False, serial_only: bool = True) -> str | None:
    """``about 2 minutes at 9600 baud``, or None when the line's speed is not known."""
    if fd is None:
        return None
    rate = baud(fd, serial_only=serial_only)
    if rate is None:
        return None
    return f"{duration(seconds(size, rate, text=text))} at {rate} baud"
