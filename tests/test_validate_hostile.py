"""Hostile archives: each class is refused with a clear reason, and nothing changes.

Every archive is a valid backup of the demo instance (true manifest) with one
planted defect. Each goes through the real restore; the test asserts the
refusal's reason, that the instance and everything around it are
byte-for-byte unchanged, that no staging, journal or safety backup was left,
and that ``verify`` refuses it too.
"""

from __future__ import annotations

import bz2
import dataclasses
import json
import os
import re
import stat
import struct
import zipfile
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hostile import (
    Entry,
    backup_entries,
    central_record,
    deflate,
    end_record,
    find,
    layout,
    local_record,
    make_backup,
    read_tree,
)
from trees import snapshot

from mftui.archive.reader import verify
from mftui.archive.validate import open_archive, validate_archive
from mftui.errors import ArchiveError
from mftui.restore import plan_restore, restore_backup, verify_backup
from mftui.settings import Budgets, Settings

Files = dict[str, tuple[bytes, int]]


def with_files(files: Files, extra: Files) -> Files:
    return {**files, **extra}


def edited(files: Files, name: str, **changes: Any) -> list[Entry]:
    """The backup's entries with one entry's fields changed."""
    entries = backup_entries(files)
    i = entries.index(find(entries, name))
    entries[i] = dataclasses.replace(entries[i], **changes)
    return entries


HUB = "config/hub/hub.json"


# --- the cases: (id, builder, reason regex, budgets) -----------------------------------


def overlapping(files: Files) -> bytes:
    """hub.json's local header and data lie inside a.bin's stored data; every header agrees with its record."""
    hub_data, hub_mode = files["hub/hub.json"]
    hub = Entry(HUB, hub_data, method=0, mode=hub_mode)
    a_data = b"PAD!" + local_record(hub) + b"tail"
    a = Entry("config/hub/a.bin", a_data, method=0)
    meta = backup_entries({**files, "hub/a.bin": (a_data, 0o644)})[-1]  # a true manifest of both
    others = [e for e in backup_entries(files)[:-1] if e.name != HUB]
    body = bytearray(local_record(a))
    offsets = {a.name: 0, HUB: 30 + len(a.raw_name) + 4}  # inside a.bin's data
    for e in [*others, meta]:
        offsets[e.name] = len(body)
        body += local_record(e)
    records = [a, hub, *others, meta]
    cd = b"".join(central_record(e, offsets[e.name]) for e in records)
    return bytes(body) + cd + end_record(len(records), len(cd), len(body))


def glued(files: Files) -> bytes:
    return make_backup({"hub/hub.json": (b"{}\n", 0o644)}) + make_backup(files)


def bomb(files: Files) -> bytes:
    """10 MB of zeros declared as 1000 bytes; the manifest tells the truth about those 1000."""
    huge = bytes(10_000_000)
    entries = backup_entries(with_files(files, {"hub/zeros.bin": (huge[:1000], 0o644)}))
    i = entries.index(find(entries, "config/hub/zeros.bin"))
    entries[i] = dataclasses.replace(entries[i], method=8, payload=deflate(huge))
    return layout(entries)


def symlink(kind: int, target: bytes = b"/etc/passwd") -> Callable[[Files], bytes]:
    def build(files: Files) -> bytes:
        entries = backup_entries(with_files(files, {"hub/link.json": (target, 0o644)}))
        i = entries.index(find(entries, "config/hub/link.json"))
        entries[i] = dataclasses.replace(entries[i], file_type=kind, method=0)
        return layout(entries)

    return build


def special_bits(bits: int) -> Callable[[Files], bytes]:
    def build(files: Files) -> bytes:
        entries = backup_entries(files)
        e = find(entries, "config/services/000.json")
        e.central["external_attr"] = (stat.S_IFREG | bits | e.mode) << 16
        return layout(entries)

    return build


def extra_path(path: str, data: bytes = b"{}\n") -> Callable[[Files], bytes]:
    """One more file at a hostile config path, listed truthfully in the manifest."""
    return lambda files: make_backup(with_files(files, {path: (data, 0o644)}))


def raw_name(name: bytes, flags: int | None = None) -> Callable[[Files], bytes]:
    """One more entry whose name no manifest can list (outside config/, or not text)."""
    def build(files: Files) -> bytes:
        entries = backup_entries(files)
        entries.insert(0, Entry(name, b"evil\n", method=0, flags=flags))
        return layout(entries)

    return build


def meta_edit(edit: Callable[[dict[str, Any]], None]) -> Callable[[Files], bytes]:
    return lambda files: layout(backup_entries(files, edit=edit))


