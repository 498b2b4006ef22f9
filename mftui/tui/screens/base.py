"""Screens that repaint only what changed when focus moves.

Textual's ``Screen.focused`` is a repainting reactive: every Tab repaints the
whole screen (about 3 KB at 80x24), though only the widgets gaining and losing
focus change, and they repaint themselves through their focus styles.
"""

from __future__ import annotations

from typing import TypeVar

from textual.reactive import Reactive
from textual.screen import ModalScreen, Screen
from textual.widget import Widget

ResultType = TypeVar("ResultType")


class LeanScreen(Screen[ResultType]):
    """A Screen whose focus changes do not repaint all of it."""

    focused: Reactive[Widget | None] = Reactive(None, repaint=False)


class LeanModalScreen(ModalScreen[ResultType]):
    """A ModalScreen whose focus changes do not repaint all of it."""

    focused: Reactive[Widget | None] = Reactive(None, repaint=False)
