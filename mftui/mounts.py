"""Fields of /proc/self/mounts and /proc/self/mountinfo, as the kernel writes them."""

from __future__ import annotations


def unescape(field: str) -> str:
    r"""A path field: the kernel writes space, tab, newline and backslash as octal escapes (``\040``)."""
    out, i = [], 0
    while i < len(field):
        if field[i] == "\\" and field[i + 1 : i + 4].isdigit() and len(field[i + 1 : i + 4]) == 3:
            out.append(chr(int(field[i + 1 : i + 4], 8)))
            i += 4
        else:
            out.append(field[i])
            i += 1
    return "".join(out)
