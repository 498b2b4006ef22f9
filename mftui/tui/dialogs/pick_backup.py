"""Upload Zip: the file picker, starting in the backups folder, showing .zip files.

Enter on a file in the list chooses it (textual-fspicker would only copy its
name into the input and wait for a second Enter); Enter on a folder opens it;
a typed path still goes through the input. Either way the caller checks what
comes back: the filter only hides files from the list.

F2 receives a backup over this terminal with ZMODEM (when rz is installed),
F3 takes it pasted as text, F4 jumps to the next USB stick mounted: a
received file comes back exactly as a chosen one (it is in incoming/,
already checked once; the caller checks it again, as any file).

The list shows each name whole: a backup's name is what tells the
technician which one it is, and at 80 columns textual-fspicker's size and
date columns cut it short with "…". Size and date follow only where the
line has room for them (a backup's name holds its date anyway).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from datetime import datetime
from pathlib import Path
from typing import Any

from rich.cells import cell_len, chop_cells
from rich.console import Console, ConsoleOptions, RenderResult
from rich.measure import Measurement
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.reactive import Reactive
from textual.widget import Widget
from textual.widgets import Button, Input, Select, Static
from textual_fspicker import FileOpen, Filters
from textual_fspicker.parts import CurrentDirectory, DirectoryNavigation

from ...errors import MftuiError
from ...text import show_path
from ...transfer import media, zmodem
from ...transfer.incoming import Received
from ...wording import human_size
from ..context import mftui_app
from ..widgets.keybar import KeyBar
from .transfer_console import Cancelled, hand_over, receive_paste, receive_zmodem

INDENT = 4  # " / " before a folder's name, blanks before a file's
SIZE_WIDTH = 9  # "999.9 KiB"
DATE_WIDTH = 16  # "2026-11-05 10:15"
GAP = 2


def _is_zip(path: Path) -> bool:
    return path.suffix.lower() == ".zip"


class EntryLine:
    """One line of the list: the whole name first, then size and date if the line has room."""

    def __init__(self, location: Path) -> None:
        self.name = show_path(location.name or location)  # a file name may hold anything but "/"
        try:
            info = location.stat()
            folder = location.is_dir()
        except OSError:
            info, folder = None, False
        self.folder = folder
        self.size = "" if folder or info is None else human_size(info.st_size)
        parent = self.name == ".."  # its time is another folder's
        self.date = "" if info is None or parent else datetime.fromtimestamp(info.st_mtime).strftime("%Y-%m-%d %H:%M")

    def _details(self, room: int) -> str:
        """Size and date, size alone, or nothing: what fits in ``room`` cells after the name."""
        both = f"{self.size:>{SIZE_WIDTH}}{' ' * GAP}{self.date:>{DATE_WIDTH}}" if self.date else ""
        for details in (both, f"{self.size:>{SIZE_WIDTH}}" if self.size else ""):
            if details and cell_len(self.name) + GAP + len(details) <= room:
                return details
        return ""

    def lines(self, width: int) -> list[str]:
        room = max(1, width - INDENT - 1)
        prefix = " /  " if self.folder else " " * INDENT
        details = self._details(room)
        if details:
            return [prefix + self.name + " " * (room - cell_len(self.name) - len(details)) + details]
        # Too long for one line even alone: the rest of the name goes under it, never "…".
        parts = chop_cells(self.name, room)
        return [prefix + parts[0]] + [" " * INDENT + part for part in parts[1:]]

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        yield Text("\n".join(self.lines(options.max_width)), no_wrap=True)

    def __rich_measure__(self, console: Console, options: ConsoleOptions) -> Measurement:
        return Measurement(INDENT + 1, options.max_width)


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:
        return 0.0


class BackupList(DirectoryNavigation):
    """textual-fspicker's folder listing: folders, then files newest first (as ``mftui list``), as EntryLines.

    The cursor starts on the newest file; after Backspace it is on the folder just left.
    """

    key_hints = (("Enter", "Choose"), ("Backspace", "Up a folder"), ("Tab", "Type a path"))
    came_from: Path | None = None

    def _sort(self, entries: Iterable[Any]) -> Iterable[Any]:
        entries = list(entries)
        folders = sorted((e for e in entries if e.location.is_dir()), key=lambda e: e.location.name)
        files = sorted((e for e in entries if not e.location.is_dir()), key=lambda e: -_mtime(e.location))
        return folders + files

    def action_navigate_up(self) -> None:
        self.came_from = self.location
        super().action_navigate_up()

    def _repopulate_display(self) -> None:
        with self.app.batch_update():
            super()._repopulate_display()
            for index, option in enumerate(self.options):
                self.replace_option_prompt_at_index(index, EntryLine(option.location))  # type: ignore[attr-defined]
        locations = [option.location for option in self.options]  # type: ignore[attr-defined]
        files = [i for i, path in enumerate(locations) if path.name != ".." and not path.is_dir()]
        came_from = [i for i, path in enumerate(locations) if self.came_from and path.name == self.came_from.name]
        if came_from:
            self.highlighted = came_from[0]
        elif files:
            self.highlighted = files[0]  # the newest backup


class PlainDirectory(CurrentDirectory):
    """textual-fspicker's folder line, shown as plain escaped text (its own treats a folder name as markup)."""

    def __init__(self) -> None:
        super().__init__(markup=False)

    def _watch_current_directory(self) -> None:
        shown = "" if self.current_directory is None else show_path(self.current_directory)
        width = max(1, self.size.width)
        self.update(shown if len(shown) <= width else "..." + shown[-(width - 3) :])  # ASCII: any terminal