def manifest_file(path: str, **changes: Any) -> Callable[[dict[str, Any]], None]:
    def edit(meta: dict[str, Any]) -> None:
        entry = next(f for f in meta["files"] if f["path"] == path)
        entry.update(changes)

    return edit


def lzma_method(files: Files) -> bytes:
    entries = backup_entries(files)
    e = find(entries, HUB)
    i = entries.index(e)
    entries[i] = dataclasses.replace(e, method=12, payload=bz2.compress(e.data))
    return layout(entries)


def with_entry(name: str, **changes: Any) -> Callable[[Files], bytes]:
    return lambda files: layout(edited(files, name, **changes))


def wrong_local(**local: int) -> Callable[[Files], bytes]:
    def build(files: Files) -> bytes:
        entries = backup_entries(files)
        find(entries, HUB).local.update(local)
        return layout(entries)

    return build


def wrong_crc(files: Files) -> bytes:
    entries = backup_entries(files)
    e = find(entries, HUB)
    e.local["crc"] = e.central["crc"] = 0x12345678
    return layout(entries)


def duplicate(files: Files) -> bytes:
    entries = backup_entries(files)
    return layout([find(entries, HUB), *entries])


def zip64_locator_lies(files: Files) -> bytes:
    """A ZIP64 locator before the end record, pointing at nothing sensible."""
    raw = make_backup(files)
    eocd = raw.rfind(b"PK\x05\x06")
    return raw[:eocd] + struct.pack("<4sIQI", b"PK\x06\x07", 0, 12345, 1) + raw[eocd:]


def disk_spanning(files: Files) -> bytes:
    raw = bytearray(make_backup(files))
    eocd = raw.rfind(b"PK\x05\x06")
    struct.pack_into("<H", raw, eocd + 4, 1)  # "this is disk 1"
    return bytes(raw)


def corrupt_deflate(files: Files) -> bytes:
    entries = backup_entries(files)
    e = find(entries, "config/services/000.json")
    good = deflate(e.data)
    i = entries.index(e)
    entries[i] = dataclasses.replace(e, payload=bytes([good[0] ^ 0xFF]) + good[1:])
    return layout(entries)


def trailing_in_entry(files: Files) -> bytes:
    entries = backup_entries(files)
    e = find(entries, "config/services/000.json")
    i = entries.index(e)
    entries[i] = dataclasses.replace(e, payload=deflate(e.data) + b"JUNKJUNK")
    return layout(entries)


def zip64_extra_unknown(files: Files) -> bytes:
    extra = struct.pack("<HH", 0x7075, 9) + b"\x01" + struct.pack("<I", 0) + b"evil"
    entries = backup_entries(files)
    e = find(entries, HUB)
    e.extra_local = e.extra_central = extra
    return layout(entries)


def other_tool_zip(*, comment: bytes = b"", folders: bool = False) -> Callable[[Files], bytes]:
    """The instance zipped by ``zip -r``: an extended-timestamp extra field (0x5455) on every entry, no backup.json."""
    def build(files: Files) -> bytes:
        stamp = struct.pack("<HHBI", 0x5455, 5, 1, 1_700_000_000)
        entries = [Entry(path, data, mode=mode, extra_local=stamp, extra_central=stamp)
                   for path, (data, mode) in files.items()]
        if folders:
            entries.insert(0, Entry("hub/", b"", method=0, file_type=stat.S_IFDIR, mode=0o755))
        return layout(entries, archive_comment=comment)

    return build


def gap_between_entries(files: Files) -> bytes:
    """Four bytes of junk between the first and the second entry; every offset points where it should."""
    entries = backup_entries(files)
    body = bytearray()
    offsets = []
    for i, e in enumerate(entries):
        offsets.append(len(body))
        body += local_record(e) + (b"JUNK" if i == 0 else b"")
    cd = b"".join(central_record(e, off) for e, off in zip(entries, offsets, strict=True))
    return bytes(body) + cd + end_record(len(entries), len(cd), len(body))


def with_central(name: str, **central: int) -> Callable[[Files], bytes]:
    def build(files: Files) -> bytes:
        entries = backup_entries(files)
        find(entries, name).central.update(central)
        return layout(entries)

    return build


def zip64_extra(*values: int) -> bytes:
    return struct.pack("<HH", 1, 8 * len(values)) + b"".join(struct.pack("<Q", v) for v in values)


