"""The progress bar of a backup, a restore and a put-back: Textual's, drawn in ASCII when the app is.

Textual's bar is box-drawing (``━``), which a VT100 or a terminal whose
locale is not UTF-8 cannot draw, and its done and to-do parts differ only
by colour, which a monochrome terminal does not show: in ASCII mode it is
``#`` for done and ``-`` for to do.
"""

from __future__ import annotations

from rich.console import Console, ConsoleOptions, RenderResult
from rich.text import Text
from textual.app import ComposeResult
from textual.renderables.bar import Bar as BarRenderable
from textual.widgets import ProgressBar


class AsciiBar(BarRenderable):
    """``#`` for the highlighted range, ``-`` around it, in whole cells."""

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        width = self.width or options.max_width
        start, end = self.highlight_range
        first = min(width, max(0, round(start)))
        last = min(width, max(first, round(end)))
        yield Text("-" * first + "#" * (last - first) + "-" * (width - last), end="")


class Progress(ProgressBar):
    """A ProgressBar whose bar is AsciiBar when the app draws in ASCII (MftuiApp.ascii_only)."""

    def compose(self) -> ComposeResult:
        if getattr(self.app, "ascii_only", False):
            self.BAR_RENDERABLE = AsciiBar
        yield from super().compose()
