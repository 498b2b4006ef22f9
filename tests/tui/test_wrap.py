"""Long values wrap between names, never inside one: paths, lists of counts, the picker's file names."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from mftui.archive.writer import create_backup
from mftui.settings import Settings
from mftui.tui.app import MftuiApp
from mftui.tui.dialogs.confirm_restore import ConfirmRestore
from mftui.tui.dialogs.pick_backup import BackupList, EntryLine, PickBackup
from mftui.tui.widgets.keybar import KeyBar
from mftui.tui.wrap import Wrapped

from .helpers import FROZEN, SIZE, plain, settle
from .test_restore import open_backup_restore

PATH = "/data/mftui/a-rather-long-folder/backups/site-visit-after-the-flow-change_2026-11-26T035454Z.zip"


def test_a_path_breaks_after_a_slash() -> None:
    lines = Wrapped.path(f"Backup made: {PATH}").lines(60)
    assert lines == [
        "Backup made: /data/mftui/a-rather-long-folder/backups/",
        "site-visit-after-the-flow-change_2026-11-26T035454Z.zip",
    ]
    assert all(len(line) <= 60 for line in lines)


def test_a_name_longer_than_the_line_is_folded_and_newlines_are_kept() -> None:
    assert Wrapped.path("x" * 25 + "\nend").lines(10) == ["x" * 10, "x" * 10, "x" * 5, "end"]


def test_a_list_breaks_between_its_items() -> None:
    items = "certs 3, flows 2, hub 3, licence 1, network 1, profiles 1, services 5, users 1".split(", ")
    lines = Wrapped.items(items).lines(64)
    assert lines == ["certs 3, flows 2, hub 3, licence 1, network 1, profiles 1,", "services 5, users 1"]


def test_a_picker_entry_shows_the_whole_name_and_details_only_where_there_is_room(tmp_path: Path) -> None:
    short = tmp_path / "site_2026-11-05T101500Z.zip"
    short.write_bytes(b"x" * 2048)
    long = tmp_path / "a-name-that-is-rather-long-for-a-site_2026-11-05T101500Z.zip"
    long.write_bytes(b"x" * 2048)
    for path in (short, long):
        os.utime(path, (FROZEN.timestamp(), FROZEN.timestamp()))
    (line,) = EntryLine(short).lines(70)
    assert line.split() == ["site_2026-11-05T101500Z.zip", "2.0", "KiB", *line.split()[3:]]
    assert len(line) <= 69 and line.rstrip().endswith(line.split()[-1])
    (line,) = EntryLine(long).lines(70)
    assert long.name in line and "KiB" not in line  # the name needs the room
    folded = EntryLine(long).lines(40)
    assert "".join(part.strip() for part in folded) == long.name  # never cut with "…"
    assert EntryLine(tmp_path).lines(70)[0].startswith(" /  ")  # a folder


async def test_the_picker_lists_long_names_whole_and_its_key_bar_says_its_keys(
    make_app: Callable[..., MftuiApp], settings: Settings
) -> None:
    archive = create_backup(settings, "a-name-that-is-rather-long-for-a-visit", now=FROZEN).path
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await open_backup_restore(pilot)
        await pilot.press("u")
        await settle(pilot)
        assert isinstance(app.screen, PickBackup)
        listing = app.screen.query_one(BackupList)
        shown = [line for option in listing.options for line in option.prompt.lines(listing.content_region.width)]
        assert any(archive.name in line for line in shown), shown  # whole, on one line
        bar = plain(app.screen.query_one(KeyBar).content)
        assert bar.startswith("Enter Choose") and "Esc Cancel" in bar and "Upload Zip" not in bar, bar


async def test_a_dialog_key_bar_lists_the_dialog_keys(make_app: Callable[..., MftuiApp], settings: Settings) -> None:
    from .test_restore import backup_then_change_live, upload

    archive, _ = backup_then_change_live(settings)
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await open_backup_restore(pilot)
        await upload(pilot, archive)
        await pilot.press("r")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmRestore)
        assert (
            plain(app.screen.query_one(KeyBar).content)
            == "Enter/any other key No  Tab Go to Yes  arrows/PgUp/PgDn Read"
        )


async def test_an_open_drop_down_says_esc_closes_it_not_the_picker(make_app: Callable[..., MftuiApp]) -> None:
    """The picker's filter list open: Esc closes the list; the key bar must not also say "Esc Cancel"."""
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await open_backup_restore(pilot)
        await pilot.press("u")
        await settle(pilot)
        await pilot.press("tab", "tab")  # the list, the path field, the filter
        await settle(pilot)
        await pilot.press("enter")  # open it
        await settle(pilot)
        bar = plain(app.screen.query_one(KeyBar).content)
        assert "Esc Dismiss menu" in bar and "Esc Cancel" not in bar, bar
        await pilot.press("escape", "escape")
        await settle(pilot)
        assert "No backup chosen" in plain(app.screen.query_one("#details").content)
