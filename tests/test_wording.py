"""How the TUI words sizes, times and changes."""

from __future__ import annotations

from types import SimpleNamespace

from mftui.wording import change_by_component, change_summary, human_size, when


def test_human_size() -> None:
    assert human_size(0) == "0 B"
    assert human_size(1536) == "1.5 KiB"
    assert human_size(5 * 1024 * 1024) == "5.0 MiB"


def test_when_is_utc_and_says_so() -> None:
    assert when("2026-11-05T11:15:00+01:00") == "2026-11-05 10:15:00 UTC"
    assert when("not a date") == "not a date"


def test_changes_in_words() -> None:
    changes = SimpleNamespace(
        added=("a",),
        changed=("b", "c"),
        removed=(),
        by_component={"flows": {"added": 1, "changed": 1, "removed": 0}, "hub": {"changed": 1}, "users": {}},
    )
    assert change_summary(changes) == "1 added, 2 changed, 0 removed"
    assert change_by_component(changes) == ["flows: 1 added, 1 changed", "hub: 1 changed"]
    none = SimpleNamespace(added=(), changed=(), removed=(), by_component={})
    assert change_summary(none).startswith("none")
