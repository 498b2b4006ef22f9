"""The backup side of Backup/Restore: name, preview, Backup, progress, result."""

from __future__ import annotations

from typing import cast

from textual import on, work
from textual.app import App, ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, ContentSwitcher, Input, ProgressBar, Static
from textual.worker import Worker, WorkerState

from ...archive.names import backup_file_name, name_problem, safe_name
from ...archive.writer import BackupResult, create_backup
from ...text import show
from ...wording import human_size
from ..context import mftui_app
from ..dialogs.passphrase import AskPassphrase
from ..failures import ReportsFailures
from ..progress_bridge import ThreadProgress
from ..wrap import Wrapped
from .hinted import HintedButton, HintedInput
from .progress import Progress


class BackupPanel(ReportsFailures, Vertical):
    """Make a backup: the form, then the result with Download Zip and Request new backup."""

    result: BackupResult | None = None  # the last backup made here

    def compose(self) -> ComposeResult:
        yield Static("Backup", classes="heading")
        with ContentSwitcher(initial="backup-form", id="backup-switcher"):
            with Vertical(id="backup-form"):
                with Horizontal(classes="row"):
                    yield Static("Name", classes="label")
                    yield HintedInput(
                        placeholder="e.g. site-visit",
                        id="name",
                        compact=True,
                        select_on_focus=False,  # coming back to the name adds to it; it is not replaced
                        key_hints=(("Enter", "Backup"), ("Tab", "Next")),
                    )
                with Horizontal(classes="row", id="preview-row"):
                    yield Static("File", classes="label")
                    yield Static("", id="preview", markup=False)
                with Horizontal(classes="row"):
                    yield HintedButton("Backup", id="backup", compact=True, key_hints=(("Enter", "Backup"),))
                    yield Progress(total=100, show_eta=False, id="backup-progress")
                    yield Static("", id="backup-status", markup=False)
            with Vertical(id="backup-result"):
                yield Static("", id="result-path", markup=False)
                yield Static("", id="result-summary", markup=False)
                with Horizontal(classes="row"):
                    yield Button("Download Zip (d)", id="download", compact=True)
                    yield Button("Request new backup (n)", id="new-backup", compact=True)

    def on_mount(self) -> None:
        self.query_one("#name", Input).cursor_blink = not mftui_app(self).low_bandwidth
        self.query_one("#backup-progress", ProgressBar).display = False
        self.update_preview()

    # --- the form -------------------------------------------------------------

    @property
    def running(self) -> bool:
        return any(w.group == "backup" and not w.is_finished for w in self.workers)

    @property
    def showing_result(self) -> bool:
        return self.query_one(ContentSwitcher).current == "backup-result"

    @on(Input.Changed, "#name")
    def update_preview(self) -> None:
        name = self.query_one("#name", Input).value
        preview = self.query_one("#preview", Static)
        problem = name_problem(name)
        if problem:
            preview.update(problem)
        else:
            file_name = backup_file_name(name, mftui_app(self).now())
            if name.strip() and safe_name(name) == "backup" and name.strip().lower() != "backup":
                file_name += "  (no letter a-z or digit in the name: the file is named 'backup')"
            preview.update(file_name)
        preview.set_class(bool(problem), "-error")

    @property
    def name_field(self) -> Input:
        return self.query_one("#name", Input)

    def focus_name(self) -> None:
        self.name_field.focus()

    @on(Input.Submitted, "#name")
    @on(Button.Pressed, "#backup")
    def start_backup(self) -> None:
        """Enter in the name, the Backup button and the ``b`` key all land here."""
        if self.running or self.showing_result:
            return
        name = self.query_one("#name", Input).value
        if name_problem(name):
            self.app.bell()
            self.focus_name()
            return
        protection = mftui_app(self).settings.protection
        if protection.encrypt == "passphrase" and protection.passphrase_file is None:
            self._ask_passphrase(name)  # typed twice, then the backup starts with it
            return
        self._start(name, None)

    def _ask_passphrase(self, name: str) -> None:
        def answered(passphrase: bytes | None) -> None:
            if passphrase is None:
                self.query_one("#backup-status", Static).update("Backup cancelled; nothing was made.")
                self.focus_name()
            else:
                self._start(name, passphrase)

        self.app.push_screen(AskPassphrase("", twice=True, blink=not mftui_app(self).low_bandwidth), answered)

    def _start(self, name: str, passphrase: bytes | None) -> None:
        self.query_one("#name", Input).disabled = True
        self.query_one("#backup", Button).disabled = True
        bar = self.query_one("#backup-progress", ProgressBar)
        bar.update(progress=0)
        bar.display = True
        self.query_one("#backup-status", Static).update("backing up ...")
        self._backup(name, passphrase)
        self.screen.refresh_bindings()  # Backup and back are off while it runs

    def _show_progress(self, percent: int, what: str) -> None:
        self.query_one("#backup-progress", ProgressBar).update(progress=percent)

    @work(thread=True, exclusive=True, exit_on_error=False, name="backup", group="backup")
    def _backup(self, name: str, passphrase: bytes | None = None) -> BackupResult:
        app = mftui_app(self)
        # ThreadProgress takes App[object]; App is invariant in its result type, and it only calls call_from_thread.
        progress = ThreadProgress(cast("App[object]", app), self._show_progress, stop=app.stopping)
        protect = None
        if passphrase is not None:
            from ...protection import protector_for

            protect = protector_for(app.settings, passphrase=passphrase)
        return create_backup(app.settings, name, progress=progress, now=app.now(), protect=protect)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.worker.group != "backup" or event.state not in (WorkerState.SUCCESS, WorkerState.ERROR):
            return
        self.query_one("#backup-progress", ProgressBar).display = False
        self.query_one("#backup-status", Static).update("")
        self.query_one("#name", Input).disabled = False
        self.query_one("#backup", Button).disabled = False
        if event.state is WorkerState.SUCCESS:
            self.show_result(cast(BackupResult, event.worker.result))
        else:
            self.focus_name()  # the failure itself goes on to the app's error dialog
        self.screen.refresh_bindings()

    # --- the result -----------------------------------------------------------

    def show_result(self, result: BackupResult) -> None:
        self.result = result
        info = result.info
        self.query_one("#result-path", Static).update(Wrapped.path(f"Backup made: {result.path}"))
        self.query_one("#result-summary", Static).update("\n".join([
            f"{len(info.files)} files ({human_size(info.total_bytes)}) of configuration; "
            f"archive {human_size(result.archive_bytes)}", *_afterwards(result)]))
        self.query_one(ContentSwitcher).current = "backup-result"
        self.query_one("#download", Button).focus()
        self.screen.refresh_bindings()

    @on(Button.Pressed, "#new-backup")
    def new_backup(self) -> None:
        """Request new backup: back to the form, name kept for a second try."""
        if self.running:
            return
        self.query_one(ContentSwitcher).current = "backup-form"
        self.update_preview()
        self.focus_name()
        self.screen.refresh_bindings()


def _afterwards(result: BackupResult) -> list[str]:
    """What happened after the backup was made: what [retention] removed, and anything that went wrong."""
    lines = [show(note) for note in result.notes]  # the audit log not written, a removal that failed
    removed = result.pruned.removed if result.pruned is not None else ()
    if removed:
        names = ", ".join(show(item.name) for item in removed[:3])
        more = f" and {len(removed) - 3} more" if len(removed) > 3 else ""
        lines.insert(0, f"[retention] removed {len(removed)} older backup{'s' if len(removed) != 1 else ''}: "
                        f"{names}{more}")
    return lines
