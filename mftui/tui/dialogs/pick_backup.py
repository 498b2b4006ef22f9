"""Upload Zip: the file picker, starting in the backups folder, showing .zip files.

Enter on a file in the list chooses it (textual-fspicker would only copy its
name into the input and wait for a second Enter); Enter on a folder opens it;
a typed path still goes through the input. Either way the caller checks what
comes back: the filter only hides files from the list.
"""

from __future__ import annotations

from pathlib import Path

from rich.text import Text
from textual import on
from textual.reactive import Reactive
from textual.widget import Widget
from textual.widgets import Button, Input, Select
from textual_fspicker import FileOpen, Filters
from textual_fspicker.icons import Icons
from textual_fspicker.parts import DirectoryNavigation
from textual_fspicker.safe_tests import is_dir

_FOLDER = Text("/")
_FILE = Text("")


def _is_zip(path: Path) -> bool:
    return path.suffix.lower() == ".zip"


def _ascii_icon(location: str | Path) -> Text:
    """The picker's emoji icons are blanks or boxes on a Linux console: "/" marks a folder."""
    return _FOLDER if is_dir(Path(location)) else _FILE


class PickBackup(FileOpen):
    """textual-fspicker's FileOpen with our filters; a typed path passes through, so the caller checks it."""

    focused: Reactive[Widget | None] = Reactive(None, repaint=False)  # see screens/base.py

    def __init__(self, location: Path, *, blink: bool = True) -> None:
        Icons.set_picker(_ascii_icon)
        start = location if location.is_dir() else Path.home()
        super().__init__(
            start,
            title="Upload Zip: choose a backup (Enter), or type its path below",
            open_button="Open",
            filters=Filters(("Backups", _is_zip), ("All files", lambda _path: True)),
        )
        self._blink = blink

    def on_mount(self) -> None:
        # One line per widget: the dialog has to fit 80x24 with room for the list.
        for widget in self.query(Input):
            widget.cursor_blink = self._blink
            widget.compact = True
            widget.placeholder = "or type a path, e.g. /media/usb/site.zip"
        for select in self.query(Select):
            select.compact = True
        for button in self.query(Button):
            button.compact = True

    @on(DirectoryNavigation.Selected)
    def _choose_highlighted(self, event: DirectoryNavigation.Selected) -> None:
        """Enter on a file in the list: that file, at once (the same final check as a typed one)."""
        event.stop()
        event.prevent_default()  # not FileOpen's own handler, which only fills in the input
        self.query_one(Input).value = event.path.name  # shown, should the check refuse it
        if self._should_return(event.path):
            self.dismiss(event.path)