def data_descriptor(files: Files) -> bytes:
    """hub.json streamed as zip tools do: flag 0x08, zeros in the local header, a descriptor after the data."""
    entries = backup_entries(files)
    e = find(entries, HUB)
    payload = deflate(e.data)
    e.flags = 0x08
    e.local.update(crc=0, csize=0, usize=0)
    e.trailer = struct.pack("<4sIII", b"PK\x07\x08", zlib.crc32(e.data), len(payload), len(e.data))
    return layout(entries)


def needless_zip64_local(files: Files) -> bytes:
    entries = backup_entries(files)
    e = find(entries, HUB)
    e.version_needed = 45
    e.local.update(csize=0xFFFFFFFF, usize=0xFFFFFFFF)
    e.extra_local = zip64_extra(len(e.data), len(deflate(e.data)))
    return layout(entries)


def needless_zip64_value(files: Files) -> bytes:
    entries = backup_entries(files)
    e = find(entries, HUB)
    e.central["usize"] = 0xFFFFFFFF
    e.extra_central = zip64_extra(len(e.data))
    return layout(entries)


def zip64_end_records(files: Files) -> bytes:
    """Consistent ZIP64 end records and locator that a 17-entry archive does not need."""
    raw = make_backup(files)
    eocd = len(raw) - 22
    count, cd_size, cd_offset = struct.unpack_from("<8xHIIH", raw, eocd)[0], *struct.unpack_from("<II", raw, eocd + 12)
    end64 = struct.pack("<4sQ2H2L4Q", b"PK\x06\x06", 44, 3 << 8 | 45, 45, 0, 0, count, count, cd_size, cd_offset)
    locator = struct.pack("<4sLQL", b"PK\x06\x07", 0, eocd, 1)
    return raw[:eocd] + end64 + locator + raw[eocd:]


def count_without_zip64(files: Files) -> bytes:
    """The end record's count at 0xFFFF ("see ZIP64") with no ZIP64 records."""
    raw = bytearray(make_backup(files))
    struct.pack_into("<HH", raw, len(raw) - 22 + 8, 0xFFFF, 0xFFFF)
    return bytes(raw)


def backup_json_first(files: Files) -> bytes:
    entries = backup_entries(files)
    return layout([entries[-1], *entries[:-1]])


def backup_json_first_in_the_file_only(files: Files) -> bytes:
    """backup.json's data comes first, its central record last: the directory alone looks right."""
    entries = backup_entries(files)
    return layout([entries[-1], *entries[:-1]], directory_order=[*range(1, len(entries)), 0])


def backup_json_last_in_the_file_only(files: Files) -> bytes:
    """backup.json's data comes last, its central record first: what read_info looks at is elsewhere."""
    entries = backup_entries(files)
    return layout(entries, directory_order=[len(entries) - 1, *range(len(entries) - 1)])


DEMO_IDENTITY = {"product": "MobiusFlow", "version": "4.2.1", "id": "3fa2c1", "hostname": "mobius-demo-01"}


def identity_edit(**changes: str) -> Callable[[Files], bytes]:
    """backup.json's instance section changed; config/instance.json (the demo's) as it was."""
    return lambda files: layout(backup_entries(files, instance={**DEMO_IDENTITY, **changes}))


def another_product(files: Files) -> bytes:
    """A consistent backup of another product: its backup.json and its config/instance.json agree."""
    identity = {"product": "OtherFlow", "version": "7.1", "hub_id": "3fa2c1", "hostname": "x"}
    other = {**files, "instance.json": (json.dumps(identity).encode(), 0o644)}
    return layout(backup_entries(other, instance={"product": "OtherFlow", "version": "7.1", "id": "3fa2c1",
                                                  "hostname": "x"}))


def identity_file_too_large(files: Files) -> bytes:
    """An instance.json padded past what any instance.json holds (its identity still agrees)."""
    data, mode = files["instance.json"]
    return make_backup({**files, "instance.json": (data.rstrip() + b" " * 300_000 + b"\n", mode)})


