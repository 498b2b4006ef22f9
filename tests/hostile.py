"""Builders of hostile backup archives, byte by byte.

Each archive is a *valid* mftui backup (a manifest in backup.json listing
every config/ entry with its true size, SHA-256 and mode) with exactly one
planted defect, so that a refusal can only be about that defect.
``make_backup(files)`` with no defect builds an archive that restores
cleanly: the tests check that first.

The zip is laid out here, not by ``zipfile``, because most defects are
things ``zipfile`` cannot or will not write (disagreeing headers, overlaps,
glued archives, symlink attributes, lying sizes).
"""

from __future__ import annotations

import hashlib
import json
import stat
import struct
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

UNIX = 3


@dataclass
class Entry:
    """One zip member as it will be laid out. Every field can be made to lie."""

    name: str | bytes
    data: bytes = b""
    method: int = 8
    mode: int = 0o644  # permission bits in the external attribute
    file_type: int = stat.S_IFREG
    flags: int | None = None  # None: 0x800 when the name is not ASCII
    host: int = UNIX  # "version made by" host system
    version_needed: int = 20
    local_name: bytes | None = None  # a different name in the local header
    local: dict[str, int] = field(default_factory=dict)  # overrides: flags, method, crc, csize, usize
    central: dict[str, int] = field(default_factory=dict)  # overrides: crc, csize, usize, offset, external_attr
    extra_local: bytes = b""
    extra_central: bytes = b""
    comment: bytes = b""
    payload: bytes | None = None  # the compressed bytes, instead of compressing ``data``
    trailer: bytes = b""  # bytes after the data: a data descriptor

    @property
    def raw_name(self) -> bytes:
        return self.name if isinstance(self.name, bytes) else self.name.encode("utf-8")


def deflate(data: bytes) -> bytes:
    c = zlib.compressobj(6, zlib.DEFLATED, -15)
    return c.compress(data) + c.flush()


def _flags(e: Entry) -> int:
    return e.flags if e.flags is not None else (0 if e.raw_name.isascii() else 0x800)


def payload_of(e: Entry) -> bytes:
    """The bytes stored for an entry: its explicit payload, or its data deflated or stored."""
    if e.payload is not None:
        return e.payload
    return deflate(e.data) if e.method == 8 else e.data


def local_record(e: Entry) -> bytes:
    """Local header, name, extra and data of one entry (with any planted disagreement)."""
    payload = payload_of(e)
    name = e.local_name if e.local_name is not None else e.raw_name
    head = struct.pack(
        "<4sHHHHHIIIHH",
        b"PK\x03\x04",
        e.version_needed,
        e.local.get("flags", _flags(e)),
        e.local.get("method", e.method),
        0,
        (1 << 5) | 1,
        e.local.get("crc", zlib.crc32(e.data)),
        e.local.get("csize", len(payload)),
        e.local.get("usize", len(e.data)),
        len(name),
        len(e.extra_local),
    )
    return head + name + e.extra_local + payload + e.trailer


def central_record(e: Entry, offset: int) -> bytes:
    """The central directory record of one entry whose local header is at ``offset``."""
    payload = payload_of(e)
    attr = e.central.get("external_attr", (e.file_type | e.mode) << 16)
    head = struct.pack(
        "<4sBBHHHHHIIIHHHHHII",
        b"PK\x01\x02",
        20,
        e.host,
        e.version_needed,
        _flags(e),
        e.method,
        0,
        (1 << 5) | 1,
        e.central.get("crc", zlib.crc32(e.data)),
        e.central.get("csize", len(payload)),
        e.central.get("usize", len(e.data)),
        len(e.raw_name),
        len(e.extra_central),
        len(e.comment),
        e.central.get("disk", 0),
        0,
        attr,
        e.central.get("offset", offset),
    )
    return head + e.raw_name + e.extra_central + e.comment


def end_record(count: int, cd_size: int, cd_offset: int, comment: bytes = b"") -> bytes:
    return struct.pack("<4sHHHHIIH", b"PK\x05\x06", 0, 0, count, count, cd_size, cd_offset, len(comment)) + comment


