"""Strings from an archive, a file name, a path or the settings are shown as plain text, escaped.

Never as markup (``[/nope]`` must not crash, ``[bold red]x[/]`` must not be styled), and never
with their control characters (ESC would reach the terminal). Every field is tried.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

from hostile import backup_entries, layout, read_tree

from mftui.settings import Settings
from mftui.tui.app import MftuiApp
from mftui.tui.dialogs.pick_backup import PickBackup
from mftui.tui.screens.backup_restore import BackupRestoreScreen

from .helpers import screen_lines, settle
from .test_restore import details_text, open_backup_restore, upload

CLOSE = "[/nope]"  # a closing tag with nothing open: Rich raises MarkupError
STYLED = "[bold red]BIG[/]"
LINK = "[link=file:///etc]x"
ESC = "\x1b[2J\x1b]0;pwned\x07"  # clear the screen, set the title
ESC_SHOWN = "\\x1b[2J\\x1b]0;pwned\\x07"


def hostile_text(screen: str) -> None:
    assert "\x1b" not in screen and "\x07" not in screen, screen
    for literal in (CLOSE, STYLED, LINK):
        assert literal in screen, (literal, screen)


async def test_the_live_instance_and_settings_are_shown_plainly(
    make_app: Callable[..., MftuiApp], settings: Settings, tmp_path: Path
) -> None:
    identity = settings.instance_root / "instance.json"
    data = json.loads(identity.read_text())
    data.update(product=STYLED, version=CLOSE + ESC, hostname=LINK)
    identity.write_text(json.dumps(data))
    backups = tmp_path / f"bk{CLOSE}{ESC}"
    app = make_app(app_settings=replace(settings, backups_dir=backups))
    async with app.run_test(size=(132, 43)) as pilot:
        await settle(pilot)
        assert app.is_running
        screen = "\n".join(screen_lines(pilot))
        hostile_text(screen)
        assert ESC_SHOWN in screen
        await pilot.press("b")
        await settle(pilot)
        assert isinstance(app.screen, BackupRestoreScreen)
        screen = "\n".join(screen_lines(pilot))
        assert LINK in screen and "\x1b" not in screen


def hostile_archive(settings: Settings, path: Path, value: Callable[[str], str]) -> Path:
    """A backup of this unit whose backup.json holds ``value(field)`` in every string field."""

    def edit(meta: dict[str, Any]) -> None:
        meta["name"] = value("name")
        meta["tool"]["version"] = value("tool")
        for key in ("product", "version", "id", "hostname"):
            meta["instance"][key] = value(key)

    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(layout(backup_entries(read_tree(settings.instance_root), edit=edit)))
    return path


MARKUP = {"name": STYLED, "tool": CLOSE, "product": STYLED, "version": CLOSE, "id": CLOSE, "hostname": LINK}


async def test_an_archive_full_of_markup_is_shown_plainly(
    make_app: Callable[..., MftuiApp], settings: Settings
) -> None:
    name = "[bold red]BIG\x1b[2J.zip"  # a file name cannot hold "/"
    archive = hostile_archive(settings, settings.backups_dir / name, MARKUP.__getitem__)
    app = make_app()
    async with app.run_test(size=(132, 43)) as pilot:
        await open_backup_restore(pilot)
        await pilot.press("u")
        await settle(pilot)
        assert isinstance(app.screen, PickBackup)
        listing = "\n".join(screen_lines(pilot))
        assert "[bold red]BIG\\x1b[2J.zip" in listing and "\x1b" not in listing, listing
        await pilot.press("escape")
        await settle(pilot)
        await upload(pilot, archive)
        assert app.is_running
        text = details_text(pilot)
        for literal in (CLOSE, STYLED, LINK, "BIG\\x1b[2J.zip", f"{STYLED} {CLOSE}", f"mftui {CLOSE}"):
            assert literal in text, (literal, text)
        screen = "\n".join(screen_lines(pilot))
        assert STYLED in screen and "\x1b" not in screen


async def test_control_characters_in_backup_json_are_escaped_in_the_refusal(
    make_app: Callable[..., MftuiApp], settings: Settings, tmp_path: Path
) -> None:
    app = make_app()
    async with app.run_test(size=(132, 43)) as pilot:
        await open_backup_restore(pilot)
        for field in MARKUP:
            archive = hostile_archive(
                settings, tmp_path / f"{field}.zip", lambda key, f=field: f"a{ESC}" if key == f else "x"
            )
            await upload(pilot, archive)
            text = details_text(pilot)
            assert "NO:" in text and "control character" in text, (field, text)
            screen = "\n".join(screen_lines(pilot))
            assert "\x1b" not in screen and "\x07" not in screen, field
            app.screen.query_one("#upload").focus()
            await settle(pilot)
