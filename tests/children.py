"""A child Python killed at a point it chooses: it prints a word there and waits; the test kills it with SIGKILL."""

from __future__ import annotations

import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def killed_at(code: str, *args: str, word: str) -> Iterator[subprocess.Popen[str]]:
    """Run ``code`` with ``args``; once it prints ``word``, give the process (still running) to the block,
    then SIGKILL and reap it. What it wrote to stderr is the failure message if it never says ``word``."""
    proc = subprocess.Popen([sys.executable, "-c", code, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    try:
        assert proc.stdout is not None and proc.stderr is not None
        line = proc.stdout.readline()
        assert line.strip() == word, proc.stderr.read()
        yield proc
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.communicate(timeout=30)  # reaped: its pid no longer exists
    assert proc.returncode == -signal.SIGKILL
