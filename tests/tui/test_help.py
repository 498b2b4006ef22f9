"""Help: ? and F1 open it (F1 from a text field too), it lists this screen's keys and where backups are; Esc closes."""

from __future__ import annotations

from collections.abc import Callable

from textual.containers import VerticalScroll
from textual.widgets import Input

from mftui.settings import Settings
from mftui.tui.app import MftuiApp
from mftui.tui.dialogs.help import HelpScreen
from mftui.tui.screens.administration import AdministrationScreen
from mftui.tui.screens.backup_restore import BackupRestoreScreen

from .helpers import SIZE, settle, static_text


async def test_question_mark_opens_help_with_this_screens_keys(
    make_app: Callable[..., MftuiApp], settings: Settings
) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("question_mark")
        await settle(pilot)
        assert isinstance(app.screen, HelpScreen)
        text = static_text(pilot, "#help-text")
        assert "Keys here (Administration)" in text and "Backup/Restore" in text
        assert f"Backups are in: {settings.backups_dir}" in text
        for action in ("Backup:", "Download Zip", "Upload Zip", "Restore (r)", "Put back previous", "scp"):
            assert action in text, action
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, AdministrationScreen)


async def test_f1_from_the_name_field_and_it_scrolls_at_60x20(make_app: Callable[..., MftuiApp]) -> None:
    app = make_app()
    async with app.run_test(size=(60, 20)) as pilot:
        await settle(pilot)
        await pilot.press("b")
        await settle(pilot)
        await pilot.press("a", "question_mark", "f1")  # ? is a letter in the name; F1 is help
        await settle(pilot)
        assert isinstance(app.screen, HelpScreen)
        assert "Keys here (Backup/Restore)" in static_text(pilot, "#help-text")
        scroll = app.screen.query_one("#help-scroll", VerticalScroll)
        assert scroll.max_scroll_y > 0  # longer than the screen: it must scroll
        await pilot.press("pagedown", "pagedown", "pagedown", "end")
        await settle(pilot)
        assert scroll.scroll_y == scroll.max_scroll_y
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, BackupRestoreScreen)
        assert app.screen.query_one("#name", Input).value == "a?"
