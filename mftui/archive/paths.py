"""The grammar of configuration paths: what a backup may hold and a restore accepts.

One grammar, one place. The restore refuses an archive holding a path that
:func:`config_path_problem` objects to (archive/validate.py), and the backup
refuses to write one (archive/writer.py), so that no backup is made that its
own restore would refuse. This module imports only mftui.text: anything may
use it without an import cycle, and it costs nothing at start-up.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator

from ..text import show

CONFIG_PREFIX = "config/"  # a configuration file's entry in an archive is config/<path> (format.py)

# Name limits (Linux allows 255 bytes per segment).
MAX_NAME_BYTES = 1024  # a whole entry name, "config/" included
MAX_SEGMENT_BYTES = 255
MAX_DEPTH = 32
_ASCII_ALLOWED = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789 ._-+@,=~#%()[]{}")
# The everyday case, decided without a loop in Python: allowed ASCII segments
# that are not empty, "." or "..", and neither start nor end with a space.
# Only a "None" is taken from it; anything else goes through the full rules.
_PLAIN_SEGMENT = r"(?! |\.\.?(?:/|\Z))[A-Za-z0-9 ._\-+@,=~#%()\[\]{}]*[A-Za-z0-9._\-+@,=~#%()\[\]{}]"
_PLAIN = re.compile(rf"{_PLAIN_SEGMENT}(?:/{_PLAIN_SEGMENT})*\Z")


def config_path_problem(path: str) -> str | None:
    """Why ``path`` (relative to the instance root) cannot be a configuration file, or None.

    The grammar: "/"-separated segments of letters, digits (any script, with
    their combining marks), space and ``._-+@,=~#%()[]{}``; no segment is
    empty, ``.`` or ``..``, or starts or ends with a space; at most
    MAX_SEGMENT_BYTES per segment, MAX_DEPTH segments, and the entry name
    (``config/<path>``) at most MAX_NAME_BYTES. Everything the demo and real
    instances use (``services/00a.json``, ``flows/flows_cred.json``,
    ``certs/hub.key``) passes; anything that could climb out, hide or confuse
    does not.

    The answer is a phrase that follows the path in a sentence ("... has a
    ':' in its name").
    """
    if (
        path.isascii()
        and (len(path) <= MAX_SEGMENT_BYTES or _within_lengths(path))
        and _PLAIN.match(path)
        and path.count("/") < MAX_DEPTH
    ):
        return None  # the everyday name: the rules below would find nothing either
    if not path:
        return "has an empty name"
    return _characters_problem(path) or _segments_problem(path)


def _within_lengths(path: str) -> bool:
    """An ASCII path (one byte a character) within the length rules: every segment and the whole."""
    return len(path) <= MAX_NAME_BYTES - len(CONFIG_PREFIX) and max(map(len, path.split("/"))) <= MAX_SEGMENT_BYTES


def _characters_problem(path: str) -> str | None:
    """What is wrong with the characters of a path taken whole (NUL, controls, separators, drives)."""
    if "\x00" in path:
        return "has a NUL byte in its name"
    if any(unicodedata.category(c) in ("Cc", "Cf") for c in path):
        return "has a control character in its name"
    if path.startswith("/"):
        return "is an absolute path"
    if "\\" in path:
        return "has a backslash in its name (a Windows path separator)"
    if len(path) >= 2 and path[1] == ":" and path[0].isascii() and path[0].isalpha():
        return "starts with a drive letter"
    if ":" in path:
        return "has a ':' in its name (a drive letter or Windows stream)"
    return None


def _segments_problem(path: str) -> str | None:
    """What is wrong with the '/'-separated segments of a path, or with its length."""
    segments = path.split("/")
    if ".." in segments:
        return "climbs out of the instance folder ('..')"
    if path.endswith("/"):
        return "ends with '/' (a directory entry)"
    if "" in segments:
        return "has an empty folder name ('//')"
    if "." in segments:
        return "has a '.' folder in its name"
    if len(segments) > MAX_DEPTH:
        return f"is {len(segments)} folders deep (at most {MAX_DEPTH})"
    for seg in segments:
        problem = _segment_problem(seg)
        if problem:
            return problem
    if len(path.encode("utf-8", "surrogatepass")) > MAX_NAME_BYTES - len(CONFIG_PREFIX):
        return f"has a name longer than {MAX_NAME_BYTES - len(CONFIG_PREFIX)} bytes"
    return None


def _segment_problem(seg: str) -> str | None:
    if len(seg.encode("utf-8", "surrogatepass")) > MAX_SEGMENT_BYTES:
        return f"has a name segment longer than {MAX_SEGMENT_BYTES} bytes"
    if seg[0] == " " or seg[-1] == " ":
        return "has a name segment that starts or ends with a space"
    for ch in seg:
        if ch in _ASCII_ALLOWED:
            continue
        if ch.isascii() or unicodedata.category(ch)[0] not in "LNM":
            return f"has the character '{show(ch)}' (U+{ord(ch):04X}) in its name, which a backup may not hold"
    return None


def fold(name: str) -> str:
    """The key two names collide on: Unicode-normalised (NFC) and case-folded."""
    if name.isascii():
        return name.lower()  # the same, for ASCII, and ten times faster
    return unicodedata.normalize("NFC", unicodedata.normalize("NFC", name).casefold())


class NameSet:
    """The rules on a set of names, in one place for the backup and the restore.

    No name twice, no two names that are the same once case and Unicode
    normalisation are ignored (they would be one file on a case-insensitive
    or normalising filesystem), and no file that is also the folder of
    another name. The restore refuses an archive that breaks them
    (validate.py); the backup refuses to write one (writer.py). Names are
    kept once: 50,000 long names are megabytes.
    """

    def __init__(self) -> None:
        self._by_key: dict[str, str] = {}  # folded name -> the name

    def add(self, name: str) -> str | None:
        """Add ``name``; why it cannot be in the set (a sentence naming both names), or None."""
        key = fold(name)
        if key == name:
            key = name  # the name itself, not an equal copy
        other = self._by_key.get(key)
        if other is None:
            self._by_key[key] = name
            return None
        if other == name:
            return f"{show(name)} appears twice"
        return f"{show(other)} and {show(name)} differ only in upper and lower case or in accents"

    def folder_clashes(self) -> Iterator[str]:
        """A sentence for each name under another name that is a file (``a`` and ``a/b``, or ``A`` and ``a/b``)."""
        for name in self._by_key.values():
            parts = name.split("/")
            for i in range(1, len(parts)):
                file = self._by_key.get(fold("/".join(parts[:i])))
                if file is not None:
                    yield f"{show(file)} is both a file and the folder of {show(name)}"
                    break
