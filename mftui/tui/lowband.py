"""Low-bandwidth mode: what makes the TUI cheap over a 9600-baud serial line.

On: ANSI colours on the terminal's own background (few escape codes), no
animations, no cursor blink (it repaints twice a second), modal dialogs
drawn over the screen instead of dimming all of it, no mouse reporting.

It is on by default where the terminal says it is a console (``TERM=linux``,
``vt100``...). ``MFTUI_LOW_BANDWIDTH=1`` or ``0`` (or the command-line flag
``--low-bandwidth`` / ``--no-low-bandwidth``) decides instead.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping

ENV_VAR = "MFTUI_LOW_BANDWIDTH"
CONSOLE_TERMS = frozenset({"linux", "vt100", "vt102", "vt220", "vt320", "ansi", "dumb", "cons25"})
_YES = frozenset({"1", "yes", "true", "on"})
_NO = frozenset({"0", "no", "false", "off"})


def low_bandwidth_default(environ: Mapping[str, str] | None = None) -> bool:
    """Whether low-bandwidth mode should be on when nothing on the command line says."""
    env = os.environ if environ is None else environ
    choice = env.get(ENV_VAR, "").strip().lower()
    if choice in _YES:
        return True
    if choice in _NO:
        return False
    term = env.get("TERM", "").strip().lower()
    return term in CONSOLE_TERMS or term.startswith("vt")


def screen_diff_wanted(environ: Mapping[str, str] | None = None) -> bool:
    """The screen diff is part of low-bandwidth mode; ``MFTUI_SCREEN_DIFF=0`` turns it off (to diagnose)."""
    env = os.environ if environ is None else environ
    return sys.platform != "win32" and env.get("MFTUI_SCREEN_DIFF", "1").strip().lower() not in _NO


ASCII_VAR = "MFTUI_ASCII"
ASCII_TERMS = frozenset({"vt52", "vt100", "vt102", "vt220", "vt320", "dumb", "ansi"})


def ascii_default(environ: Mapping[str, str] | None = None) -> bool:
    """Draw with ASCII (``+-|``) and show focus by reverse video: a VT100, or a locale that is not UTF-8.

    ``MFTUI_ASCII=1`` or ``0`` decides instead.
    """
    env = os.environ if environ is None else environ
    choice = env.get(ASCII_VAR, "").strip().lower()
    if choice in _YES:
        return True
    if choice in _NO:
        return False
    if env.get("TERM", "").strip().lower() in ASCII_TERMS:
        return True
    # The locale in effect for characters: the first of these that is set (POSIX order).
    locale = next((env[name] for name in ("LC_ALL", "LC_CTYPE", "LANG") if env.get(name)), "")
    return not any(tag in locale.lower().replace("-", "") for tag in ("utf8",))
