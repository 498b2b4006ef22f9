"""The Backups screen: real archives in a real backups folder, the real app driven by Pilot.

Each test checks the folder (or the state folder) on disk, not only the screen.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from textual.widgets import OptionList

from mftui.archive.writer import create_backup
from mftui.history.pins import pinned
from mftui.restore import restore_backup
from mftui.settings import Settings
from mftui.tui.app import MftuiApp
from mftui.tui.dialogs.confirm_delete import ConfirmDelete
from mftui.tui.dialogs.download_zip import DownloadZip
from mftui.tui.screens.administration import AdministrationScreen
from mftui.tui.screens.backup_restore import BackupRestoreScreen
from mftui.tui.screens.backups import BackupsScreen
from mftui.tui.screens.diff_view import DiffScreen
from mftui.tui.screens.history import HistoryScreen

from .helpers import FROZEN, SIZE, burst, frozen_now, screen_lines, settle, static_text
from .test_restore import details_text


def three_backups(settings: Settings) -> list[Path]:
    """Oldest first: "monday", "tuesday", "wednesday", a day apart."""
    return [create_backup(settings, name, now=FROZEN + timedelta(days=i)).path
            for i, name in enumerate(("monday", "tuesday", "wednesday"))]


async def open_backups(pilot: Any) -> None:
    await settle(pilot)
    await pilot.press("l")
    await settle(pilot)
    assert isinstance(pilot.app.screen, BackupsScreen)


def rows(pilot: Any) -> list[str]:
    menu = pilot.app.screen.query_one("#backups", OptionList)
    return [str(menu.get_option_at_index(i).prompt) for i in range(menu.option_count)]


def shown(pilot: Any) -> str:
    return "\n".join(screen_lines(pilot))


async def test_the_menu_leads_to_every_backup_newest_first_with_its_kind(
    make_app: Callable[..., MftuiApp], settings: Settings
) -> None:
    monday, _, wednesday = three_backups(settings)
    create_backup(settings, "nightly", now=FROZEN + timedelta(hours=12), kind="scheduled")
    (settings.instance_root / "flows" / "flows.json").write_text("[]\n")
    restore_backup(settings, monday)  # a safety copy (pre-restore) and the previous configuration are kept
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert "every backup kept on this unit (l)" in shown(pilot)
        await open_backups(pilot)
        names = [row.split()[0] for row in rows(pilot)]  # the previous configuration: "before last restore"
        kinds = " ".join(rows(pilot))
        assert "pre-restore" in kinds and "previous" in kinds and "manual" in kinds and "scheduled" in kinds
        made = [n for n in names if n in ("monday", "nightly", "tuesday", "wednesday")]
        assert made == ["wednesday", "tuesday", "nightly", "monday"]
        assert names[0] in ("pre-restore", "replaced")  # made now: the safety copy and the previous configuration
        await pilot.press(*["down"] * names.index("wednesday"))
        await settle(pilot)
        assert wednesday.name in static_text(pilot, "#backup-details")
        await pilot.press("home", *["down"] * names.index("before"))
        await settle(pilot)
        assert "Put it back with p on Administration" in static_text(pilot, "#backup-details")
        keys = " ".join(screen_lines(pilot)[-2:]) + " "
        assert "h History" in keys
        for key in ("Download", "Restore", "Delete", "Pin", "Changed", "Verify"):  # a folder, not a file
            assert f" {key} " not in keys, key
        await pilot.press("x", "d", "v")
        await settle(pilot)
        assert isinstance(app.screen, BackupsScreen)
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, AdministrationScreen)


async def test_enter_and_d_open_download_zip_for_the_highlighted_backup(
    make_app: Callable[..., MftuiApp], settings: Settings
) -> None:
    monday, tuesday, _ = three_backups(settings)
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await open_backups(pilot)
        await pilot.press("down")
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, DownloadZip) and app.screen.archive == tuesday
        await pilot.press("escape")
        await settle(pilot)
        await pilot.press("down", "d")
        await settle(pilot)
        assert isinstance(app.screen, DownloadZip) and app.screen.archive == monday


async def test_r_opens_backup_restore_with_that_backup_checked(
    make_app: Callable[..., MftuiApp], settings: Settings
) -> None:
    _, tuesday, _ = three_backups(settings)
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await open_backups(pilot)
        await pilot.press("down", "r")
        await settle(pilot, rounds=5)
        assert isinstance(app.screen, BackupRestoreScreen)
        assert str(tuesday) in details_text(pilot)
        assert app.screen.restore_panel.restorable
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, BackupsScreen)
        await pilot.press("r")  # the second time, the screen exists already
        await settle(pilot, rounds=5)
        assert str(tuesday) in details_text(pilot)


@pytest.mark.parametrize("keys", [("x", "enter", "y"), ("x", "y", "enter"), ("delete", "y"), ("x", "tab", "y")])
async def test_a_burst_never_deletes(
    make_app: Callable[..., MftuiApp], settings: Settings, keys: tuple[str, ...]
) -> None:
    backups = three_backups(settings)
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await open_backups(pilot)
        await burst(pilot, *keys)
        await settle(pilot)
        assert all(path.exists() for path in backups)
        assert not isinstance(app.screen, ConfirmDelete)  # answered: No
        screen = next(s for s in app.screen_stack if isinstance(s, BackupsScreen))
        assert "cancelled" in str(screen.query_one("#backups-status").render())


async def test_delete_asks_no_first_then_tab_enter_deletes(
    make_app: Callable[..., MftuiApp], settings: Settings
) -> None:
    monday, tuesday, wednesday = three_backups(settings)
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await open_backups(pilot)
        await pilot.press("down", "x")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmDelete)
        assert app.screen.focused is not None and app.screen.focused.id == "no"
        assert tuesday.name in shown(pilot)
        await pilot.press("enter")
        await settle(pilot)
        assert tuesday.exists()
        await pilot.press("x")
        await settle(pilot)
        await pilot.press("tab", "enter")
        await settle(pilot, rounds=5)
        assert isinstance(app.screen, BackupsScreen)
        assert not tuesday.exists() and monday.exists() and wednesday.exists()
        assert [row.split()[0] for row in rows(pilot)] == ["wednesday", "monday"]
        assert "Deleted" in static_text(pilot, "#backups-status")
        assert monday.name in static_text(pilot, "#backup-details")  # the cursor stays where it was


async def test_p_pins_and_unpins_and_a_pinned_backup_is_not_deleted(
    make_app: Callable[..., MftuiApp], settings: Settings
) -> None:
    _, _, wednesday = three_backups(settings)
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await open_backups(pilot)
        await pilot.press("p")
        await settle(pilot)
        assert pinned(settings) == {wednesday.name}
        assert rows(pilot)[0].startswith("*")
        await pilot.press("x")  # not even asked: a pinned backup is kept until unpinned
        await settle(pilot, rounds=5)
        assert isinstance(app.screen, BackupsScreen)
        assert wednesday.exists() and "is pinned: p unpins it" in static_text(pilot, "#backups-status")
        await pilot.press("p")
        await settle(pilot)
        assert pinned(settings) == frozenset()
        assert not rows(pilot)[0].startswith("*")


async def test_v_verifies_and_the_list_remembers_it(
    make_app: Callable[..., MftuiApp], settings: Settings, tmp_path: Path
) -> None:
    _, tuesday, wednesday = three_backups(settings)
    damaged = settings.backups_dir / "damaged_2026-11-09T101500Z.zip"
    data = bytearray(tuesday.read_bytes())
    at = data.index(b"config/hub/psk.json") + 200  # inside the entries: the checksums catch it, not the list
    data[at] ^= 0xFF
    damaged.write_bytes(bytes(data))
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await open_backups(pilot)
        assert rows(pilot)[0].split()[0] == "wednesday" and rows(pilot)[0].rstrip().endswith("no")
        assert rows(pilot)[1].split()[0] == "tuesday"  # the damaged copy says it is tuesday's
        await pilot.press("v")
        await settle(pilot, rounds=5)
        assert rows(pilot)[0].rstrip().endswith("yes"), rows(pilot)
        assert "every checksum sound" in static_text(pilot, "#backup-details")
        await pilot.press("down", "v")
        await settle(pilot, rounds=5)
        assert damaged.name in static_text(pilot, "#backup-details")
        assert rows(pilot)[1].rstrip().endswith("FAILED"), rows(pilot)
        assert "FAILED" in static_text(pilot, "#backup-details")
    app = make_app()  # another run: the cache in the state folder remembers
    async with app.run_test(size=SIZE) as pilot:
        await open_backups(pilot)
        assert rows(pilot)[0].rstrip().endswith("yes") and rows(pilot)[1].rstrip().endswith("FAILED")
    wednesday.touch()  # changed since: not verified any more
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await open_backups(pilot)
        assert rows(pilot)[0].rstrip().endswith("no")


async def test_c_shows_what_changed_and_h_the_history(
    make_app: Callable[..., MftuiApp], settings: Settings
) -> None:
    _, _, wednesday = three_backups(settings)
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await open_backups(pilot)
        await pilot.press("c")
        await settle(pilot, rounds=5)
        assert isinstance(app.screen, DiffScreen) and app.screen.a == wednesday and app.screen.b is None
        await pilot.press("escape")
        await settle(pilot)
        await pilot.press("h")
        await settle(pilot)
        assert isinstance(app.screen, HistoryScreen)


async def test_names_are_shown_as_text_never_markup(
    make_app: Callable[..., MftuiApp], settings: Settings
) -> None:
    """A file name is anything the folder holds: markup and escapes are shown, not obeyed."""
    source = create_backup(settings, "plain", now=FROZEN).path
    evil = settings.backups_dir / "[b]bold[red]\x1b[2J\u202eevil.zip"
    shutil.copy(source, evil)
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await open_backups(pilot)
        screen = shown(pilot)
        assert "\x1b" not in screen and "\u202e" not in screen
        for _ in rows(pilot):
            if "[b]bold[red]" in static_text(pilot, "#backup-details"):
                break
            await pilot.press("down")
            await settle(pilot)
        assert "[b]bold[red]\\x1b[2J" in static_text(pilot, "#backup-details")


@pytest.mark.parametrize("size", [(60, 20), (80, 24)], ids=lambda s: f"{s[0]}x{s[1]}")
async def test_every_key_is_shown_at_small_sizes(
    make_app: Callable[..., MftuiApp], settings: Settings, size: tuple[int, int]
) -> None:
    three_backups(settings)
    app = make_app()
    async with app.run_test(size=size) as pilot:
        await open_backups(pilot)
        screen = shown(pilot)
        for key in ("Enter/d Download", "r Restore", "Del Delete", "p Pin", "c Changed", "v Verify",
                    "h History", "Esc Back"):
            assert key in screen.replace("x/Del", "Del"), (key, screen)
        assert "wednesday" in screen and "monday" in screen


@pytest.mark.parametrize("size", [(60, 20), (80, 24)], ids=lambda s: f"{s[0]}x{s[1]}")
async def test_ascii_mode_draws_nothing_but_ascii(settings: Settings, size: tuple[int, int]) -> None:
    """On a VT100 (MFTUI_ASCII=1): the list, the rule, the delete question and History, in ASCII only."""
    three_backups(settings)
    app = MftuiApp(settings, low_bandwidth=True, now=frozen_now, ascii_only=True)
    async with app.run_test(size=size) as pilot:
        await open_backups(pilot)
        pictures = [shown(pilot)]
        await pilot.press("x")
        await settle(pilot)
        pictures.append(shown(pilot))
        await pilot.press("escape", "h")
        await settle(pilot)
        assert isinstance(app.screen, HistoryScreen)
        pictures.append(shown(pilot))
    for picture in pictures:
        assert picture.isascii(), sorted({ch for ch in picture if not ch.isascii()})


async def test_an_empty_folder_says_so(make_app: Callable[..., MftuiApp], settings: Settings) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await open_backups(pilot)
        assert "No backups in" in static_text(pilot, "#backups-status")
        await pilot.press("x", "d", "r", "p", "v")
        await settle(pilot)
        assert isinstance(app.screen, BackupsScreen)


# --- pictures (snapshot tests; the scenes also make the README screenshots) ------------------------------


def _picture(name: str, snap_compare: Callable[..., bool], monkeypatch: pytest.MonkeyPatch,
             low_bandwidth: bool = True, size: tuple[int, int] = SIZE) -> bool:
    from .scenes import snapshot
    from .scenes_history import SCENES

    return snapshot(SCENES[name], snap_compare, monkeypatch, low_bandwidth=low_bandwidth, size=size)


class TestPictures:
    @pytest.mark.parametrize("name", ["backups", "backups-delete", "history"])
    def test_80x24(self, name: str, snap_compare: Any, monkeypatch: pytest.MonkeyPatch) -> None:
        assert _picture(name, snap_compare, monkeypatch)

    def test_backups_full_mode(self, snap_compare: Any, monkeypatch: pytest.MonkeyPatch) -> None:
        assert _picture("backups", snap_compare, monkeypatch, low_bandwidth=False)

    def test_backups_60x20(self, snap_compare: Any, monkeypatch: pytest.MonkeyPatch) -> None:
        assert _picture("backups", snap_compare, monkeypatch, size=(60, 20))


@pytest.mark.parametrize("keys", ["xy\r", "x\ry", "\x1b[3~y\r"], ids=["x-y-Enter", "x-Enter-y", "Del-y-Enter"])
def test_a_burst_in_a_real_terminal_never_deletes(settings: Settings, config_file: Path, keys: str) -> None:
    """The real mftui on TERM=linux in a pty: the keys arrive in one write, as a paste or a slow link gives them."""
    from .pty_run import Terminal

    backups = three_backups(settings)
    with Terminal(["--config", str(config_file)], env={"MFTUI_LOW_BANDWIDTH": "1"}) as term:
        term.wait_for(r"q Quit")
        term.send("l")
        term.wait_for(r"3 backups, newest first")
        term.send(keys)
        term.wait_for(r"Delete this backup|Delete cancelled|Download Zip")
        term.settle(quiet=1.0)
        assert "Deleted" not in term.text() and "Yes, delete it" not in term.text()  # answered No, not waiting
    assert all(path.exists() for path in backups)
