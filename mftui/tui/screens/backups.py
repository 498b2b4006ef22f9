"""Backups: every backup this unit keeps, newest first, and what can be done with one.

One row a backup (pinned ones marked ``*``): its name, when it was made, its
kind (manual, scheduled, pre-restore: a restore's safety copy, or the
previous configuration the last restore set aside), its size, the unit it
came from and whether this unit verified it completely. Below the list, the
highlighted backup in full. Every name is from a file or an archive: shown
with text.show, as plain text, never markup.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, cast

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.content import Content
from textual.events import Resize
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option
from textual.worker import Worker, WorkerState

from ...settings import Settings
from ...text import show
from ..context import mftui_app
from ..dialogs.confirm_delete import ConfirmDelete, DeleteQuestion
from ..dialogs.download_zip import DownloadZip
from ..failures import ReportsFailures
from ..styles import styles_dir
from ..widgets.keybar import KeyBar
from .backups_rows import BackupRow, Columns, delete_row, details_lines, pin_row, read_rows, verify_row
from .base import LeanScreen


class WrappingKeyBar(KeyBar):
    """The key bar, on as many lines as its keys need: breaks only between two keys."""

    def update(self, content: Any = "", *, layout: bool = True) -> None:
        super().update(_Grouped(content) if isinstance(content, Text) else content, layout=True)


class _Grouped:
    """A key bar's Text, wrapped between its groups (``d Download  r Restore``), styles kept."""

    def __init__(self, text: Text) -> None:
        self.text = text

    def __rich_console__(self, console: Any, options: Any) -> Any:
        plain, width = self.text.plain, max(1, options.max_width)
        starts = [0] + [i + 2 for i in range(len(plain)) if plain.startswith("  ", i) and plain[i + 2:i + 3] != " "]
        lines: list[Text] = []
        line_start = 0
        for here, after in zip(starts, [*starts[1:], len(plain) + 2], strict=True):
            if here > line_start and after - 2 - line_start > width:
                lines.append(self.text[line_start:here - 2])
                line_start = here
        lines.append(self.text[line_start:])
        yield Text("\n", no_wrap=True).join(lines)


