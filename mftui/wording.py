"""Words and numbers as people read them, shared by the CLI and the TUI (no Textual here)."""

from __future__ import annotations

import errno
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from .archive.format import SAFETY_KIND, BackupInfo
from .text import show, show_path

if TYPE_CHECKING:  # the restore imports this module: no import at run time
    from .restore.changes import Changes


def as_sentence(message: str) -> str:
    """The core's messages read "cannot ..." after "mftui: "; a dialog shows them as a sentence."""
    message = message.strip() or "no reason was given"
    message = message[0].upper() + message[1:]
    return message if message.endswith((".", "!", "?")) else message + "."


def human_size(n: int) -> str:
    """1536 -> "1.5 KiB": what a technician reads at a glance."""
    value = float(n)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            return f"{int(value)} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{n} B"  # pragma: no cover - the loop always returns


def when(iso: str) -> str:
    """An archive's ISO time as ``2026-11-05 10:15:00 UTC``; the archive's own words, escaped, if unusable.

    Never raises: a time that cannot be put in UTC (``0001-01-01T00:00:00+01:00``
    is before year 1 there) is shown as the archive wrote it.
    """
    try:
        stamp = datetime.fromisoformat(iso)
        if stamp.tzinfo is None:
            raise ValueError("no time zone")
        return stamp.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    except (ValueError, OverflowError, TypeError):
        return show(str(iso), limit=40)


def unit_words(hub_id: str, hostname: str) -> str:
    """``hub 3fa2c1 (mobius-demo-01)``, with ``?`` for what is unknown (both escaped: they come from files)."""
    return f"hub {show(hub_id, limit=40) or '?'} ({show(hostname, limit=64) or '?'})"


def component_counts(components: Mapping[str, int]) -> str:
    return ", ".join(f"{show(name, limit=40)} {count}" for name, count in sorted(components.items())) or "none"


def info_rows(info: BackupInfo) -> list[tuple[str, str]]:
    """The backup information as (label, value) rows, in the order the pane shows them.

    Every string from backup.json is escaped (:func:`mftui.text.show`): the rows
    are safe to print on a terminal as they are.
    """
    name = show(info.name) + ("  (safety copy taken by a restore)" if info.kind == SAFETY_KIND else "")
    product = f"{show(info.product, limit=40)} {show(info.product_version, limit=40)}".strip()
    return [
        ("Name", name),
        ("Created", when(info.created_at)),
        ("Source unit", unit_words(info.instance_id, info.hostname)),
        ("Product", product or "?"),
        ("Format", f"v{info.format_version} (mftui {show(info.tool_version, limit=40) or '?'})"),
        ("Files", f"{len(info.files)} ({human_size(info.total_bytes)})"),
        ("Components", component_counts(info.components)),
    ]


# What a technician can do about an OSError, by errno; the fallback is the last entry's.
_OS_ADVICE = {
    errno.EACCES: "check its owner and permissions, or run mftui as the user that owns the instance",
    errno.EPERM: "check its owner and permissions, or run mftui as the user that owns the instance",
    errno.ENOSPC: "free some space on that filesystem and try again",
    errno.EDQUOT: "free some space (the disk quota is used up) and try again",
    errno.EROFS: "that filesystem is mounted read-only: remount it read-write, or set another folder in the settings",
    errno.ENOENT: "check that it exists (and the paths in the settings file)",
    errno.ENOTDIR: "a file stands where a folder is expected: check the paths in the settings file",
    errno.EISDIR: "a folder stands where a file is expected: check the path",
    errno.EIO: "the disk reported an error: check it (dmesg) before trying again",
    errno.EMFILE: "too many files are open: try again, and report it if it happens again",
}


def os_error_sentence(exc: OSError) -> str:
    """An OSError as one line for a technician: what failed, on which path, and what to do.

    ``permission denied: /data/x (check its owner and permissions, ...)``
    """
    what = (exc.strerror or str(exc) or type(exc).__name__).strip()
    what = what[0].lower() + what[1:] if what[:1].isupper() and what[1:2].islower() else what
    paths = [p for p in (exc.filename, exc.filename2) if p not in (None, "")]
    where = ""
    if paths:
        where = ": " + " -> ".join(show_path(p if not isinstance(p, bytes) else p.decode("utf-8", "replace"))
                                   for p in paths)
    advice = _OS_ADVICE.get(exc.errno or 0, "check that path and try again")
    return f"{show(what, limit=None)}{where} ({advice})"


def change_summary(changes: Changes) -> str:
    """``2 added, 1 changed, 0 removed`` or a plain "nothing" sentence."""
    added, changed, removed = len(changes.added), len(changes.changed), len(changes.removed)
    if not (added or changed or removed):
        return "none: the backup matches the live configuration"
    return f"{added} added, {changed} changed, {removed} removed"


def change_by_component(changes: Changes) -> list[str]:
    """One short phrase per component that changes, e.g. ``flows: 1 added, 1 changed``."""
    phrases = []
    for component, kinds in sorted(changes.by_component.items()):
        parts = [f"{kinds[kind]} {kind}" for kind in ("added", "changed", "removed") if kinds.get(kind, 0)]
        if parts:
            phrases.append(f"{component}: {', '.join(parts)}")
    return phrases