CASES: list[tuple[str, Callable[[Files], bytes], str, Budgets | None]] = [
    # The container.
    ("not-a-zip", lambda f: b"this is not a zip archive at all\n" * 20, r"not a zip", None),
    ("empty-file", lambda f: b"", r"is empty", None),
    ("empty-zip", lambda f: end_record(0, 0, 0), r"empty zip", None),
    ("truncated-half", lambda f: make_backup(f)[: len(make_backup(f)) // 2], r"truncated", None),
    ("truncated-one-byte", lambda f: make_backup(f)[:-1], r"truncated|cut short", None),
    ("junk-before", lambda f: make_backup(f, prefix=b"MZ" + bytes(300)), r"junk", None),
    ("junk-before-offsets-shifted", lambda f: make_backup(f, prefix=b"#!/bin/sh\nexit 0\n", shift_offsets=True),
     r"junk come before the first entry", None),
    ("junk-after", lambda f: make_backup(f) + bytes(512), r"junk after the end", None),
    ("archive-comment", lambda f: make_backup(f, archive_comment=b"hello"), r"comment", None),
    ("two-archives-glued", glued, r"glued", None),
    ("archive-glued-after", lambda f: make_backup(f) + make_backup({"x.json": (b"{}", 0o644)}),
     r"glued|junk", None),
    ("junk-between-entries-and-directory", lambda f: make_backup(f, between=b"hidden"), r"unexplained bytes",
     None),
    ("gap-between-two-entries", gap_between_entries, r"4 unexplained bytes sit between entries", None),
    ("needless-zip64-end-records", zip64_end_records, r"ZIP64 end records it does not need", None),
    ("count-needs-zip64-it-lacks", count_without_zip64, r"ZIP64 end records it does not have", None),
    ("hidden-bytes-in-central-directory", lambda f: make_backup(f, cd_extra=b"\0" * 10), r"central directory",
     None),
    ("zip64-locator-lies", zip64_locator_lies, r"ZIP64", None),
    ("disk-spanning", disk_spanning, r"end-of-archive|truncated", None),
    # Headers that disagree, overlaps.
    ("local-name-differs", with_entry(HUB, local_name=b"config/hub/evil.json"), r"local header.*disagree", None),
    ("local-sizes-differ", wrong_local(usize=1), r"sizes or CRC.*disagree", None),
    ("local-method-differs", wrong_local(method=0), r"compression methods", None),
    ("local-flags-differ", wrong_local(flags=0x800), r"flags.*disagree", None),
    ("overlapping-entries", overlapping, r"overlap", None),
    ("mode-differs-from-manifest", meta_edit(manifest_file("hub/hub.json", mode="0600")), r"mode.*disagree",
     None),
    # Entries a writer of ours never makes.
    ("encrypted", with_entry(HUB, flags=1), r"encrypted", None),
    ("aes-encrypted", with_entry(HUB, method=99), r"encrypted", None),
    ("method-bzip2", lzma_method, r"compression method 12 \(bzip2\)", None),
    ("unknown-extra-field", zip64_extra_unknown, r"extra field \(id 0x7075\)", None),
    ("needs-newer-zip", with_entry(HUB, version_needed=63), r"zip version 6\.3", None),
    ("entry-comment", with_entry(HUB, comment=b"hi"), r"comment", None),
    ("unknown-flag-bit", with_entry(HUB, flags=0x10), r"flags 0x0010", None),
    ("data-descriptor", data_descriptor, r"data descriptor", None),
    ("entry-on-another-disk", with_central(HUB, disk=1), r"on another disk", None),
    ("entry-disk-number-ffff", with_central(HUB, disk=0xFFFF), r"on another disk", None),
    ("two-zip64-extra-fields", with_entry(HUB, extra_central=zip64_extra() * 2), r"two ZIP64 extra fields", None),
    ("size-ffffffff-without-zip64", with_central(HUB, usize=0xFFFFFFFF), r"needs a ZIP64 extra field it does not have",
     None),
    ("empty-zip64-extra", with_entry(HUB, extra_central=zip64_extra()), r"ZIP64 extra field it does not need", None),
    ("needless-zip64-value", needless_zip64_value, r"ZIP64 extra field it does not need", None),
    ("needless-zip64-local", needless_zip64_local, r"ZIP64 local header it does not need", None),
    ("backup-json-first", backup_json_first, r"backup\.json is not the last entry", None),
    ("backup-json-first-in-the-file-only", backup_json_first_in_the_file_only, r"backup\.json is not the last entry",
     None),
    ("backup-json-last-in-the-file-only", backup_json_last_in_the_file_only, r"backup\.json is not the last entry",
     None),
    ("backup-json-stored", with_entry("backup.json", method=0), r"backup\.json is stored", None),
    ("corrupt-deflate", corrupt_deflate, r"damaged", None),
    ("bytes-after-deflate-stream", trailing_in_entry, r"extra bytes after", None),
    # Names.
    ("absolute", raw_name(b"/etc/cron.d/evil"), r"absolute", None),
    ("absolute-in-config", extra_path("/etc/passwd"), r"empty folder name|absolute", None),
    ("dot-dot", extra_path("../../etc/passwd"), r"climbs out", None),
    ("dot-dot-outside-config", raw_name(b"../evil.sh"), r"climbs out", None),
    ("dot-dot-middle", extra_path("hub/../../x.json"), r"climbs out", None),
    ("backslash", extra_path("hub\\..\\..\\evil.json"), r"backslash", None),
    ("drive-letter", raw_name(b"C:/Windows/evil.dll"), r"drive letter", None),
    ("drive-letter-in-config", extra_path("C:evil.json"), r"drive letter", None),
    ("nul-byte", extra_path("hub/a\x00b.json"), r"NUL", None),
    ("control-character", extra_path("hub/a\x1b[2Jb.json"), r"control character", None),
    ("bidi-override", extra_path("hub/\u202enosj.exe"), r"control character", None),
    ("empty-name", raw_name(b""), r"empty name", None),
    ("over-long-name", extra_path("hub/" + "a" * 1100), r"name of \d+ bytes", None),
    ("over-long-segment", extra_path("hub/" + "a" * 300 + ".json"), r"longer than 255", None),
    ("empty-segment", extra_path("hub//x.json"), r"empty folder", None),
    ("dot-segment", extra_path("hub/./x.json"), r"'\.' folder", None),
    ("outside-config", raw_name(b"evil.sh"), r"outside config/", None),
    ("forbidden-character", extra_path("hub/a|b.json"), r"character '\|'", None),
    ("not-utf8-name", raw_name(b"config/hub/\xff\xfe.json", flags=0x800), r"not valid UTF-8", None),
    ("non-ascii-name-not-marked", raw_name("config/hub/é.json".encode("latin-1"), flags=0), r"not marked as UTF-8",
     None),
    ("duplicate-name", duplicate, r"appears twice", None),
    ("case-fold-collision", extra_path("hub/HUB.json"), r"differ only in upper and lower case or in accents", None),
    ("unicode-normalisation-collision",
     lambda f: make_backup(with_files(f, {"hub/caf\u00e9.json": (b"1", 0o644), "hub/cafe\u0301.json": (b"2", 0o644)})),
     r"differ only in upper and lower case or in accents", None),
    ("file-and-directory-same-path", extra_path("hub/hub.json/inner.json"), r"both a file and the folder", None),
    ("file-and-directory-case-folded", extra_path("HUB"), r"both a file and the folder", None),
    ("directory-entry", raw_name(b"config/hub/"), r"directory entry", None),
    # Links, devices, special files, special bits.
    ("symlink", symlink(stat.S_IFLNK), r"symbolic link", None),
    ("char-device", symlink(stat.S_IFCHR, b""), r"device", None),
    ("block-device", symlink(stat.S_IFBLK, b""), r"device", None),
    ("fifo", symlink(stat.S_IFIFO, b""), r"special file", None),
    ("socket", symlink(stat.S_IFSOCK, b""), r"special file", None),
    ("directory-attribute-on-file", symlink(stat.S_IFDIR, b""), r"directory entry", None),
    ("dos-directory-attribute-on-a-unix-file",
     with_central("config/services/000.json", external_attr=((stat.S_IFREG | 0o644) << 16) | 0x10),
     r"directory entry", None),
    ("setuid", special_bits(0o4000), r"setuid", None),
    ("setgid", special_bits(0o2000), r"setgid", None),
    ("sticky", special_bits(0o1000), r"sticky", None),
    # Budgets (counted on inflated bytes too).
    ("too-many-entries", make_backup, r"entries, more than", Budgets(max_entries=5)),
    ("file-over-budget", make_backup, r"declares .* more than the limit", Budgets(max_file_bytes=1024)),
    ("total-over-budget", make_backup, r"in all, more than the limit", Budgets(max_total_bytes=8 * 1024)),
    ("zip-bomb-lying-header", bomb, r"inflates to more than the 1000 bytes", None),
    # The manifest.
    ("checksum-mismatch", meta_edit(manifest_file("hub/psk.json", sha256="0" * 64)), r"hub/psk\.json.*checksum",
     None),
    ("size-mismatch", meta_edit(manifest_file("network/network.json", size=1)), r"network/network\.json.*bytes",
     None),
    ("crc-mismatch", wrong_crc, r"CRC", None),
    ("entry-missing-from-manifest",
     lambda f: layout([*backup_entries(f)[:-1], Entry("config/hub/extra.json", b"{}"), backup_entries(f)[-1]]),
     r"config/hub/extra\.json.*does not list", None),
    ("manifest-lists-a-missing-file",
     meta_edit(lambda m: m["files"].append({**m["files"][0], "path": "hub/ghost.json"})),
     r"config/hub/ghost\.json.*missing", None),
    ("manifest-lists-a-file-twice", meta_edit(lambda m: m["files"].append(dict(m["files"][0]))), r"twice", None),
    ("manifest-not-json", lambda f: layout([*backup_entries(f)[:-1], Entry("backup.json", b"{not json")]),
     r"not valid JSON", None),
    ("no-manifest", lambda f: layout(backup_entries(f)[:-1]), r"no backup\.json", None),
    # A zip of another tool fails other checks too: that it is no mftui backup is said first.
    ("other-tool-zip-with-extra-fields", other_tool_zip(), r"not an mftui backup: it has no backup\.json", None),
    ("other-tool-zip-with-a-comment", other_tool_zip(comment=b"made by zip"),
     r"not an mftui backup: it has no backup\.json", None),
    ("other-tool-zip-with-directories", other_tool_zip(folders=True), r"not an mftui backup: it has no backup\.json",
     None),
    ("newer-format", meta_edit(lambda m: m.update(format_version=2, tool={"name": "mftui", "version": "9.0.1"})),
     r"format version 2 \(made by mftui 9\.0\.1\).*Update mftui", None),
    ("another-product", another_product, r"OtherFlow 7\.1 \(made by mftui 0\.1\.0\).*MobiusFlow", None),
    ("not-configuration-here", extra_path("logs/evil.log"), r"config/logs/evil\.log.*not configuration", None),
    # backup.json's identity is its own config/instance.json's (issue 8, minor: identity).
    ("identity-product-differs", identity_edit(product="MOBIUSFLOW"),  # the restore's product check ignores case
     r"backup\.json says .*MOBIUSFLOW.* config/instance\.json says .*MobiusFlow", None),
    # For this unit the missing product is refused first; the archive alone, for its own instance.json.
    ("identity-product-empty", identity_edit(product=""),
     r"names no product.*runs MobiusFlow|backup\.json says .*config/instance\.json says .*MobiusFlow", None),
    ("identity-hub-id-differs", identity_edit(id="000000"), r"hub 000000.*config/instance\.json says.*hub 3fa2c1",
     None),
    ("identity-hostname-differs", identity_edit(hostname="elsewhere"),
     r"\(elsewhere\).*config/instance\.json says.*\(mobius-demo-01\)", None),
    ("identity-file-too-large", identity_file_too_large, r"config/instance\.json is .* bytes", None),
    # backup.json's own values: what every reader shows must be text a person can read (issue 8, item 10).
    ("format-version-zero", meta_edit(lambda m: m.update(format_version=0)), r"format_version 0 does not exist", None),
    ("format-version-as-text", meta_edit(lambda m: m.update(format_version="1")),
     r"format_version must be a whole number", None),
    ("created-at-before-year-1-in-utc", meta_edit(lambda m: m.update(created_at="0001-01-01T00:00:00+01:00")),
     r"created_at .*cannot be put in UTC", None),
    ("created-at-after-year-9999-in-utc", meta_edit(lambda m: m.update(created_at="9999-12-31T23:59:59-14:00")),
     r"created_at .*cannot be put in UTC", None),
    ("created-at-without-time-zone", meta_edit(lambda m: m.update(created_at="2026-11-26T09:00:00")),
     r"created_at is not a date and time with a time zone", None),
    ("lone-surrogate-in-name", meta_edit(lambda m: m.update(name="before\ud800")), r"name holds a lone surrogate",
     None),
    ("escape-in-hostname", meta_edit(lambda m: m["instance"].update(hostname="x\x1b]0;pwned\x07")),
     r"instance\.hostname holds the control character U\+001B", None),
    ("bidi-override-in-product-version", meta_edit(lambda m: m["instance"].update(version="4.2\u202e1")),
     r"instance\.version holds the control character U\+202E", None),
    ("lone-surrogate-in-instance-id", meta_edit(lambda m: m["instance"].update(id="\udc003fa2c1")),
     r"instance\.id holds a lone surrogate", None),
    ("control-character-in-tool-version", meta_edit(lambda m: m["tool"].update(version="0.1\r0")),
     r"tool\.version holds the control character U\+000D", None),
    ("control-character-in-product", meta_edit(lambda m: m["instance"].update(product="Mobius\x00Flow")),
     r"instance\.product holds the control character U\+0000", None),
    ("product-missing", meta_edit(lambda m: m["instance"].pop("product")), r"instance\.product is missing", None),
    ("hostname-not-text", meta_edit(lambda m: m["instance"].update(hostname=5)), r"instance\.hostname is not text",
     None),
    ("unknown-kind", meta_edit(lambda m: m.update(kind="trial")), r"kind 'trial' is neither manual nor safety",
     None),
]


# Refused by what a restore of this unit checks (its product, its include/exclude), not by the archive alone.
UNIT_REFUSALS = {"another-product", "not-configuration-here"}


@pytest.fixture
def files(settings: Settings) -> Files:
    return read_tree(settings.instance_root)


def test_the_builder_makes_a_backup_that_restores(settings: Settings, files: Files, tmp_path: Path) -> None:
    """Control: without a defect, the hand-laid archive passes every check and restores."""
    path = tmp_path / "good.zip"
    path.write_bytes(make_backup(files))
    assert verify(path).name == "hostile"
    with zipfile.ZipFile(path) as zf:
        assert zf.testzip() is None
    result = restore_backup(settings, path)
    assert len(result.info.files) == len(files)
    assert read_tree(settings.instance_root) == files


@pytest.mark.parametrize(("case", "build", "reason", "budgets"), CASES, ids=[c[0] for c in CASES])
def test_hostile_archive_is_refused_and_nothing_changes(
    settings: Settings, files: Files, tmp_path: Path, case: str, build: Callable[[Files], bytes], reason: str,
    budgets: Budgets | None,
) -> None:
    if budgets is not None:
        settings = dataclasses.replace(settings, budgets=budgets)
    upload = tmp_path / "uploads" / f"{case}.zip"
    upload.parent.mkdir()
    upload.write_bytes(build(files))
    state = settings.state_dir
    before = snapshot(tmp_path, state, owners=True)

    with pytest.raises(ArchiveError) as err:
        restore_backup(settings, upload)
    message = str(err.value)
    assert re.search(reason, message), message
    assert "\n" not in message and "Traceback" not in message and len(message) < 400

    assert snapshot(tmp_path, state, owners=True) == before  # the instance, the backups, the upload: all unchanged
    # no staging, no journal, no trash; the audit log says it was refused (history/audit.py)
    assert sorted(os.listdir(state)) == ["audit.log", "lock"]
    assert '"action":"restore","outcome":"refused"' in (state / "audit.log").read_text()

    # plan_restore and mftui verify (verify_backup) refuse it for the same reason; so does the
    # archive-level check alone, but for the refusals that depend on this unit's settings. One
    # pytest.raises per call: each must refuse on its own.
    with pytest.raises(ArchiveError) as planned:
        plan_restore(settings, upload)
    assert re.search(reason, str(planned.value))
    with pytest.raises(ArchiveError) as verified:
        verify_backup(settings, upload)
    assert re.search(reason, str(verified.value))
    if case in UNIT_REFUSALS:
        assert verify(upload, budgets=budgets).name == "hostile"  # a valid archive, not for this unit
    else:
        with pytest.raises(ArchiveError) as archive_level:
            verify(upload, budgets=budgets)
        assert re.search(reason, str(archive_level.value))
    assert snapshot(tmp_path, state, owners=True) == before


def test_zipfile_accepts_what_we_refuse(settings: Settings, files: Files, tmp_path: Path) -> None:
    """The stdlib reads these without complaint: that is why the container is parsed by hand."""
    for name, build in (("junk-before", lambda f: make_backup(f, prefix=bytes(100))),
                        ("junk-between", lambda f: make_backup(f, between=b"x" * 50)),
                        ("overlap", overlapping)):
        path = tmp_path / f"{name}.zip"
        path.write_bytes(build(files))
        with zipfile.ZipFile(path) as zf:
            zf.read(HUB)  # reads fine
        with pytest.raises(ArchiveError):
            verify(path)


def test_bomb_stops_one_byte_past_the_declared_size(files: Files, tmp_path: Path) -> None:
    path = tmp_path / "bomb.zip"
    path.write_bytes(bomb(files))
    with open_archive(path) as archive:
        member, entry = next((m, e) for m, e in archive.entries() if m.path == "hub/zeros.bin")
        with pytest.raises(ArchiveError, match="inflates to more than"):
            for _chunk in archive.chunks(member, entry):
                pass
        assert archive.inflated <= 1001  # not 10 MB


def test_budget_counts_inflated_bytes_not_headers(settings: Settings, files: Files, tmp_path: Path) -> None:
    """Headers within budget, actual bytes over it: refused while inflating."""
    path = tmp_path / "b.zip"
    path.write_bytes(make_backup(files))
    total = sum(len(d) for d, _ in files.values())
    with open_archive(path, Budgets(max_total_bytes=total)) as archive:
        archive.budgets = Budgets(max_total_bytes=total - 1)  # as if the headers had under-declared
        with pytest.raises(ArchiveError, match="inflates to more than the limit"):
            archive.verify_all()


def test_a_fifo_posing_as_an_archive_does_not_hang(tmp_path: Path) -> None:
    fifo = tmp_path / "upload.zip"
    os.mkfifo(fifo)
    with pytest.raises(ArchiveError, match="not a regular file"):
        verify(fifo)


def test_a_folder_or_a_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ArchiveError, match="is a folder"):
        verify(tmp_path)
    with pytest.raises(ArchiveError, match="does not exist"):
        verify(tmp_path / "nope.zip")


def test_zip64_archives_from_the_writer_are_accepted(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    """The writer's ZIP64 records (forced at tiny sizes) pass the strict checks and restore."""
    from mftui.archive import zipstream
    from mftui.archive.writer import create_backup

    monkeypatch.setattr(zipstream, "ZIP64_AT", 100)
    monkeypatch.setattr(zipstream, "ZIP64_COUNT_AT", 3)
    monkeypatch.setattr(zipstream, "ZIP64_LOCAL_AT", 100)
    made = create_backup(settings, "zip64")
    raw = made.path.read_bytes()
    assert b"PK\x06\x06" in raw and b"PK\x06\x07" in raw
    before = read_tree(settings.instance_root)
    (settings.instance_root / "hub" / "hub.json").write_text("{}")
    assert verify(made.path).name == "zip64"
    restore_backup(settings, made.path)
    assert read_tree(settings.instance_root) == before


@pytest.mark.parametrize("name", ["services/00a.json", "flows/flows_cred.json", "certs/hub.key", "a b/c-d_e.f@g+h.json",
                                  "Réseau/données.json", "x/(1)/[2]/{3}/~#%,=.json", ".hidden/file"])
def test_real_names_pass_the_grammar(name: str) -> None:
    from mftui.archive.validate import config_path_problem

    assert config_path_problem(name) is None


def test_random_damage_is_an_archive_error_or_nothing(files: Files, tmp_path: Path) -> None:
    """Bytes changed, inserted or cut anywhere (the container, backup.json's text): a refusal, never a crash."""
    import random

    from mftui.archive.reader import read_info

    rnd = random.Random(8)
    base = make_backup(files)
    entries = backup_entries(files)
    text = entries[-1].data
    path = tmp_path / "damaged.zip"
    pieces = [b'"', b",", b"]", b"}", b"[", b"{", b":", b"", b"\\", b"\\ud800", b"\x00", b"1e999", b"-1", b"\xff"]
    for n in range(400):
        if n % 2:
            data = bytearray(base)
            for _ in range(rnd.choice([1, 2, 4])):
                at = rnd.randrange(len(data))
                data[at : at + rnd.randrange(0, 4)] = bytes(rnd.randrange(256) for _ in range(rnd.randrange(0, 4)))
            path.write_bytes(data)
        else:
            meta = bytearray(text)
            at = rnd.randrange(len(meta) + 1)
            meta[at : at + rnd.randrange(0, 3)] = rnd.choice(pieces)
            path.write_bytes(layout([*entries[:-1], Entry("backup.json", bytes(meta), mode=0o600)]))
        for use in (lambda: read_info(path).total_bytes, lambda: read_info(path, summary=True),
                    lambda: validate_archive(path)):
            try:
                use()
            except ArchiveError as exc:
                assert "\n" not in str(exc) and "Traceback" not in str(exc)


def test_the_grammar_s_quick_path_agrees_with_its_rules() -> None:
    """Everyday ASCII names skip the character-by-character rules: on random names, long ones too, the same answer."""
    import random

    from mftui.archive import paths

    rnd = random.Random(3)
    alphabet = "ab.-_ /:\\|~{}()" + "\t"
    quick = 0
    for _ in range(3000):
        letters = rnd.choice(["ab", "ab.-_ ", alphabet])
        segments = ["".join(rnd.choice(letters) for _ in range(rnd.choice([0, 1, 3, 250, 255, 256])))
                    for _ in range(rnd.choice([1, 2, 4, 5, 33]))]
        name = "/".join(segments)
        slow = (paths._characters_problem(name) or paths._segments_problem(name)) if name else "has an empty name"
        assert (paths.config_path_problem(name) is None) == (slow is None), name
        quick += slow is None and len(name) > paths.MAX_SEGMENT_BYTES
    assert quick > 100  # long names that pass were tried
