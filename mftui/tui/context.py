"""Typed access to the running MftuiApp from any widget (no import cycle at run time)."""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from textual.dom import DOMNode

if TYPE_CHECKING:
    from .app import MftuiApp


def mftui_app(node: DOMNode) -> MftuiApp:
    """The app, typed: its settings, clock and low-bandwidth flag."""
    return cast("MftuiApp", node.app)
