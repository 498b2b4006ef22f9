"""Download Zip: how to get a backup off the box.

Its path; a ready ``scp`` line when this is an SSH session; and a copy to a
folder the technician types (a USB stick), read back and checked.
"""

from __future__ import annotations

from pathlib import Path

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, HorizontalScroll, Vertical
from textual.widget import Widget
from textual.widgets import Button, Input, Static
from textual.worker import Worker, WorkerState

from ...errors import MftuiError
from ...text import show_path
from ...transfer.copy import CopyResult, copy_verified, scp_line
from ...wording import human_size
from ..failures import ReportsFailures
from ..screens.base import LeanModalScreen
from ..widgets.hinted import HintedButton, HintedInput
from ..widgets.keybar import KeyBar
from ..wrap import Wrapped


class DownloadZip(ReportsFailures, LeanModalScreen[None]):
    """Path, scp line, copy to a folder. Esc closes."""

    BINDINGS = [Binding("escape", "close", "Close", show=False)]
    key_hints = (("Esc", "Close"),)

    def __init__(self, archive: Path, archive_bytes: int, sha256: str | None = None, *, blink: bool = True) -> None:
        super().__init__()
        self.archive = archive
        self.archive_bytes = archive_bytes
        self.sha256 = sha256
        self._blink = blink
        self.last_copy: CopyResult | None = None

    def compose(self) -> ComposeResult:
        scp = scp_line(self.archive)
        with Vertical(classes="dialog") as box:
            box.border_title = "Download Zip"
            yield Static(f"The backup ({human_size(self.archive_bytes)}) is at:", markup=False)
            yield Static(Wrapped.path(self.archive), id="archive-path", classes="path", markup=False)
            if scp:
                yield Static("On your computer, run (one line; Tab here and arrows scroll it):", markup=False)
                with HorizontalScroll(id="scp-scroll"):  # a command to copy is never broken over two lines
                    yield Static(show_path(scp), id="scp", markup=False)
            else:
                yield Static("Not an SSH session: no scp line (copy it to a USB stick below).", markup=False)
            yield Static("Copy to a folder (e.g. a USB stick), then Enter:", markup=False)
            with Horizontal(id="copy-row"):
                yield HintedInput(
                    placeholder="/media/usb", id="folder", compact=True, key_hints=(("Enter", "Copy"), ("Tab", "Next"))
                )
                yield HintedButton("Copy", id="copy", compact=True, key_hints=(("Enter", "Copy"),))
            yield Static("", id="copy-status", markup=False)
            with Horizontal(classes="buttons"):
                yield HintedButton("Close (Esc)", id="close", compact=True, key_hints=(("Enter", "Close"),))
        yield KeyBar()

    def on_mount(self) -> None:
        folder = self.query_one("#folder", Input)
        folder.cursor_blink = self._blink
        folder.focus()

    def text_target(self, focused: Widget | None) -> Input:
        """Letters typed with the focus on a button belong to the folder (see typeahead.py)."""
        return self.query_one("#folder", Input)

    @on(Button.Pressed, "#close")
    def action_close(self) -> None:
        self.dismiss(None)

    @on(Button.Pressed, "#copy")
    @on(Input.Submitted, "#folder")
    def action_copy(self) -> None:
        typed = self.query_one("#folder", Input).value.strip()
        status = self.query_one("#copy-status", Static)
        if not typed:
            status.update("Type the folder to copy to first, e.g. /media/usb.")
            status.set_class(True, "-error")
            return
        folder = Path(typed).expanduser().absolute()  # the report names the real place, not "usb/..."
        status.update(f"Copying to {show_path(folder)} ...")
        status.set_class(False, "-error")
        self.query_one("#copy", Button).disabled = True
        self._copy(folder)

    @work(thread=True, exclusive=True, exit_on_error=False, name="copy", group="download")
    def _copy(self, folder: Path) -> CopyResult:
        return copy_verified(self.archive, folder, self.sha256)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.worker.group != "download":
            return
        status = self.query_one("#copy-status", Static)
        if event.state is WorkerState.SUCCESS:
            result = event.worker.result
            assert isinstance(result, CopyResult)
            self.last_copy = result
            already = " (an identical copy was already there)" if result.already_there else ""
            status.update(Wrapped.path(f"Copied and verified (size and SHA-256 match): {result.path}{already}"))
            status.set_class(False, "-error")
        elif event.state is WorkerState.ERROR:
            error = event.worker.error
            if isinstance(error, MftuiError):
                # Shown here rather than in a dialog: the technician fixes the path and tries again.
                event.prevent_default()
                status.update(Wrapped.path(f"Not copied: {error}"))
            else:
                status.update("Not copied: an unexpected error (see the message).")
            status.set_class(True, "-error")
        else:
            return
        self.query_one("#copy", Button).disabled = False
