"""Long values that wrap where a reader expects, never inside a name.

Rich wraps at spaces and folds anything else at the last column: a path
becomes ``.../site-visit_2026-11-26T0354`` over ``54Z.zip``, and a list of
counts ``services`` over ``5``. A technician reads (and retypes) those.
``Wrapped`` breaks a line only between its pieces: after a ``/`` or a space
in a path or a sentence holding one, between the items of a list. A single
piece longer than the whole line is still folded, as nothing else fits.

What it shows is plain text (a Rich ``Text``, never markup) and escaped by
``mftui.text.show``: a path or a message may hold a name from an archive.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from rich.cells import cell_len, chop_cells
from rich.console import Console, ConsoleOptions, RenderResult
from rich.measure import Measurement
from rich.style import StyleType
from rich.text import Text

from ..text import show


def shown(text: object) -> str:
    """Untrusted text made safe to show, whole, line by line (``show`` would escape the line breaks)."""
    return "\n".join(show(line, limit=None) for line in str(text).split("\n"))


# A line break, or a run up to and including the next "/" or spaces.
_PIECES = re.compile(r"\n|[^ /\n]+/* *|/+ *| +")


class Wrapped:
    """Text that wraps only between its pieces (their concatenation is the text)."""

    def __init__(self, pieces: Sequence[str], style: StyleType = "") -> None:
        self.pieces = [piece for piece in pieces if piece]
        self.style = style

    @classmethod
    def path(cls, text: object, style: StyleType = "") -> Wrapped:
        """A path, or words holding one (newlines kept): breaks after a ``/`` or a space."""
        return cls(_PIECES.findall(shown(text)), style)

    @classmethod
    def items(cls, items: Iterable[str], separator: str = ", ", style: StyleType = "") -> Wrapped:
        """A list such as ``certs 3, flows 2``: breaks only between items."""
        values = [shown(item) for item in items]
        return cls([item + separator for item in values[:-1]] + values[-1:], style)

    @property
    def plain(self) -> str:
        return "".join(self.pieces)

    def __str__(self) -> str:
        return self.plain

    def lines(self, width: int) -> list[str]:
        """The text broken into lines of at most ``width`` cells."""
        width = max(1, width)
        lines: list[str] = []
        line = ""
        for piece in self.pieces:
            if piece == "\n":
                lines.append(line.rstrip())
                line = ""
                continue
            if line and cell_len((line + piece).rstrip()) > width:
                lines.append(line.rstrip())
                line = ""
            line += piece
            if cell_len(line.rstrip()) > width:  # one piece longer than a line: fold it
                *full, line = chop_cells(line, width)
                lines.extend(full)
        lines.append(line.rstrip())
        return lines

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        text = Text("\n".join(self.lines(options.max_width)), style=self.style, no_wrap=True)
        yield text

    def __rich_measure__(self, console: Console, options: ConsoleOptions) -> Measurement:
        longest = max((cell_len(piece.rstrip()) for piece in self.pieces), default=0)
        widest = max((cell_len(line) for line in self.lines(1 << 16)), default=0)
        return Measurement(min(longest, options.max_width), min(widest, options.max_width))
