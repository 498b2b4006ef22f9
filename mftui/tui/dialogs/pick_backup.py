"""Upload Zip: the file picker, starting in the backups folder, showing .zip files."""

from __future__ import annotations

from pathlib import Path

from textual.reactive import Reactive
from textual.widget import Widget
from textual.widgets import Input
from textual_fspicker import FileOpen, Filters


def _is_zip(path: Path) -> bool:
    return path.suffix.lower() == ".zip"


class PickBackup(FileOpen):
    """textual-fspicker's FileOpen with our filters; a typed path passes through, so the caller checks it."""

    focused: Reactive[Widget | None] = Reactive(None, repaint=False)  # see screens/base.py

    def __init__(self, location: Path, *, blink: bool = True) -> None:
        start = location if location.is_dir() else Path.home()
        super().__init__(
            start,
            title="Upload Zip: choose a backup (or type its path)",
            open_button="Open",
            filters=Filters(("Backups", _is_zip), ("All files", lambda _path: True)),
        )
        self._blink = blink

    def on_mount(self) -> None:
        for field in self.query(Input):
            field.cursor_blink = self._blink
