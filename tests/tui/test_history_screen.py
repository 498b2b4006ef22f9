"""The History view: the real audit log in the state folder, newest first, damaged lines said in one line."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

from textual.widgets import OptionList

from mftui.history.audit import LOG_NAME, append_entry, make_entry
from mftui.settings import Settings
from mftui.tui.app import MftuiApp
from mftui.tui.screens.backups import BackupsScreen
from mftui.tui.screens.history import HistoryScreen

from .helpers import FROZEN, SIZE, screen_lines, settle, static_text


async def open_history(pilot: Any) -> None:
    await settle(pilot)
    await pilot.press("l")
    await settle(pilot)
    assert isinstance(pilot.app.screen, BackupsScreen)
    await pilot.press("h")
    await settle(pilot)
    assert isinstance(pilot.app.screen, HistoryScreen)


def entries(pilot: Any) -> list[str]:
    menu = pilot.app.screen.query_one("#history", OptionList)
    return [str(menu.get_option_at_index(i).prompt) for i in range(menu.option_count)]


def log(settings: Settings, count: int) -> Path:
    archive = Path("logged_2026-11-05T101500Z.zip")  # only its name is logged
    for i in range(count):
        action = ("backup", "copy", "delete")[i % 3]
        append_entry(settings, make_entry(action, "ok", archive=archive, detail=f"step {i}",
                                          now=FROZEN + timedelta(minutes=i)))
    return archive


async def test_newest_first_and_the_highlighted_entry_in_full(
    make_app: Callable[..., MftuiApp], settings: Settings
) -> None:
    archive = log(settings, 3)
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await open_history(pilot)
        shown = entries(pilot)
        assert [line.split()[2] for line in shown] == ["delete", "copy", "backup"]
        assert shown[0].startswith("2026-11-05 10:17")
        details = static_text(pilot, "#history-details")
        assert "step 2" in details and archive.name in details
        assert "3 entries, newest first." in static_text(pilot, "#history-status")
        await pilot.press("down")
        await settle(pilot)
        assert "step 1" in static_text(pilot, "#history-details")
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, BackupsScreen)


async def test_a_long_log_scrolls(make_app: Callable[..., MftuiApp], settings: Settings) -> None:
    log(settings, 60)
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await open_history(pilot)
        assert "step 59" in "\n".join(screen_lines(pilot))
        for _ in range(4):
            await pilot.press("pagedown")
        await settle(pilot)
        assert "step 59" not in "\n".join(screen_lines(pilot))
        await pilot.press("end")
        await settle(pilot)
        assert "step 0" in static_text(pilot, "#history-details")


async def test_damaged_lines_are_skipped_and_said_in_one_line(
    make_app: Callable[..., MftuiApp], settings: Settings
) -> None:
    log(settings, 2)
    with (settings.state_dir / LOG_NAME).open("ab") as fh:
        fh.write(b"{not json\n\xff\xfe\n")
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await open_history(pilot)
        assert len(entries(pilot)) == 2
        status = static_text(pilot, "#history-status")
        assert "skipped" in status and "\n" not in status
        assert sum("skipped" in line for line in screen_lines(pilot)) == 1


async def test_logged_text_is_shown_never_obeyed(make_app: Callable[..., MftuiApp], settings: Settings) -> None:
    log(settings, 0)
    append_entry(settings, make_entry("backup", "ok", detail="[b]x[/b]\x1b[2J\u202eevil", now=FROZEN))
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await open_history(pilot)
        details = static_text(pilot, "#history-details")
        assert "[b]x[/b]\\x1b[2J" in details
        screen = "\n".join(screen_lines(pilot))
        assert "\x1b" not in screen and "\u202e" not in screen


async def test_an_empty_log_says_so(make_app: Callable[..., MftuiApp], settings: Settings) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await open_history(pilot)
        assert "Nothing recorded yet" in static_text(pilot, "#history-status")


async def test_a_full_log_lists_the_newest_and_says_how_many_more(
    make_app: Callable[..., MftuiApp], settings: Settings
) -> None:
    from mftui.tui.screens.history import SHOWN

    log(settings, SHOWN + 5)
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await open_history(pilot)
        assert len(entries(pilot)) == SHOWN
        assert f"step {SHOWN + 4}" in static_text(pilot, "#history-details")
        assert f"The newest {SHOWN:,} of {SHOWN + 5:,} entries" in static_text(pilot, "#history-status")
