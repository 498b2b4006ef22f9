"""Run the real ``mftui`` in an 80x24 pseudo-terminal and read its screen with pyte."""

from __future__ import annotations

import fcntl
import os
import re
import select
import shutil
import signal
import struct
import subprocess
import sys
import termios
import time
from pathlib import Path

import pyte

ROWS, COLS = 24, 80


def mftui_command() -> list[str]:
    script = Path(sys.executable).parent / "mftui"
    if script.exists():
        return [str(script)]
    found = shutil.which("mftui")
    return [found] if found else [sys.executable, "-m", "mftui"]


class Terminal:
    """One mftui in a pty; ``send`` keys, ``wait_for`` text on the emulated screen."""

    def __init__(self, args: list[str], env: dict[str, str] | None = None, term: str = "linux") -> None:
        self.master, slave = os.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", ROWS, COLS, 0, 0))
        child_env = {k: v for k, v in os.environ.items() if not k.startswith(("TEXTUAL", "MFTUI_"))}
        child_env.update({"TERM": term, "LANG": "C.UTF-8", "COLUMNS": str(COLS), "LINES": str(ROWS)})
        child_env.update(env or {})

        def preexec() -> None:
            os.setsid()
            fcntl.ioctl(0, termios.TIOCSCTTY, 0)

        self.proc = subprocess.Popen(
            mftui_command() + args,
            stdin=slave,
            stdout=slave,
            stderr=slave,
            env=child_env,
            preexec_fn=preexec,
            close_fds=True,
        )
        os.close(slave)
        self.screen = pyte.Screen(COLS, ROWS)
        self.stream = pyte.ByteStream(self.screen)
        self.received = 0
        self.raw = bytearray()  # every byte the app wrote

    def pump(self, timeout: float) -> int:
        ready, _, _ = select.select([self.master], [], [], timeout)
        if not ready:
            return 0
        try:
            data = os.read(self.master, 65536)
        except OSError:
            return 0
        self.stream.feed(data)
        self.received += len(data)
        self.raw += data
        return len(data)

    def text(self) -> str:
        return "\n".join(self.screen.display)

    def wait_for(self, pattern: str, timeout: float = 15.0) -> str:
        regex = re.compile(pattern, re.S)
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if regex.search(self.text()):
                self.settle()
                return self.text()
            self.pump(0.05)
        raise AssertionError(f"{pattern!r} never appeared; the screen shows:\n{self.text()}")

    def settle(self, quiet: float = 0.3, timeout: float = 5.0) -> None:
        """Read until the app has been silent for ``quiet`` seconds."""
        end = time.monotonic() + timeout
        last = time.monotonic()
        while time.monotonic() < end:
            if self.pump(0.02):
                last = time.monotonic()
            elif time.monotonic() - last >= quiet:
                return

    def send(self, keys: str) -> None:
        os.write(self.master, keys.encode())

    def cells(self) -> list[list[tuple[str, str, str, bool, bool]]]:
        """Every cell as (char, fg, bg, bold, reverse)."""
        return [
            [(c.data, c.fg, c.bg, c.bold, c.reverse) for c in (self.screen.buffer[row][col] for col in range(COLS))]
            for row in range(ROWS)
        ]

    def wait_exit(self, timeout: float = 15.0) -> int:
        """Read until the app has exited; its exit status."""
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            self.pump(0.05)
            if self.proc.poll() is not None:
                while self.pump(0.05):
                    pass
                return self.proc.returncode
        raise AssertionError(f"mftui did not exit; the screen shows:\n{self.text()}")

    def close(self) -> None:
        if self.proc.poll() is None:
            try:
                self.send("\x11")  # Ctrl+Q
                self.proc.wait(3)
            except (OSError, subprocess.TimeoutExpired):
                self.proc.send_signal(signal.SIGTERM)
                try:
                    self.proc.wait(3)
                except subprocess.TimeoutExpired:
                    self.proc.kill()
                    self.proc.wait()
        os.close(self.master)

    def __enter__(self) -> Terminal:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
