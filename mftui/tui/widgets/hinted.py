"""An Input that tells the key bar what its keys do (Enter makes the backup, Tab moves on)."""

from __future__ import annotations

from typing import Any

from textual.widgets import Input


class HintedInput(Input):
    """While it has focus, letters type into it; the key bar shows ``key_hints`` instead of letter keys."""

    def __init__(self, *args: Any, key_hints: tuple[tuple[str, str], ...] = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.key_hints = key_hints
