"""Backup/Restore: make a backup on top, restore one below.

Letters type into the name while the backup form is shown and the focus is
anywhere in it (the Backup button too): a technician typing a name with the
focus one Tab away must not start a backup or leave the screen. Where no
text field is near (the backup made, the restore pane), letters are keys:
``d``, ``n``, ``u``, ``r``, ``m`` (the restore's mode: replace or clone).
"""

from __future__ import annotations

from pathlib import Path

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widget import Widget
from textual.widgets import Button, Input, Static

from ..context import mftui_app
from ..dialogs.download_zip import DownloadZip
from ..widgets.backup_panel import BackupPanel
from ..widgets.keybar import KeyBar
from ..widgets.restore_panel import RestorePanel
from .base import LeanScreen


class BackupRestoreScreen(LeanScreen[None]):
    """The vendor's Backup/Restore page, on a keyboard."""

    BINDINGS = [
        Binding("n", "new_backup", "New backup"),
        Binding("d", "download", "Download Zip"),
        Binding("u", "upload", "Upload Zip"),
        Binding("r", "restore", "Restore"),
        Binding("m", "switch_mode", "Mode"),
        Binding("escape", "back", "Admin"),
        Binding("pageup", "scroll_details(-1)", "Scroll", show=False),
        Binding("pagedown", "scroll_details(1)", "Scroll", show=False),
    ]

    def compose(self) -> ComposeResult:
        yield Static(mftui_app(self).title_line("Backup/Restore"), classes="title", markup=False)
        yield BackupPanel(id="backup-panel")
        yield RestorePanel(id="restore-panel")
        yield KeyBar()

    chosen: Path | None = None  # a backup chosen on the Backups screen, checked once this screen is mounted

    def on_mount(self) -> None:
        self.backup_panel.focus_name()
        if self.chosen is not None:
            self._check_chosen(self.chosen)

    def choose(self, path: Path) -> None:
        """Check ``path`` in the restore pane, as Upload Zip would (r on the Backups screen)."""
        if self.is_mounted:
            self._check_chosen(path)
        else:
            self.chosen = path  # the first visit: on_mount checks it

    def _check_chosen(self, path: Path) -> None:
        self.chosen = None
        self.restore_panel.inspect(path)
        self.query_one("#upload").focus()  # the keys of the restore pane (r, m, d), not letters for the name

    @property
    def backup_panel(self) -> BackupPanel:
        return self.query_one(BackupPanel)

    @property
    def restore_panel(self) -> RestorePanel:
        return self.query_one(RestorePanel)

    def text_target(self, focused: Widget | None) -> Input | None:
        """Where a letter goes while the focus is not in a text field (see typeahead.py)."""
        panel = self.backup_panel
        if focused is not None and panel in focused.ancestors and not panel.showing_result:
            return panel.name_field
        return None

    def busy_hints(self) -> tuple[tuple[str, str], ...] | None:
        """The key bar while a backup or a restore runs (see KeyBar)."""
        if self.restore_panel.busy and mftui_app(self).running() == "restore":
            return (("restoring", "it cannot be interrupted"),)
        if self.backup_panel.running:
            return (("backing up", "Ctrl+C stops it and quits"),)
        return None

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Hide keys that mean nothing now; dim Restore until a valid backup is chosen."""
        if not self.is_mounted:
            return True
        backup, restore = self.backup_panel, self.restore_panel
        if action in ("upload", "restore", "new_backup", "switch_mode") and self.text_target(self.focused) is not None:
            return False  # letters go to the name here
        if action == "download":
            return self._to_download() is not None
        if action == "restore":
            return True if restore.restorable else None
        if action == "switch_mode":
            return restore.restorable  # hidden until a backup can be restored
        if action in ("upload", "back"):
            return None if (restore.busy or backup.running) else True
        return True

    def action_new_backup(self) -> None:
        if self.backup_panel.showing_result:
            self.backup_panel.new_backup()
        else:
            self.backup_panel.focus_name()

    def _to_download(self) -> Path | None:
        """The backup d gets off the box: the one chosen in the restore pane (focus there), or the one just made."""
        inspection = self.restore_panel.details.inspection
        chosen = inspection.path if inspection is not None and not inspection.checking else None
        made = self.backup_panel.result.path if self.backup_panel.showing_result and self.backup_panel.result else None
        in_restore = self.focused is not None and self.restore_panel in self.focused.ancestors
        return (chosen or made) if in_restore else (made or chosen)

    @on(Button.Pressed, "#download")
    def action_download(self) -> None:
        """Download Zip: any backup, the one just made or one chosen with Upload Zip."""
        path = self._to_download()
        if path is None:
            return
        try:
            size = path.stat().st_size
        except OSError as exc:
            mftui_app(self).show_error("Download Zip failed", exc)
            return
        self.app.push_screen(DownloadZip(path, size, blink=not mftui_app(self).low_bandwidth))

    def action_upload(self) -> None:
        self.restore_panel.upload()

    def action_restore(self) -> None:
        self.restore_panel.restore()

    def action_switch_mode(self) -> None:
        """m: replace (everything from the backup) or clone (keep this unit's identity)."""
        self.restore_panel.switch_mode()

    def action_scroll_details(self, pages: int) -> None:
        """PageUp/PageDown: the backup's information, warnings included, is read whole on any screen size."""
        scroll = self.query_one("#details-scroll")
        if pages < 0:
            scroll.scroll_page_up()
        else:
            scroll.scroll_page_down()

    def action_back(self) -> None:
        self.dismiss(None)
