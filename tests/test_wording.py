"""How the TUI words sizes, times and changes."""

from __future__ import annotations

import errno

from mftui.archive.format import BackupInfo
from mftui.restore.changes import Changes
from mftui.wording import (
    change_by_component,
    change_summary,
    human_size,
    info_rows,
    os_error_sentence,
    unit_words,
    when,
)


def test_human_size() -> None:
    assert human_size(0) == "0 B"
    assert human_size(1536) == "1.5 KiB"
    assert human_size(5 * 1024 * 1024) == "5.0 MiB"


def test_when_is_utc_and_says_so() -> None:
    assert when("2026-11-05T11:15:00+01:00") == "2026-11-05 10:15:00 UTC"
    assert when("not a date") == "not a date"


def test_when_never_raises_and_shows_the_archive_words_escaped() -> None:
    """Times that exist with their offset but not in UTC (year 0 or 10000 there) are shown as written."""
    assert when("0001-01-01T00:00:00+01:00") == "0001-01-01T00:00:00+01:00"
    assert when("9999-12-31T23:59:59-14:00") == "9999-12-31T23:59:59-14:00"
    assert when("2026-11-05T10:15:00") == "2026-11-05T10:15:00"  # no time zone: not a time to convert
    assert when("\x1b[2J\ud800") == "\\x1b[2J\\ud800"


EVIL = "\x1b]0;t\x07\x1b[2J\u202e\ud800"
SHOWN = "\\x1b]0;t\\x07\\x1b[2J\\u202e\\ud800"


def test_words_from_an_archive_are_escaped() -> None:
    assert unit_words("3fa2c1" + EVIL, "host" + EVIL) == f"hub 3fa2c1{SHOWN} (host{SHOWN})"
    assert unit_words("", "") == "hub ? (?)"
    info = BackupInfo(name="n" + EVIL, created_at="2026-11-05T10:15:00+00:00", tool_version="t" + EVIL,
                      product="p" + EVIL, product_version="v" + EVIL, instance_id="i" + EVIL, hostname="h" + EVIL,
                      files=(), components={"c" + EVIL: 1})
    rows = dict(info_rows(info))
    assert rows["Name"] == "n" + SHOWN and rows["Product"] == f"p{SHOWN} v{SHOWN}"
    assert rows["Format"] == f"v1 (mftui t{SHOWN})" and rows["Components"] == f"c{SHOWN} 1"
    for value in rows.values():
        assert value.isprintable(), value
        value.encode("utf-8")  # no lone surrogate left to fail the terminal's encoding


def test_an_os_error_in_words() -> None:
    said = os_error_sentence(PermissionError(errno.EACCES, "Permission denied", "/data/x\x1b[2J"))
    assert said == ("permission denied: /data/x\\x1b[2J (check its owner and permissions, or run mftui as the "
                    "user that owns the instance)")
    full = os_error_sentence(OSError(errno.ENOSPC, "No space left on device", "/a", None, "/b"))
    assert full == "no space left on device: /a -> /b (free some space on that filesystem and try again)"
    assert os_error_sentence(OSError("odd")) == "odd (check that path and try again)"


def test_changes_in_words() -> None:
    changes = Changes(
        added=("a",),
        changed=("b", "c"),
        removed=(),
        by_component={"flows": {"added": 1, "changed": 1, "removed": 0}, "hub": {"changed": 1}, "users": {}},
        identity_changes=(),
        archive_instance_id="3fa2c1",
        live_instance_id="3fa2c1",
    )
    assert change_summary(changes) == "1 added, 2 changed, 0 removed"
    assert change_by_component(changes) == ["flows: 1 added, 1 changed", "hub: 1 changed"]
    none = Changes(added=(), changed=(), removed=(), by_component={}, identity_changes=(), archive_instance_id="",
                   live_instance_id="")
    assert change_summary(none).startswith("none")
