"""How the core reports progress without knowing who listens."""

from __future__ import annotations

from collections.abc import Callable

# progress(done, total, what): bytes done of total, and the file or step at hand.
Progress = Callable[[int, int, str], None]


def no_progress(done: int, total: int, what: str) -> None:
    """The listener when nobody listens."""
