"""Download Zip: how to get a backup off the box.

Its path; a ready ``scp`` line when this is an SSH session; a copy to a
folder the technician types or picks among the USB sticks mounted (F4), read
back and checked, then sync or unmount; and over this very terminal: sent
with ZMODEM (F2, when sz is installed) or printed as text lines (F3).
"""

from __future__ import annotations

from collections.abc import Callable
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
from ...transfer import media, zmodem
from ...transfer.audit import copy_recorded
from ...transfer.copy import CopyResult, scp_line
from ...wording import human_size
from ..context import mftui_app
from ..failures import ReportsFailures
from ..screens.base import LeanModalScreen
from ..widgets.hinted import HintedButton, HintedInput
from ..widgets.keybar import KeyBar
from ..wrap import Wrapped
from .transfer_console import Cancelled, estimate, hand_over, print_text, send_zmodem


class DownloadZip(ReportsFailures, LeanModalScreen[None]):
    """Path, scp line, copy to a folder. Esc closes."""

    BINDINGS = [
        Binding("escape", "close", "Close", show=False),
        Binding("f2", "send_zmodem", "ZMODEM", key_display="F2"),
        Binding("f3", "print_text", "Text", key_display="F3"),
        Binding("f4", "next_medium", "USB", key_display="F4"),
        Binding("f5", "sync_medium", "Sync", key_display="F5"),
        Binding("f6", "unmount_medium", "Unmount", key_display="F6"),
    ]
    key_hints = (("Esc", "Close"),)
    mount_patterns: tuple[str, ...] = media.MOUNT_PATTERNS  # tests point it at their own mounts

    def __init__(self, archive: Path, archive_bytes: int, sha256: str | None = None, *, blink: bool = True) -> None:
        super().__init__()
        self.archive = archive
        self.archive_bytes = archive_bytes
        self.sha256 = sha256
        self._blink = blink
        self.last_copy: CopyResult | None = None
        self.copied_to: media.Medium | None = None  # the stick the last copy went to: F5 sync, F6 unmount
        self._media_index = -1
        self.can_zmodem = zmodem.missing("sz") is None

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
            over = "F2 send with ZMODEM, F3 print as text" if self.can_zmodem else "F3 print as text"
            takes = estimate(self.archive_bytes)  # said before starting, on a serial line
            yield Static(f"Over this terminal: {over}" + (f"; {takes}." if takes else "."), id="console",
                         markup=False)
            yield Static("Copy to a folder (F4: a USB stick), then Enter:", id="media", markup=False)
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

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "send_zmodem":
            return self.can_zmodem
        if action in ("sync_medium", "unmount_medium"):
            return self.copied_to is not None
        return True

    def action_send_zmodem(self) -> None:
        settings = mftui_app(self).settings
        self._after_console(lambda: hand_over(self.app, lambda: send_zmodem(settings, self.archive)))

    def action_print_text(self) -> None:
        settings = mftui_app(self).settings
        self._after_console(lambda: hand_over(self.app, lambda: print_text(settings, self.archive)))

    def _after_console(self, run: Callable[[], str]) -> None:
        try:
            self._status(run(), error=False)
        except (MftuiError, Cancelled) as exc:
            self._status(f"Not sent: {exc}", error=True)
        except OSError as exc:
            mftui_app(self).show_error("Download Zip failed", exc)

    def _status(self, text: str, *, error: bool) -> None:
        status = self.query_one("#copy-status", Static)
        status.update(Wrapped.path(text))
        status.set_class(error, "-error")

    def action_next_medium(self) -> None:
        """F4: the next USB stick mounted, into the folder field."""
        found = media.removable_media(self.mount_patterns)
        line = self.query_one("#media", Static)
        if not found:
            line.update("No USB stick is mounted (under /media, /run/media or /mnt); type a folder:")
            return
        self._media_index = (self._media_index + 1) % len(found)
        chosen = found[self._media_index]
        self.query_one("#folder", Input).value = str(chosen.mount)
        line.update(f"USB {self._media_index + 1} of {len(found)}: {chosen.describe()}")

    def action_sync_medium(self) -> None:
        self._medium_step(media.sync_medium)

    def action_unmount_medium(self) -> None:
        self._medium_step(media.unmount)
        if not self.query_one("#copy-status", Static).has_class("-error"):
            self.copied_to = None
            self.refresh_bindings()

    def _medium_step(self, step: Callable[[media.Medium], str]) -> None:
        if self.copied_to is None:
            return
        try:
            self._status(step(self.copied_to) + ".", error=False)
        except MftuiError as exc:
            self._status(str(exc), error=True)

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
        return copy_recorded(mftui_app(self).settings, self.archive, folder, self.sha256)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.worker.group != "download":
            return
        status = self.query_one("#copy-status", Static)
        if event.state is WorkerState.SUCCESS:
            result = event.worker.result
            assert isinstance(result, CopyResult)
            self.last_copy = result
            already = " (an identical copy was already there)" if result.already_there else ""
            self.copied_to = media.medium_of(result.path, media.removable_media(self.mount_patterns))
            stick = f" {media.after_copy(self.copied_to)} (F6; F5 syncs)." if self.copied_to else ""
            status.update(Wrapped.path(f"Copied and verified (size and SHA-256 match): {result.path}{already}.{stick}"))
            status.set_class(False, "-error")
            self.refresh_bindings()
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
