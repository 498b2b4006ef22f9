"""Send a terminal only the cells that changed, as curses does.

Textual repaints whole widget regions: a typed character resends the whole
input line, opening a dialog resends all 24 rows, a screen switch several
times over. On a 9600-baud console that is seconds per key. ``ScreenDiff``
keeps a copy of what the terminal shows, reads Textual's output (cursor
moves, SGR colours, text), and writes only the cells that differ.

It understands exactly what Textual writes in a frame; anything it does not
understand is passed through unchanged and makes it forget what the screen
holds, so the next cells are sent in full: wrong bytes are never saved.
Ctrl+L in the app forgets everything and repaints (a serial console may
have printed kernel messages over the screen).
"""

from __future__ import annotations

import re
from functools import lru_cache

from rich.cells import cell_len

_TOKEN = re.compile(
    r"\x1b\[(\d*);(\d*)H"  # 1,2: cursor position
    r"|\x1b\[([0-9;]*)m"  # 3: SGR
    r"|(\x1b\[[0-9;?<>=]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[()][0-9A-Za-z]|\x1b[@-Z\\-_])"  # 4
    r"|([\r\n])"  # 5
    r"|([^\x1b\r\n]+)"  # 6: text
    r"|(\x1b)",  # 7: a lone or unknown escape
)
# Sequences that neither draw nor move the cursor: modes, kitty keys, queries, OSC.
_NEUTRAL = re.compile(r"\x1b\[[?>=<]?[0-9;]*[hlu]|\x1b\[\?[0-9;]*\$p|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)")
_CLEARS = re.compile(r"\x1b\[[0-3]?J|\x1b\[\?(?:1049|1047|47)[hl]|\x1bc")
SYNC_START = "\x1b[?2026h"
SYNC_END = "\x1b[?2026l"
BLANK = (" ", "")
_SIMPLE = {1: "1", 2: "2", 3: "3", 4: "4", 5: "5", 7: "7", 8: "8", 9: "9", 21: "21", 51: "51", 52: "52", 53: "53"}
_OFF = {
    22: ("1", "2"),
    23: ("3",),
    24: ("4", "21"),
    25: ("5",),
    27: ("7",),
    28: ("8",),
    29: ("9",),
    54: ("51", "52"),
    55: ("53",),
}


class _Pen:
    """A pen being changed by an SGR: its attributes, foreground and background."""

    __slots__ = ("attrs", "bg", "fg")

    def __init__(self, pen: str) -> None:
        self.attrs: set[str] = set()
        self.fg = self.bg = ""
        for part in pen.split(",") if pen else ():
            if part.startswith("f"):
                self.fg = part[1:]
            elif part.startswith("b"):
                self.bg = part[1:]
            else:
                self.attrs.add(part)

    def apply(self, code: int) -> None:
        """One SGR code that takes no parameters."""
        if code == 0:
            self.attrs.clear()
            self.fg = self.bg = ""
        elif code in _SIMPLE:
            self.attrs.add(_SIMPLE[code])
        elif code in _OFF:
            self.attrs.difference_update(_OFF[code])
        elif 30 <= code <= 37 or 90 <= code <= 97 or code == 39:
            self.fg = "" if code == 39 else str(code)
        elif 40 <= code <= 47 or 100 <= code <= 107 or code == 49:
            self.bg = "" if code == 49 else str(code)
        else:
            self.attrs.add(str(code))

    def canonical(self) -> str:
        parts = sorted(self.attrs, key=lambda a: int(a))
        if self.fg:
            parts.append("f" + self.fg)
        if self.bg:
            parts.append("b" + self.bg)
        return ",".join(parts)


def _extended_colour(codes: list[int], i: int) -> tuple[str, int]:
    """The 38/48 colour starting at ``codes[i]`` (256 colours or RGB) and how many codes it took."""
    code = codes[i]
    if i + 2 < len(codes) and codes[i + 1] == 5:
        return f"{code};5;{codes[i + 2]}", 3
    if i + 4 < len(codes) and codes[i + 1] == 2:
        return f"{code};2;{codes[i + 2]};{codes[i + 3]};{codes[i + 4]}", 5
    return "", 1


@lru_cache(maxsize=1024)
def apply_sgr(pen: str, params: str) -> str:
    """The pen after an SGR, as a canonical parameter string ("" is the default pen).

    Canonical means equal looks give equal strings: ``39;49`` after a reset
    is the default pen, and attribute order does not matter.
    """
    state = _Pen(pen)
    codes = [int(p) if p else 0 for p in params.split(";")] if params else [0]
    i = 0
    while i < len(codes):
        if codes[i] in (38, 48):
            value, used = _extended_colour(codes, i)
            if codes[i] == 38:
                state.fg = value
            else:
                state.bg = value
            i += used
        else:
            state.apply(codes[i])
            i += 1
    return state.canonical()


@lru_cache(maxsize=1024)
def sgr_for(pen: str) -> str:
    """The escape sequence that sets ``pen`` from any state."""
    if not pen:
        return "\x1b[0m"
    params = ";".join(part[1:] if part[0] in "fb" else part for part in pen.split(","))
    return f"\x1b[0;{params}m"