class BackupsScreen(ReportsFailures, LeanScreen[None]):
    """Every backup, newest first: download, choose for restore, delete, pin, what changed, verify."""

    CSS_PATH = [styles_dir() / "backups.tcss"]
    BINDINGS = [
        Binding("d", "download", "Download", key_display="Enter/d"),  # Enter on a row downloads it too
        Binding("r", "choose", "Restore"),
        Binding("x", "delete", "Delete"),
        Binding("delete", "delete", "Delete", key_display="Del"),
        Binding("p", "pin", "Pin"),
        Binding("c", "changes", "Changed"),
        Binding("v", "verify", "Verify"),
        Binding("h", "history", "History"),
        Binding("escape", "back", "Back"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[BackupRow] = []
        self.loaded = False  # the list has been read at least once
        self.shown_columns: Columns | None = None

    def compose(self) -> ComposeResult:
        app = mftui_app(self)
        yield Static(app.title_line("Backups"), classes="title", markup=False)
        yield Static("", id="columns", markup=False)
        yield OptionList(id="backups", compact=True)
        yield Static("", id="backup-details", markup=False)
        yield Static("reading the backups folder ...", id="backups-status", markup=False)
        yield WrappingKeyBar()

    def on_mount(self) -> None:
        self.query_one("#backups", OptionList).focus()
        self.reload()

    # --- reading ------------------------------------------------------------------

    def reload(self, keep: str | None = None) -> None:
        """Read the folder again (through the catalog cache); ``keep``: the row to stay on."""
        self._read(keep)

    @work(thread=True, exclusive=True, exit_on_error=False, name="backups", group="backups")
    def _read(self, keep: str | None) -> tuple[list[BackupRow], str | None]:
        return read_rows(mftui_app(self).settings), keep

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.state is WorkerState.ERROR:
            self._status("That failed: see the message.")
        if event.state is not WorkerState.SUCCESS:
            return
        if event.worker.group == "backups":
            rows, keep = cast(tuple[list[BackupRow], str | None], event.worker.result)
            self._show_rows(rows, keep)
        elif event.worker.group in ("verify", "change"):
            said, key = cast(tuple[str, str | None], event.worker.result)
            self._status(said)
            self.reload(keep=key)

    def _columns(self) -> Columns:
        return Columns.for_width(max(20, self.size.width or self.app.size.width))

    def _show_rows(self, rows: list[BackupRow], keep: str | None) -> None:
        menu = self.query_one("#backups", OptionList)
        columns = self._columns()
        if self.loaded and rows == self.rows and columns == self.shown_columns:
            self._show_details()  # the same list (back from a dialog): nothing to send again
            return
        self.rows, self.loaded, self.shown_columns = rows, True, columns
        was = menu.highlighted or 0
        self.query_one("#columns", Static).update(Text(columns.heading(), no_wrap=True, overflow="ellipsis"))
        menu.set_options([Option(Content(columns.line(row)), id=f"row-{i}")
                          for i, row in enumerate(rows)])
        keys = [row.key for row in rows]
        # The same backup stays under the cursor; one deleted meanwhile leaves it on the row that took its place.
        menu.highlighted = keys.index(keep) if keep in keys else (min(was, len(rows) - 1) if rows else None)
        if not rows:
            self._status(f"No backups in {show(str(mftui_app(self).settings.backups_dir), limit=None)}.")
        elif self.query_one("#backups-status", Static).content == "reading the backups folder ...":
            self._status(f"{len(rows)} backup{'s' if len(rows) != 1 else ''}, newest first.")
        self._show_details()
        self.refresh_bindings()

    def on_resize(self, event: Resize) -> None:
        if self.loaded:
            self._show_rows(self.rows, self.current.key if self.current else None)

    @property
    def current(self) -> BackupRow | None:
        index = self.query_one("#backups", OptionList).highlighted if self.is_mounted else None
        return self.rows[index] if index is not None and 0 <= index < len(self.rows) else None

    @on(OptionList.OptionHighlighted, "#backups")
    def _highlighted(self) -> None:
        self._show_details()
        self.refresh_bindings()

    def _show_details(self) -> None:
        row = self.current
        lines = details_lines(row) if row is not None else []
        text = Text("\n".join(lines), no_wrap=True, overflow="ellipsis")  # escaped already (text.show)
        self.query_one("#backup-details", Static).update(text)

    def _status(self, said: str) -> None:
        self.query_one("#backups-status", Static).update(Text(said, no_wrap=True, overflow="ellipsis"))

    # --- keys -------------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Only what the highlighted backup allows: the previous configuration is a folder, not a file."""
        if not self.is_mounted or action in ("back", "history"):
            return True
        row = self.current
        if row is None:
            return False
        if action in ("download", "choose", "delete", "pin", "changes", "verify"):
            return row.path is not None
        return True

    @on(OptionList.OptionSelected, "#backups")
    def action_download(self) -> None:
        """Enter or d: Download Zip of the highlighted backup (its path, the scp line, a copy to a stick)."""
        row = self.current
        if row is None or row.path is None:
            self.app.bell()
            return
        try:
            size = row.path.stat().st_size
        except OSError as exc:
            mftui_app(self).show_error("Download Zip failed", exc)
            return
        self.app.push_screen(DownloadZip(row.path, size, blink=not mftui_app(self).low_bandwidth))

    def action_choose(self) -> None:
        """r: Backup/Restore with this backup chosen and checked, as Upload Zip would."""
        from .backup_restore import BackupRestoreScreen

        row = self.current
        if row is None or row.path is None:
            return
        if not self.app.is_screen_installed("backup-restore"):
            self.app.install_screen(BackupRestoreScreen(), "backup-restore")
        screen = self.app.get_screen("backup-restore")
        cast(BackupRestoreScreen, screen).choose(row.path)
        self.app.push_screen(screen)

    def action_delete(self) -> None:
        """Delete or x: ask (No first), then delete the file."""
        row = self.current
        if row is None or row.path is None:
            return
        if row.pinned:  # retention.delete_backup refuses it: say so now rather than after a question
            self.app.bell()
            self._status(f"{show(row.path.name)} is pinned: p unpins it, then x deletes it.")
            return
        question = DeleteQuestion(archive=show(row.path.name), made=row.summary(), last=row.warning(self.rows))
        self.app.push_screen(ConfirmDelete(question), lambda yes: self._delete_confirmed(row, yes))

    def _delete_confirmed(self, row: BackupRow, yes: bool | None) -> None:
        if not yes:
            self._status("Delete cancelled; nothing was changed.")
            return
        self._status(f"deleting {show(row.key)} ...")
        self._change(delete_row, row, None)  # the row below it comes under the cursor

    def action_pin(self) -> None:
        """p: pin (never pruned) or unpin the highlighted backup."""
        row = self.current
        if row is not None and row.path is not None:
            self._change(pin_row, row, row.key)

    @work(thread=True, exclusive=True, exit_on_error=False, name="change", group="change")
    def _change(self, change: Callable[[Settings, BackupRow], str], row: BackupRow,
                keep: str | None) -> tuple[str, str | None]:
        """A delete or a pin, off the UI thread (each takes a lock and writes the audit log)."""
        return change(mftui_app(self).settings, row), keep

    def action_changes(self) -> None:
        """c: what changed between this backup and the live configuration (the diff screen)."""
        row = self.current
        if row is None or row.path is None:
            return
        from .diff_view import DiffScreen

        self.app.push_screen(DiffScreen(mftui_app(self).settings, row.path, None))

    def action_verify(self) -> None:
        """v: check every checksum of the highlighted backup, as a restore would; the list then says so."""
        row = self.current
        if row is None or row.path is None:
            return
        self._status(f"verifying {show(row.path.name)} ...")
        self._verify(row)

    @work(thread=True, exclusive=True, exit_on_error=False, name="verify", group="verify")
    def _verify(self, row: BackupRow) -> tuple[str, str]:
        app = mftui_app(self)
        return verify_row(app.settings, row, app.now()), row.key

    def action_history(self) -> None:
        """h: who did what on this unit (the audit log), newest first."""
        from .history import HistoryScreen

        self.app.push_screen(HistoryScreen())

    def action_back(self) -> None:
        self.dismiss(None)

    def on_screen_suspend(self) -> None:
        # A dialog on top has its own one-line key bar: this one's second line must not show through above it.
        self.query_one(WrappingKeyBar).display = False

    def on_screen_resume(self) -> None:
        self.query_one(WrappingKeyBar).display = True
        if self.loaded:
            self.reload(keep=self.current.key if self.current else None)  # a restore or a copy may have changed it