class PickBackup(FileOpen):
    """textual-fspicker's FileOpen with our filters, list, one-Enter choice and key bar."""

    key_hints = (("Esc", "Cancel"),)  # for the key bar (FileOpen's own bindings have no descriptions)
    # Shown on the dialog's own line (#transfer-keys): the key bar has no room left at 80 columns.
    BINDINGS = [
        Binding("f2", "receive_zmodem", "Receive (ZMODEM)", show=False),
        Binding("f3", "paste_text", "Paste as text", show=False),
        Binding("f4", "next_medium", "USB stick", show=False),
    ]
    mount_patterns: tuple[str, ...] = media.MOUNT_PATTERNS  # tests point it at their own mounts

    focused: Reactive[Widget | None] = Reactive(None, repaint=False)  # see screens/base.py

    def __init__(self, location: Path, *, blink: bool = True) -> None:
        start = location if location.is_dir() else Path.home()
        super().__init__(
            start,
            title="Upload Zip: Enter chooses, or type a path",
            open_button="Open",
            filters=Filters(("Backups", _is_zip), ("All files", lambda _path: True)),
        )
        self._blink = blink
        self._media_index = -1
        self.can_zmodem = zmodem.missing("rz") is None

    def compose(self) -> ComposeResult:
        """FileOpen's layout, with our list in place of its DirectoryNavigation, and a key bar."""
        yield from _swap_listing(super().compose(), self._location, self.transfer_keys())
        yield KeyBar()

    def transfer_keys(self) -> str:
        over = "F2 receive (ZMODEM)  F3 paste as text" if self.can_zmodem else "F3 paste as text"
        return f" Over this terminal: {over}  F4 USB stick"

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        return self.can_zmodem if action == "receive_zmodem" else True

    def action_receive_zmodem(self) -> None:
        settings = mftui_app(self).settings
        self._received(lambda: hand_over(self.app, lambda: receive_zmodem(settings)))

    def action_paste_text(self) -> None:
        settings = mftui_app(self).settings
        self._received(lambda: hand_over(self.app, lambda: receive_paste(settings)))

    def _received(self, run: Callable[[], Received]) -> None:
        """A received backup is returned as if chosen; a refusal is said, and the picker stays."""
        try:
            received = run()
        except (MftuiError, Cancelled, OSError) as exc:
            mftui_app(self).show_error("Upload Zip: nothing received", exc)
            return
        self.dismiss(received.path)

    def action_next_medium(self) -> None:
        """F4: the list shows the next USB stick mounted."""
        found = media.removable_media(self.mount_patterns)
        line = self.query_one("#transfer-keys", Static)
        if not found:
            line.update(" No USB stick is mounted (under /media, /run/media or /mnt).")
            return
        self._media_index = (self._media_index + 1) % len(found)
        chosen = found[self._media_index]
        self.query_one(BackupList).location = chosen.mount
        line.update(f" USB {self._media_index + 1} of {len(found)}: {chosen.describe()}")

    def on_mount(self) -> None:
        # One line per widget: the dialog has to fit 80x24 with room for the list.
        for widget in self.query(Input):
            widget.cursor_blink = self._blink
            widget.compact = True
            widget.placeholder = "or type a path: /media/usb/site.zip"
            widget.key_hints = (("Enter", "Open"), ("Tab", "Next"))  # type: ignore[attr-defined]
        for select in self.query(Select):
            select.compact = True
        for button in self.query(Button):
            button.compact = True

    def text_target(self, focused: Widget | None) -> Input:
        """A path typed with the focus on the list goes into the path field (see typeahead.py)."""
        return self.query_one(Input)

    @on(DirectoryNavigation.Changed)
    def _remember_folder(self, event: DirectoryNavigation.Changed) -> None:
        """The next Upload Zip starts in the folder browsed last (a USB stick), for as long as the app runs."""
        mftui_app(self).picker_folder = event.control.location

    @on(DirectoryNavigation.Selected)
    def _choose_highlighted(self, event: DirectoryNavigation.Selected) -> None:
        """Enter on a file in the list: that file, at once (the same final check as a typed one)."""
        event.stop()
        event.prevent_default()  # not FileOpen's own handler, which only fills in the input
        self.query_one(Input).value = show_path(event.path.name)  # shown, should the check refuse it
        if self._should_return(event.path):
            self.dismiss(event.path)


def _swap_listing(widgets: Iterable[Any], location: str | os.PathLike[str], keys: str) -> Iterable[Any]:
    # Textual's compose adds each yielded widget to the container being composed,
    # so a widget swapped on its way out lands exactly where the original would.
    for widget in widgets:
        if type(widget) is DirectoryNavigation:
            yield BackupList(Path(location))
        elif type(widget) is CurrentDirectory:
            yield Static(keys, id="transfer-keys", markup=False)
            yield PlainDirectory()
        else:
            yield widget
