"""Widgets that tell the key bar what their keys do (Enter makes the backup, Tab moves on)."""

from __future__ import annotations

from typing import Any

from textual.widgets import Button, Input

KeyHints = tuple[tuple[str, str], ...]  # (key, what it does), e.g. ("Enter", "Backup")


class HintedInput(Input):
    """While it has focus, letters type into it; the key bar shows ``key_hints`` instead of letter keys."""

    def __init__(self, *args: Any, key_hints: KeyHints = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.key_hints = key_hints


class HintedButton(Button):
    """A Button whose ``key_hints`` the key bar shows while it has focus (what Enter does on it)."""

    def __init__(self, *args: Any, key_hints: KeyHints = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.key_hints = key_hints
