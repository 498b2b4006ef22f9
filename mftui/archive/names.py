"""Backup file names: the technician's name, made safe, plus the creation time.

``<name>_<YYYY-MM-DD>T<HHMMSS>Z.zip`` in UTC: sorts by time, says its time
zone, and has no character that a USB stick's FAT or a shell would mangle.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import UTC, datetime

DEFAULT_NAME = "backup"
MAX_NAME_CHARS = 64
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def safe_name(name: str) -> str:
    """The name as it goes into a file name: readable ASCII, no separators.

    Accents are folded ("Réseau" -> "Reseau"), runs of anything else become
    one "-", and an empty result falls back to "backup".
    """
    folded = unicodedata.normalize("NFKD", name)
    folded = "".join(c for c in folded if not unicodedata.combining(c))
    cleaned = _UNSAFE.sub("-", folded).strip("-._")
    cleaned = re.sub(r"-{2,}", "-", cleaned)[:MAX_NAME_CHARS].rstrip("-._")
    return cleaned or DEFAULT_NAME


def name_problem(name: str) -> str | None:
    """Why a typed name cannot be used as it is, or None when it can."""
    if len(name) > MAX_NAME_CHARS:
        return f"the name is {len(name)} characters; keep it to {MAX_NAME_CHARS}"
    if any(unicodedata.category(c) == "Cc" for c in name):
        return "the name holds a control character; type letters, digits, - or _"
    return None


def timestamp(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H%M%SZ")


def backup_file_name(name: str, when: datetime, serial: int = 1) -> str:
    """The archive's file name; ``serial`` > 1 tells apart backups of the same second."""
    suffix = f"-{serial}" if serial > 1 else ""
    return f"{safe_name(name)}_{timestamp(when)}{suffix}.zip"