class ScreenDiff:
    """What the terminal shows, and a filter that writes only what changes."""

    def __init__(self) -> None:
        self.cells: dict[tuple[int, int], tuple[str, str]] = {}
        self.cleared = False  # True: a cell not in ``cells`` is known to be blank
        self.clear_next = True  # clear the terminal before the next frame (the first one, Ctrl+L)
        self.cursor: tuple[int, int] | None = None  # where the terminal's cursor is
        self.pen: str | None = None  # the terminal's current pen; None: unknown
        self.cursor_hidden = False
        self._held_sync = False
        self._sync_sent = False
        self.bytes_in = 0
        self.bytes_out = 0

    def invalidate(self, clear: bool = False) -> None:
        """Forget the screen: every cell drawn next is sent.

        ``clear`` also blanks the terminal before the next frame, which must
        then be a full repaint (the app's Ctrl+L does both). A resize
        forgets without clearing: Textual repaints all of it anyway.
        """
        self.cells.clear()
        self.cleared = False
        self.clear_next = clear
        self.cursor = None
        self.pen = None

    def filter(self, data: str) -> str:
        """Textual's output in, the bytes the terminal needs out."""
        self.bytes_in += len(data)
        if data == SYNC_START:  # hold it: a frame that changes nothing needs no sync pair
            self._held_sync = True
            return ""
        if data == SYNC_END:
            if self._held_sync:
                self._held_sync = False
                return ""
            if not self._sync_sent:
                return ""
            self._sync_sent = False
            return self._count(data)
        out = self._frame(data)
        if out and self._held_sync:
            out = SYNC_START + out
            self._held_sync = False
            self._sync_sent = True
        return self._count(out)

    def _count(self, out: str) -> str:
        self.bytes_out += len(out)
        return out

    def _frame(self, data: str) -> str:
        out: list[str] = []
        emit = out.append
        y, x = 1, 1  # Textual's idea of the cursor
        pen = ""  # Textual's pen
        drew = False
        placed = False  # the data ends by placing the cursor (Textual does, after each frame)
        for match in _TOKEN.finditer(data):
            placed = match.group(1) is not None
            if placed:
                y = int(match.group(1) or 1)
                x = int(match.group(2) or 1)
            elif match.group(3) is not None:
                pen = apply_sgr(pen, match.group(3))
            elif (text := match.group(6)) is not None:
                x, wrote = self._text(out, y, x, text, pen)
                drew = drew or wrote
            elif (seq := match.group(4)) is not None:
                self._control(out, seq)
            elif match.group(5) is not None:
                if match.group(5) == "\r":
                    x = 1
                else:
                    y += 1
            else:  # an escape we cannot read: pass the rest through, forget the screen
                emit(data[match.start() :])
                self.invalidate()
                return "".join(out)
        if drew and self.pen:
            emit("\x1b[0m")  # never leave a colour set between frames
            self.pen = ""
        if placed and not self.cursor_hidden and self.cursor != (y, x):
            emit(f"\x1b[{y};{x}H")
            self.cursor = (y, x)
        return "".join(out)

    def _text(self, out: list[str], y: int, x: int, text: str, pen: str) -> tuple[int, bool]:
        """Text Textual draws at (y, x): only the cells that change are sent. The next x, and whether any was."""
        emit = out.append
        cells = self.cells
        if self.clear_next:
            # First frame: clear once, then blank cells cost nothing.
            emit("\x1b[0m\x1b[H\x1b[2J")
            cells.clear()
            self.cleared, self.clear_next = True, False
            self.pen, self.cursor = "", (1, 1)
        if not text.isascii() and cell_len(text) != len(text):
            self._opaque(out, y, x, text, pen)
            return x + cell_len(text), False
        drew = False
        for ch in text:
            old = cells.get((y, x), BLANK if self.cleared else None)
            if old is None or old[0] != ch or old[1] != pen:
                self._move(out, y, x)
                if self.pen != pen:
                    emit(sgr_for(pen))
                    self.pen = pen
                emit(ch)
                cells[(y, x)] = (ch, pen)
                self.cursor = (y, x + 1)
                drew = True
            x += 1
        return x, drew

    def _control(self, out: list[str], seq: str) -> None:
        """A control sequence passed through; what it does to the screen and cursor is remembered."""
        out.append(seq)
        if seq == "\x1b[?25l":
            self.cursor_hidden = True
        elif seq == "\x1b[?25h":
            self.cursor_hidden = False
        if _CLEARS.fullmatch(seq):
            self.invalidate(clear=True)  # start-up (alternate screen) or exit
        elif not _NEUTRAL.fullmatch(seq):
            self.cursor = None
            self.pen = None

    def _move(self, out: list[str], y: int, x: int) -> None:
        cursor = self.cursor
        if cursor == (y, x):
            return
        if cursor is not None and cursor[0] == y and 0 < x - cursor[1] <= 3 and self.pen is not None:
            # A short hop: resending the cells in between is cheaper than a cursor move.
            gap = [self.cells.get((y, col), BLANK if self.cleared else None) for col in range(cursor[1], x)]
            if all(cell is not None and cell[1] == self.pen for cell in gap):
                out.append("".join(cell[0] for cell in gap))  # type: ignore[index]
                self.cursor = (y, x)
                return
        out.append(f"\x1b[{y};{x}H")
        self.cursor = (y, x)

    def _opaque(self, out: list[str], y: int, x: int, text: str, pen: str) -> None:
        """Wide or combining characters: send as they are, and forget the cells they cover."""
        self._move(out, y, x)
        if self.pen != pen:
            out.append(sgr_for(pen))
            self.pen = pen
        out.append(text)
        width = cell_len(text)
        for col in range(x, x + width):
            self.cells[(y, col)] = ("\0", "?")  # never equal to anything Textual writes
        self.cursor = None
