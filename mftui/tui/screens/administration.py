"""Administration: who this instance is, and the menu that leads to Backup/Restore."""

from __future__ import annotations

from dataclasses import dataclass

from rich.table import Table
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option
from textual.worker import Worker, WorkerState

from ...instance import Identity, Instance
from ...wording import human_size
from ..context import mftui_app
from ..failures import ReportsFailures
from ..widgets.keybar import KeyBar
from .base import LeanScreen

LABEL_WIDTH = 15


@dataclass(frozen=True)
class ConfigurationSize:
    files: int
    bytes: int
    backups: int  # archives in the backups folder


class AdministrationScreen(ReportsFailures, LeanScreen[None]):
    """The first screen: the instance at a glance, and the menu."""

    BINDINGS = [
        Binding("b", "backup_restore", "Backup/Restore"),
        Binding("r", "refresh", "Refresh"),
    ]

    def compose(self) -> ComposeResult:
        app = mftui_app(self)
        yield Static(app.title_line("Administration"), id="title", classes="title", markup=False)
        yield Static("Instance", classes="heading")
        yield Static(self._instance_text(Instance(app.settings).identity(), None), id="instance")
        yield Static("Menu", classes="heading")
        yield OptionList(
            Option("Backup/Restore   back up the configuration, or restore a backup (b)", id="backup-restore"),
            Option("Refresh          read the instance information again (r)", id="refresh"),
            Option("Quit             leave mftui (q)", id="quit"),
            id="menu",
            compact=True,
        )
        yield KeyBar()

    def on_mount(self) -> None:
        self.query_one("#menu", OptionList).focus()
        self.action_refresh()

    def _instance_text(self, ident: Identity, size: ConfigurationSize | None, failed: bool = False) -> Table:
        app = mftui_app(self)
        settings = app.settings
        if size is None:
            config, backups = ("cannot be read (see the message)", "?") if failed else ("counting ...", "...")
        else:
            config = f"{size.files} files, {human_size(size.bytes)}"
            backups = f"{size.backups} in {settings.backups_dir}"
        rows = [
            ("Product", f"{ident.product} {ident.version}".strip() or "unknown (no instance.json)"),
            ("Hub id", ident.hub_id or "?"),
            ("Hostname", ident.hostname or "?"),
            ("Configuration", config),
            ("Backups", backups),
            ("Reboot", app.reboot_words()),
            ("Settings", str(settings.source) if settings.source else "embedded demo instance"),
        ]
        grid = Table.grid()  # long values (paths) wrap under themselves, not under the labels
        grid.add_column(width=LABEL_WIDTH, no_wrap=True)
        grid.add_column(ratio=1, overflow="fold")
        for label, value in rows:
            grid.add_row(label, value)
        return grid

    def action_refresh(self) -> None:
        """Read the instance again (after a restore, the restored one)."""
        self._read_instance()

    @work(thread=True, exclusive=True, exit_on_error=False, name="instance", group="instance")
    def _read_instance(self) -> tuple[Identity, ConfigurationSize]:
        settings = mftui_app(self).settings
        instance = Instance(settings)
        files, size = instance.size()
        try:
            backups = sum(1 for p in settings.backups_dir.glob("*.zip") if not p.name.startswith("."))
        except OSError:
            backups = 0
        return instance.identity(), ConfigurationSize(files, size, backups)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.worker.group != "instance":
            return
        if event.state is WorkerState.SUCCESS:
            ident, size = event.worker.result
            self.query_one("#instance", Static).update(self._instance_text(ident, size))
            # After a restore from another unit, the unit itself is another one: say so at the top.
            self.query_one("#title", Static).update(mftui_app(self).title_line("Administration"))
        elif event.state is WorkerState.ERROR:  # the reason is in the error dialog
            ident = Instance(mftui_app(self).settings).identity()
            self.query_one("#instance", Static).update(self._instance_text(ident, None, failed=True))

    def action_backup_restore(self) -> None:
        from .backup_restore import BackupRestoreScreen

        self.app.push_screen(BackupRestoreScreen())

    @on(OptionList.OptionSelected, "#menu")
    def _menu(self, event: OptionList.OptionSelected) -> None:
        choice = event.option.id
        if choice == "backup-restore":
            self.action_backup_restore()
        elif choice == "refresh":
            self.action_refresh()
        elif choice == "quit":
            self.app.exit()