def layout(
    entries: list[Entry],
    *,
    prefix: bytes = b"",
    shift_offsets: bool = False,
    archive_comment: bytes = b"",
    between: bytes = b"",
    cd_extra: bytes = b"",
    directory_order: list[int] | None = None,
) -> bytes:
    """Lay out a zip: local records, central directory, end record.

    ``prefix`` goes before the first local header; offsets count from the
    start of the zip unless ``shift_offsets`` adds the prefix's length (a
    "clean" prepend, as self-extractors do). ``between`` is junk after the
    data, before the central directory; ``cd_extra`` hides bytes inside the
    central directory. ``directory_order`` lists the central records in another order than the
    local headers (indexes into ``entries``).
    """
    body = bytearray()
    offsets = []
    for e in entries:
        offsets.append(len(body))
        body += local_record(e)
    body += between
    base = len(prefix) if shift_offsets else 0
    pairs = list(zip(entries, offsets, strict=True))
    if directory_order is not None:
        pairs = [pairs[i] for i in directory_order]
    cd = b"".join(central_record(e, off + base) for e, off in pairs) + cd_extra
    return prefix + bytes(body) + cd + end_record(len(entries), len(cd), len(body) + base, archive_comment)


# --- a valid backup, and its parts -------------------------------------------------


def read_tree(root: Path, paths: list[str] | None = None) -> dict[str, tuple[bytes, int]]:
    """{path: (bytes, mode)} of the configuration files of a demo instance."""
    out = {}
    skip = ("logs/", "cache/", "historian/")
    for p in sorted(root.rglob("*")):
        rel = p.relative_to(root).as_posix()
        if p.is_file() and not rel.startswith(skip) and (paths is None or rel in paths):
            out[rel] = (p.read_bytes(), stat.S_IMODE(p.stat().st_mode))
    return out


def manifest(
    files: dict[str, tuple[bytes, int]],
    *,
    edit: Callable[[dict[str, Any]], None] | None = None,
    instance: dict[str, str] | None = None,
) -> bytes:
    """backup.json for these files (true sizes, hashes and modes), optionally edited."""
    meta: dict[str, Any] = {
        "format": "mftui-backup",
        "format_version": 1,
        "name": "hostile",
        "kind": "manual",
        "created_at": "2026-11-26T09:00:00+00:00",
        "tool": {"name": "mftui", "version": "0.1.0"},
        "instance": instance or {"product": "MobiusFlow", "version": "4.2.1", "id": "3fa2c1",
                                 "hostname": "mobius-demo-01"},
        "components": {},
        "totals": {"files": len(files), "bytes": sum(len(d) for d, _ in files.values())},
        "files": [
            {"path": path, "size": len(data), "sha256": hashlib.sha256(data).hexdigest(), "mode": f"{mode:04o}",
             "component": "other"}
            for path, (data, mode) in files.items()
        ],
    }
    if edit:
        edit(meta)
    return json.dumps(meta, indent=1).encode()


def backup_entries(
    files: dict[str, tuple[bytes, int]],
    *,
    edit: Callable[[dict[str, Any]], None] | None = None,
    instance: dict[str, str] | None = None,
) -> list[Entry]:
    """config/ entries for the files, then backup.json: what the writer lays out."""
    entries = [Entry("config/" + path, data, method=8 if len(data) > 64 else 0, mode=mode)
               for path, (data, mode) in files.items()]
    entries.append(Entry("backup.json", manifest(files, edit=edit, instance=instance), mode=0o600))
    return entries


def make_backup(files: dict[str, tuple[bytes, int]], **layout_args: Any) -> bytes:
    """A valid backup archive of these files."""
    return layout(backup_entries(files), **layout_args)


def find(entries: list[Entry], name: str) -> Entry:
    return next(e for e in entries if e.name == name)


def padded_metadata(files: dict[str, tuple[bytes, int]], pad_bytes: int, element: bytes = b"{},") -> list[Entry]:
    """A valid backup whose backup.json also carries an unknown key ``pad`` of ``pad_bytes``: ``[{},{},...]``.

    Deflated, 60 MB of it is about 60 KB of archive: small to upload, huge to parse into objects.
    """
    entries = backup_entries(files)
    meta = entries[-1].data
    body = element * (pad_bytes // len(element))
    pad = b'"pad": [' + body.rstrip(b",") + b'],\n "format"'
    entries[-1].data = meta.replace(b'"format"', pad, 1)
    return entries
