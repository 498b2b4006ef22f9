"""What every reboot backend shares: the outcome, the interface, and how failures are worded."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

DETAIL_LIMIT = 300  # characters of stderr / supervisor text quoted in a message

# Every failure message says it: a failed reboot never undoes a committed restore.
COMMITTED = "The restored configuration is committed and stays in place"


@dataclass(frozen=True)
class RebootOutcome:
    """What a successful reboot request did."""

    backend: str  # "demo", "command", "systemd" or "balena"
    real: bool  # False when the host was not rebooted (demo)
    message: str  # one sentence for the technician


class RebootService(Protocol):
    """A way to reboot the unit (or restart the product) after a restore."""

    name: str

    def describe(self) -> str:
        """One line for the UI, e.g. ``systemd: systemctl reboot``. Never raises."""
        ...

    def request_reboot(self) -> RebootOutcome:
        """Ask for the reboot; raise RebootError saying what to do next on failure."""
        ...


def decoded(data: bytes | None) -> str:
    return (data or b"").decode("utf-8", errors="replace")


def last_line(text: str) -> str:
    """The last non-empty line, shortened: usually the one that says why."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return shorten(lines[-1]) if lines else ""


def shorten(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= DETAIL_LIMIT else text[: DETAIL_LIMIT - 1] + "…"
