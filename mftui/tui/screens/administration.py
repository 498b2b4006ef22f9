"""Administration: who this instance is, the menu that leads to Backup/Restore, and Put back previous.

Put back previous lives here rather than in the restore pane: it needs no
archive chosen, it is about the instance as a whole, this is the screen a
technician lands on after a restore (and after the reboot), and at 80x24 the
restore pane's key bar and button row have no room left for a third action.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, cast

from rich.table import Table
from textual import on, work
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.widgets import OptionList, ProgressBar, Static
from textual.widgets.option_list import Option
from textual.worker import Worker, WorkerState

from ...errors import MftuiError
from ...instance import Identity, Instance
from ...text import show, show_path
from ...wording import as_sentence, human_size, unit_words, when
from ..context import mftui_app
from ..dialogs.confirm_restore import ConfirmRestore, PutBackQuestion, TrialPutBackQuestion
from ..dialogs.message import ErrorDialog, MessageDialog
from ..failures import ReportsFailures
from ..progress_bridge import ThreadProgress
from ..widgets.keybar import KeyBar
from ..widgets.progress import Progress
from ..widgets.trial_banner import TrialBanner
from ..wrap import Wrapped
from .base import LeanScreen

LABEL_WIDTH = 15
MENU = {  # id: (label, what it does); "put-back" only while a previous configuration is kept
    "backup-restore": ("Backup/Restore", "back up, or restore a backup (b)"),
    "backups": ("Backups", "every backup kept on this unit (l)"),
    "put-back": ("Put back previous", "undo the last restore (p)"),
    "refresh": ("Refresh", "read the instance again (r)"),
    "quit": ("Quit", "leave mftui (q)"),
}
MENU_LABEL_WIDTH = 19


@dataclass(frozen=True)
class ConfigurationSize:
    files: int
    bytes: int
    backups: int  # archives in the backups folder


def previous_words(previous: Any) -> tuple[str, str, str]:
    """A PreviousConfiguration as (contents, unit, replaced): the words the row and the confirmation share."""
    contents = f"{previous.files} files ({human_size(previous.bytes)})"
    by = show(previous.replaced_by)
    # "replaced by the previous configuration" reads like a riddle in a row called Previous.
    by = "putting back the one before" if by == "the previous configuration" else by
    replaced = f"{when(previous.replaced_at)} by {by}" if previous.replaced_at else f"by {by}"
    return contents, unit_words(previous.instance_id, previous.hostname), replaced


class AdministrationScreen(ReportsFailures, LeanScreen[None]):
    """The first screen: the instance at a glance, and the menu."""

    BINDINGS = [
        Binding("b", "backup_restore", "Backup/Restore"),
        Binding("l", "backups", "Backups"),
        Binding("k", "keep", "Keep trial"),
        Binding("p", "put_back", "Put back previous"),
        Binding("r", "refresh", "Refresh"),
    ]

    previous: Any = None  # the PreviousConfiguration a restore kept, as last read

    def compose(self) -> ComposeResult:
        app = mftui_app(self)
        yield Static(app.title_line("Administration"), id="title", classes="title", markup=False)
        yield TrialBanner(id="trial-banner", dash="-" if app.ascii_only else "\u2014")
        yield Static("Instance", classes="heading")
        yield Static(self._instance_text(Instance(app.settings).identity(), None), id="instance")
        yield Static("Menu", classes="heading")
        yield OptionList(*self._menu_options(), id="menu", compact=True)
        with Horizontal(id="put-back-row", classes="row"):
            yield Progress(total=100, show_eta=False, id="put-back-progress")
            yield Static("", id="put-back-status", markup=False)
        yield KeyBar()

    def on_mount(self) -> None:
        self.query_one("#put-back-progress", ProgressBar).display = False
        self.query_one("#menu", OptionList).focus()
        self.action_refresh()

    def _menu_options(self) -> list[Option]:
        return [
            Option(f"{label:<{MENU_LABEL_WIDTH}}{what}", id=key)
            for key, (label, what) in MENU.items()
            if key != "put-back" or self.previous is not None
        ]

    def _instance_text(self, ident: Identity, size: ConfigurationSize | None, failed: bool = False) -> Table:
        app = mftui_app(self)
        settings = app.settings
        if size is None:
            config, backups = ("cannot be read (see the message)", "?") if failed else ("counting ...", "...")
        else:
            config = f"{size.files} files, {human_size(size.bytes)}"
            backups = f"{size.backups} in {show_path(settings.backups_dir)}"
        rows = [
            ("Product", f"{show(ident.product)} {show(ident.version)}".strip() or "unknown (no instance.json)"),
            ("Hub id", show(ident.hub_id) or "?"),
            ("Hostname", show(ident.hostname) or "?"),
            ("Configuration", config),
            ("Backups", backups),
        ]
        if self.previous is not None:
            contents, unit, replaced = previous_words(self.previous)
            rows.append(("Previous", f"{contents} of {unit}, replaced {replaced}: p puts it back"))
        rows += [
            ("Reboot", app.reboot_words()),
            ("Settings", show_path(settings.source) if settings.source else "embedded demo instance"),
        ]
        grid = Table.grid()  # long values (paths) wrap under themselves, not under the labels
        grid.add_column(width=LABEL_WIDTH, no_wrap=True)
        grid.add_column(ratio=1)
        for label, value in rows:
            grid.add_row(label, Wrapped.path(value))
        return grid

    # --- keys -------------------------------------------------------------------

    @property
    def putting_back(self) -> bool:
        return any(w.group == "restore" and not w.is_finished for w in self.workers)

    def busy_hints(self) -> tuple[tuple[str, str], ...] | None:
        """The key bar while the previous configuration is being put back (see KeyBar)."""
        return (("putting back", "it cannot be interrupted"),) if self.putting_back else None

    @property
    def banner(self) -> TrialBanner:
        return self.query_one(TrialBanner)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Put back previous is offered only while there is one (or a trial); nothing else starts while it runs."""
        if not self.is_mounted:
            return True
        on_trial = self.banner.on_trial and self.banner.seconds_left() > 0
        if action == "keep":
            return None if on_trial and self.busy_with_trial else on_trial
        if action == "put_back" and self.previous is None and not on_trial:
            return False
        busy = self.putting_back or self.busy_with_trial
        if action in ("put_back", "backup_restore", "backups", "refresh") and busy:
            return None
        return True

    @property
    def busy_with_trial(self) -> bool:
        return any(w.group == "trial" and not w.is_finished for w in self.workers)

    def action_refresh(self) -> None:
        """Read the instance again (after a restore, the restored one)."""
        self._read_instance()

    @work(thread=True, exclusive=True, exit_on_error=False, name="instance", group="instance")
    def _read_instance(self) -> tuple[Identity, ConfigurationSize, Any, Any]:
        from ...restore import previous_configuration, trial_status

        settings = mftui_app(self).settings
        instance = Instance(settings)
        files, size = instance.size()
        try:
            backups = sum(1 for p in settings.backups_dir.glob("*.zip") if not p.name.startswith("."))
        except OSError:
            backups = 0
        try:
            previous = previous_configuration(settings)
        except (MftuiError, OSError):
            previous = None  # nothing offered: the CLI's `mftui list` says what is wrong with it
        try:
            trial = trial_status(settings)
        except (MftuiError, OSError):
            trial = None  # no banner: `mftui status` says what is wrong with the record
        return instance.identity(), ConfigurationSize(files, size, backups), previous, trial

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.worker.group == "restore":
            self._put_back_finished(event)
        if event.worker.group == "trial":
            self._trial_finished(event)
        if event.worker.group != "instance":
            return
        if event.state is WorkerState.SUCCESS:
            ident, size, previous, trial = cast(tuple[Any, Any, Any, Any], event.worker.result)
            self._set_previous(previous)
            if trial is not None and (trial.on_trial or trial.state != getattr(self.banner.status, "state", None)):
                self.banner.show_status(trial)  # a trial that ended is said once, not again on each refresh
            self.refresh_bindings()
            self.query_one("#instance", Static).update(self._instance_text(ident, size))
            # After a restore from another unit, the unit itself is another one: say so at the top.
            self.query_one("#title", Static).update(mftui_app(self).title_line("Administration"))
        elif event.state is WorkerState.ERROR:  # the reason is in the error dialog
            ident = Instance(mftui_app(self).settings).identity()
            self.query_one("#instance", Static).update(self._instance_text(ident, None, failed=True))

    def _set_previous(self, previous: Any) -> None:
        had = self.previous is not None
        self.previous = previous
        if had != (previous is not None):  # the menu gains or loses Put back previous
            menu = self.query_one("#menu", OptionList)
            chosen = menu.highlighted_option.id if menu.highlighted_option else None
            menu.set_options(self._menu_options())
            ids = [option.id for option in menu.options]
            menu.highlighted = ids.index(chosen) if chosen in ids else 0
        self.refresh_bindings()

    # --- the menu -----------------------------------------------------------------

    def action_backup_restore(self) -> None:
        from .backup_restore import BackupRestoreScreen

        # One Backup/Restore for the whole run: Esc and back keeps the typed name and the chosen backup.
        if not self.app.is_screen_installed("backup-restore"):
            self.app.install_screen(BackupRestoreScreen(), "backup-restore")
        self.app.push_screen("backup-restore")

    def action_backups(self) -> None:
        """l: every backup kept on this unit (download, choose for restore, delete, pin, what changed)."""
        from .backups import BackupsScreen

        self.app.push_screen(BackupsScreen())

    @on(OptionList.OptionSelected, "#menu")
    def _menu(self, event: OptionList.OptionSelected) -> None:
        choice = event.option.id
        action = {"backup-restore": "backup_restore", "backups": "backups", "put-back": "put_back",
                  "refresh": "refresh"}.get(choice or "")
        if choice == "quit":
            self.app.exit()
        elif action is not None and self.check_action(action, ()):
            getattr(self, f"action_{action}")()

    # --- Put back previous ----------------------------------------------------------

    def action_put_back(self) -> None:
        """Ask (No first), then put the configuration the last restore replaced back."""
        if self.banner.on_trial and self.banner.seconds_left() > 0:
            self._ask_put_back_trial()
            return
        previous = self.previous
        if previous is None or self.putting_back:
            self.app.bell()
            return
        app = mftui_app(self)
        live = Instance(app.settings).identity()
        contents, unit, replaced = previous_words(previous)
        warnings: tuple[str, ...] = ()
        if (previous.instance_id or "?") != (live.hub_id or "?"):
            warnings = (f"The unit's identity changes: {unit_words(live.hub_id, live.hostname)} becomes {unit}.",)
        question = PutBackQuestion(
            contents=contents,
            source=unit,
            replaced=replaced,
            target=f"this unit, {unit_words(live.hub_id, live.hostname)}",
            reboot=app.reboot_short(),
            warnings=warnings,
        )
        self.app.push_screen(ConfirmRestore(question), self._put_back_confirmed)

    def _put_back_confirmed(self, yes: bool | None) -> None:
        status = self.query_one("#put-back-status", Static)
        if not yes:
            status.update("Put back cancelled; nothing was changed.")
            return
        status.update("putting back the previous configuration ...")
        self._show_progress(0, "")
        self._put_back()
        self.refresh_bindings()  # the worker exists now: keys see it busy

    def _show_progress(self, percent: int, what: str) -> None:
        bar = self.query_one("#put-back-progress", ProgressBar)
        bar.update(progress=percent)
        bar.display = True

    @work(thread=True, exclusive=True, exit_on_error=False, name="put-back", group="restore")
    def _put_back(self) -> Any:
        from ...restore import restore_previous

        app = mftui_app(self)
        # ThreadProgress takes App[object]; App is invariant in its result type, and it only calls call_from_thread.
        return restore_previous(app.settings, ThreadProgress(cast("App[object]", app), self._show_progress))

    # --- the trial: keep it, or put it back now ---------------------------------------

    def action_keep(self) -> None:
        """k: keep the restore on trial (its health checks run once and must pass)."""
        if not self.check_action("keep", ()):
            self.app.bell()
            return
        self.banner.say("Keeping the trial: running the health checks ...")
        self._keep()
        self.refresh_bindings()

    @work(thread=True, exclusive=True, exit_on_error=False, name="keep", group="trial")
    def _keep(self) -> tuple[Any, str]:
        from ...restore import keep_trial
        from ...restore.trial_record import TrialError

        try:
            return keep_trial(mftui_app(self).settings), ""
        except TrialError as exc:
            return None, str(exc)

    def _ask_put_back_trial(self) -> None:
        app = mftui_app(self)
        live = Instance(app.settings).identity()
        question = TrialPutBackQuestion(
            backup=show(self.banner.status.backup_name),
            started=when(self.banner.status.started_at),
            target=f"this unit, {unit_words(live.hub_id, live.hostname)}",
            reboot=app.reboot_short(),
        )
        self.app.push_screen(ConfirmRestore(question), self._put_back_trial_confirmed)

    def _put_back_trial_confirmed(self, yes: bool | None) -> None:
        status = self.query_one("#put-back-status", Static)
        if not yes:
            status.update("Put back cancelled; the trial goes on.")
            return
        self.banner.say("Putting back the configuration from before the trial ...")
        self._revert()
        self.refresh_bindings()

    @work(thread=True, exclusive=True, exit_on_error=False, name="put-back", group="trial")
    def _revert(self) -> tuple[Any, str]:
        from ...restore import request_reboot_after_revert, revert_now

        settings = mftui_app(self).settings
        status = revert_now(settings, "put back by hand (TUI)")
        return status, request_reboot_after_revert(settings)

    def _trial_finished(self, event: Worker.StateChanged) -> None:
        if event.state not in (WorkerState.SUCCESS, WorkerState.ERROR):
            return
        self.refresh_bindings()
        if event.state is WorkerState.ERROR:  # the reason is in the error dialog
            self.banner.say("The trial could not be put back: see the message.")
            return
        status, said = cast(tuple[Any, str], event.worker.result)
        if status is None:  # not kept: one sentence, and the banner as it was
            self.banner.show_status(self.banner.status)
            self.app.push_screen(ErrorDialog("Not kept", as_sentence(said)))
            return
        self.banner.show_status(status)
        if event.worker.name == "put-back":
            self.app.push_screen(MessageDialog("Trial put back", as_sentence(f"{status.describe()}. {said}")))
        self.action_refresh()

    def _put_back_finished(self, event: Worker.StateChanged) -> None:
        if event.state not in (WorkerState.SUCCESS, WorkerState.ERROR):
            return
        self.query_one("#put-back-progress", ProgressBar).display = False
        status = self.query_one("#put-back-status", Static)
        self.refresh_bindings()
        if event.state is WorkerState.ERROR:  # the reason is in the error dialog
            status.update("Put back failed: see the message.")
            return
        status.update("Previous configuration put back.")
        result: Any = event.worker.result
        mftui_app(self).restore_done(result, "The previous configuration", put_back=True)
