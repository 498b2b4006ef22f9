"""Pilot tests of What changed (DiffScreen): the list by component, Enter on a file, scrolling, Esc.

Real backups made by mftui on a demo instance in tmp; the live tree then
edited. The restore pane's Enter on a change opens the same screen.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from textual.widgets import Static

from mftui.archive.writer import create_backup
from mftui.settings import Settings
from mftui.tui.app import MftuiApp
from mftui.tui.screens.diff_view import ChangeList, DiffScreen, DiffText

from .helpers import FROZEN, SIZE, plain, screen_lines, settle

SECRET = "f5b165224a58b791df6af1d8303e61cd"  # the start of the demo's first pre-shared key


def change_live(root: Path) -> None:
    """A flow edited (a long file: it scrolls), a service added, one removed, the PSK and the key changed."""
    flows = "[\n" + ",\n".join(f'  {{"id": "f{i:02x}", "type": "tab", "label": "flow {i}"}}' for i in range(80))
    (root / "flows" / "flows.json").write_text(flows + "\n]\n")
    (root / "services" / "0ff.json").write_text('{"id": "0ff", "name": "\x1b[31mred\x1b[0m [b]bold[/b]"}\n')
    (root / "services" / "00a.json").unlink()
    psk = root / "hub" / "psk.json"
    psk.write_text(psk.read_text().replace("f5b1", "0000"))


def backup_and_change(settings: Settings) -> Path:
    archive = create_backup(settings, "before", now=FROZEN).path
    change_live(settings.instance_root)
    return archive


async def open_diff(app: MftuiApp, pilot, screen: DiffScreen) -> DiffScreen:  # type: ignore[no-untyped-def]
    await settle(pilot)
    app.push_screen(screen)
    await until(pilot, lambda: "reading" not in plain(screen.query_one("#diff-summary", Static).content)
                and "reading" not in plain(screen.query_one("#diff-status", Static).content))
    assert app.screen is screen
    return screen


async def until(pilot, done: Callable[[], bool]) -> None:  # type: ignore[no-untyped-def]
    """Settle until ``done()`` (a worker in a thread ends in its own time), for at most 10 s."""
    for _ in range(200):
        await settle(pilot, rounds=1)
        if done():
            return
    raise AssertionError("the screen never got there")


async def test_list_enter_scroll_esc(make_app: Callable[..., MftuiApp], settings: Settings) -> None:
    archive = backup_and_change(settings)
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_diff(app, pilot, DiffScreen(settings, archive, None))
        shown = "\n".join(screen_lines(pilot))
        assert "1 added, 2 changed, 1 removed" in plain(screen.query_one("#diff-summary", Static).content)
        for words in ("flows:", "~ flows/flows.json", "+ services/0ff.json", "- services/00a.json",
                      "~ hub/psk.json  changed (secret)"):
            assert words in shown, shown
        listing = screen.query_one(ChangeList)
        assert app.focused is listing
        # Down to the flow and Enter: its diff, scrollable.
        while listing.highlighted is not None and listing.get_option_at_index(listing.highlighted).id != \
                "flows/flows.json":
            await pilot.press("down")
        await pilot.press("enter")
        await until(pilot, lambda: screen.query_one(DiffText).has_class("-shown"))
        view = screen.query_one(DiffText)
        assert app.focused is view and not listing.display
        text = plain(screen.query_one("#diff-text", Static).content)
        assert "--- before_" in text and "+++ live/flows/flows.json" in text
        assert '+  {"id": "f4f", "type": "tab", "label": "flow 79"}' in text
        assert view.scroll_y == 0
        await pilot.press("pagedown")
        await settle(pilot)
        assert view.scroll_y > 0
        await pilot.press("end")
        await settle(pilot)
        assert view.scroll_y == view.max_scroll_y > 0
        await pilot.press("home")
        await settle(pilot)
        assert view.scroll_y == 0
        await pilot.press("escape")
        await settle(pilot)
        assert app.screen is screen and listing.display and app.focused is listing
        await pilot.press("escape")
        await settle(pilot)
        assert app.screen is not screen


async def test_secret_never_shown(make_app: Callable[..., MftuiApp], settings: Settings) -> None:
    archive = backup_and_change(settings)
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_diff(app, pilot, DiffScreen(settings, archive, None, path="hub/psk.json"))
        text = plain(screen.query_one("#diff-text", Static).content)
        assert "hub/psk.json: changed (secret, not shown)" in text
        assert SECRET not in text and "0000" not in text
        await pilot.press("escape")  # opened on a file: Esc goes back to where it came from
        await settle(pilot)
        assert app.screen is not screen


async def test_untrusted_lines_are_escaped_never_markup(make_app: Callable[..., MftuiApp],
                                                        settings: Settings) -> None:
    archive = backup_and_change(settings)
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_diff(app, pilot, DiffScreen(settings, archive, None, path="services/0ff.json"))
        text = plain(screen.query_one("#diff-text", Static).content)
        assert "\x1b" not in text
        assert '+{"id": "0ff", "name": "\\x1b[31mred\\x1b[0m [b]bold[/b]"}' in text


async def test_two_backups_at_60x20(make_app: Callable[..., MftuiApp], settings: Settings) -> None:
    first = create_backup(settings, "first", now=FROZEN).path
    change_live(settings.instance_root)
    second = create_backup(settings, "second", now=FROZEN.replace(hour=11)).path
    app = make_app()
    async with app.run_test(size=(60, 20)) as pilot:
        await open_diff(app, pilot, DiffScreen(settings, first, second))
        lines = screen_lines(pilot)
        shown = "\n".join(lines)
        summary = plain(app.screen.query_one("#diff-summary", Static).content)
        assert summary.startswith("From first_") and "1 added, 2 changed, 1 removed" in summary
        assert "- services/00a.json" in shown
        assert lines[-1].strip().startswith("Enter Show diff")


async def test_restore_pane_enter_on_a_change(make_app: Callable[..., MftuiApp], settings: Settings) -> None:
    from mftui.tui.screens.backup_restore import BackupRestoreScreen
    from mftui.tui.widgets.changed_files import ChangedFiles

    from .test_restore import open_backup_restore, upload

    archive = backup_and_change(settings)
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await open_backup_restore(pilot)
        await upload(pilot, archive)
        await until(pilot, lambda: app.screen.query_one(ChangedFiles).display)
        listing = app.screen.query_one(ChangedFiles)
        shown = [plain(listing.get_option_at_index(i).prompt) for i in range(listing.option_count)]
        assert [line.strip() for line in shown] == [
            "+ services/00a.json  (adds)", "~ flows/flows.json  (changes)", "~ hub/psk.json  (changes)",
            "- services/0ff.json  (removes)"]
        listing.focus()
        await settle(pilot)
        assert "Enter Show diff" in screen_lines(pilot)[-1]
        await pilot.press("down", "down")  # the first Down highlights the first file
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, DiffScreen) and app.screen.showing == "flows/flows.json"
                    and app.screen.query_one(DiffText).has_class("-shown"))
        text = plain(app.screen.query_one("#diff-text", Static).content)
        # The restore's direction: from the live file to the backup's, as the list says (+ adds, - removes).
        assert text.startswith("flows/flows.json: changed"), text
        assert "--- live/flows/flows.json" in text and f"+++ {archive.name}/flows/flows.json" in text, text
        summary = plain(app.screen.query_one("#diff-summary", Static).content)
        assert summary.startswith(f"What restoring {archive.name} does: 1 added, 2 changed, 1 removed"), summary
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, BackupRestoreScreen) and app.focused is listing
        await pilot.press("up", "enter")  # the file the restore adds: added, its lines +
        await until(pilot, lambda: isinstance(app.screen, DiffScreen) and app.screen.showing == "services/00a.json"
                    and app.screen.query_one(DiffText).has_class("-shown"))
        text = plain(app.screen.query_one("#diff-text", Static).content)
        assert text.startswith("services/00a.json: added"), text
        assert "+++ " + archive.name + "/services/00a.json" in text and "--- /dev/null" in text, text


async def test_encrypted_backup_asks_for_its_passphrase(make_app: Callable[..., MftuiApp], settings: Settings) -> None:
    from textual.widgets import Input

    from mftui.protection import protector_for
    from mftui.tui.dialogs.passphrase import AskPassphrase

    protect = protector_for(settings, encrypt="passphrase", passphrase=b"correct horse")
    archive = create_backup(settings, "sealed", now=FROZEN, protect=protect).path
    change_live(settings.instance_root)
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = DiffScreen(settings, archive, None)
        app.push_screen(screen)
        await until(pilot, lambda: isinstance(app.screen, AskPassphrase))
        app.screen.query_one("#passphrase", Input).value = "wrong horse"
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, AskPassphrase)
                    and "the passphrase is wrong" in plain(app.screen.query_one("#problem", Static).content))
        app.screen.query_one("#passphrase", Input).value = "correct horse"
        await pilot.press("enter")
        await until(pilot, lambda: app.screen is screen and "1 added, 2 changed, 1 removed" in plain(
            screen.query_one("#diff-summary", Static).content))
        await pilot.press("escape")
        await settle(pilot)
    assert sorted(settings.backups_dir.iterdir()) == [archive]  # the opened payload is removed with the screen
    # Given the passphrase (the restore pane's), it opens without asking.
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = DiffScreen(settings, archive, None, path="flows/flows.json", passphrase=b"correct horse")
        await open_diff(app, pilot, screen)
        assert "+++ live/flows/flows.json" in plain(screen.query_one("#diff-text", Static).content)



@pytest.mark.parametrize("name", ["diff", "diff-file"])
def test_snapshots(name: str, snap_compare: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """The pictures of tests/tui/scenes_diff.py at 80x24, low bandwidth (the serial console)."""
    from .scenes import snapshot
    from .scenes_diff import SCENES

    assert snapshot(SCENES[name], snap_compare, monkeypatch)
