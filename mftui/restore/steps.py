"""The named steps of phase two and of recovery, and the test seam at each.

A test sets :data:`step_hook` to kill the process (or pause it for a power
cut) right after a named step; it is None in normal runs.
"""

from __future__ import annotations

from collections.abc import Callable

# Test seam: called with the name of each step of phase two and of recovery,
# right after that step is done (a test kills the process there).
step_hook: Callable[[str], None] | None = None


def step(name: str) -> None:
    """Mark a step as done (and give the test seam its chance)."""
    if step_hook is not None:
        step_hook(name)
