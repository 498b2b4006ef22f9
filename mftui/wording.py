"""Words and numbers as people read them, shared by the CLI and the TUI (no Textual here)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from .archive.format import SAFETY_KIND, BackupInfo


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
    """An archive's ISO time as ``2026-11-05 10:15:00 UTC`` (the archive's own words if unparsable)."""
    try:
        stamp = datetime.fromisoformat(iso)
    except ValueError:
        return iso
    if stamp.tzinfo is None:
        return iso
    return stamp.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def unit_words(hub_id: str, hostname: str) -> str:
    """``hub 3fa2c1 (mobius-demo-01)``, with ``?`` for what is unknown."""
    return f"hub {hub_id or '?'} ({hostname or '?'})"


def component_counts(components: Mapping[str, int]) -> str:
    return ", ".join(f"{name} {count}" for name, count in sorted(components.items())) or "none"


def info_rows(info: BackupInfo) -> list[tuple[str, str]]:
    """The backup information as (label, value) rows, in the order the pane shows them."""
    name = info.name + ("  (safety copy taken by a restore)" if info.kind == SAFETY_KIND else "")
    return [
        ("Name", name),
        ("Created", when(info.created_at)),
        ("Source unit", unit_words(info.instance_id, info.hostname)),
        ("Product", f"{info.product} {info.product_version}".strip() or "?"),
        ("Format", f"v{info.format_version} (mftui {info.tool_version or '?'})"),
        ("Files", f"{len(info.files)} ({human_size(info.total_bytes)})"),
        ("Components", component_counts(info.components)),
    ]


def _count(value: Any) -> int:
    """by_component entries may hold counts or the paths themselves."""
    if isinstance(value, int):
        return value
    try:
        return len(value)
    except TypeError:
        return 0


def change_summary(changes: Any) -> str:
    """``2 added, 1 changed, 0 removed`` or a plain "nothing" sentence."""
    added, changed, removed = len(changes.added), len(changes.changed), len(changes.removed)
    if not (added or changed or removed):
        return "none: the backup matches the live configuration"
    return f"{added} added, {changed} changed, {removed} removed"


def change_by_component(changes: Any) -> list[str]:
    """One short phrase per component that changes, e.g. ``flows: 1 added, 1 changed``."""
    phrases = []
    for component, kinds in sorted(changes.by_component.items()):
        parts = [
            f"{_count(kinds.get(kind, 0))} {kind}"
            for kind in ("added", "changed", "removed")
            if _count(kinds.get(kind, 0))
        ]
        if parts:
            phrases.append(f"{component}: {', '.join(parts)}")
    return phrases
