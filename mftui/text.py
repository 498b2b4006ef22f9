"""Untrusted text made safe to show: the one escaping function of mftui (no Textual here).

Every string that comes from an archive (names, hostnames, hub ids, product
and tool versions), a file name, a path or a settings file goes through
:func:`show` before a person sees it, in the CLI and the TUI alike: control
and format characters (ESC, BEL, bidi overrides, zero-width marks) and lone
surrogates become visible ``\\xNN`` / ``\\uNNNN`` escapes, so nothing from an
archive can move the cursor, set the window title or clear the question. The
TUI additionally shows the result as plain text, never as markup.
:func:`text_problem` says why a string may not even be stored (backup.json
refuses control characters and lone surrogates in its texts).
"""

from __future__ import annotations

import unicodedata

ELLIPSIS = "…"


def show(text: str, limit: int | None = 100) -> str:
    """``text`` as a technician can read it: control characters escaped, long text shortened.

    ``limit`` (characters, after escaping) keeps the start and the end of a
    longer text around an ellipsis; ``None`` keeps it whole.
    """
    out = []
    for ch in text:
        if ch.isprintable() and unicodedata.category(ch) != "Cf":
            out.append(ch)
        elif ord(ch) < 0x100:
            out.append(f"\\x{ord(ch):02x}")
        elif ord(ch) < 0x10000:
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(f"\\U{ord(ch):08x}")
    shown = "".join(out)
    if limit is not None and len(shown) > limit:
        shown = shown[: limit // 2 - 1] + ELLIPSIS + shown[-(limit // 2) :]
    return shown


def show_path(path: object) -> str:
    """A path (``Path`` or ``str``) shown whole, escaped: a path must be read, and copied, in full."""
    return show(str(path), limit=None)


def text_problem(value: str) -> str | None:
    """Why a string (of backup.json: a name, a hostname, a version) is not plain text to show, or None.

    No control or format character (ESC, CR, NUL, bidi overrides, zero-width
    marks) and no lone surrogate (which no terminal, JSON printer or file can
    encode as UTF-8). The answer follows the key in a sentence.
    """
    if value.isprintable():
        return None  # the everyday case; what isprintable refuses is sorted out below
    for ch in value:
        category = unicodedata.category(ch)
        if category == "Cs":
            return f"holds a lone surrogate (U+{ord(ch):04X}), which is not text"
        if category in ("Cc", "Cf"):
            return f"holds the control character U+{ord(ch):04X}"
    return None
