"""The mftui application: settings, clock, mode, the error hub; screens live in screens/."""

from __future__ import annotations

import asyncio
import signal
import sys
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.table import Table
from rich.text import Text
from textual import events
from textual.binding import Binding
from textual.screen import Screen

from ..errors import MftuiError
from ..instance import Instance
from ..settings import Settings
from ..text import show
from ..wording import as_sentence, unit_words
from .crash import CrashLog
from .dialogs.confirm_restore import ConfirmRestore, QuitQuestion
from .dialogs.message import ErrorDialog, MessageDialog
from .dialogs.restore_triggered import RestoreTriggered
from .failures import WorkerFailed
from .lowband import ascii_default, low_bandwidth_default, screen_diff_wanted
from .progress_bridge import BackupStopped
from .screen_diff import ScreenDiff
from .screens.administration import AdministrationScreen
from .styles import stylesheets
from .typeahead import TypeaheadApp

# What failed, by worker name, for the error dialog's title.
FAILURE_TITLES = {
    "backup": "Backup failed",
    "copy": "Copy failed",
    "inspect": "The backup could not be checked",
    "instance": "The instance could not be read",
    "pick": "Upload Zip failed",
    "put-back": "Put back previous failed",
    "reboot": "The reboot request failed",
    "restore": "Restore failed",
}
BUSY_GROUPS = ("backup", "restore", "reboot")
RESTORE_RUNNING = (
    "A restore is running; it cannot be interrupted. Wait until it has finished (the unit then reboots), "
    "then quit with q or Ctrl+C."
)

if TYPE_CHECKING:
    from ..restore import RestoreResult


class MftuiApp(TypeaheadApp):
    """Administration, then Backup/Restore: keyboard-only, 80x24, serial-ready."""

    TITLE = "mftui"
    CSS_PATH = stylesheets()
    ENABLE_COMMAND_PALETTE = False  # one more key and screen a technician does not need
    BINDINGS = [
        Binding("question_mark", "help", "Help", key_display="?"),
        Binding("f1", "help", "Help", key_display="F1"),
        Binding("q", "quit", "Quit"),
        # Ctrl+C is what a technician presses to leave a console program (Textual's default only says "press ^Q").
        Binding("ctrl+c,ctrl+q", "quit", "Quit", show=False, priority=True),
        Binding("ctrl+l", "redraw", "Redraw", show=False, priority=True),  # a repaint is never an answer to a dialog
    ]

    def __init__(
        self,
        settings: Settings,
        *,
        low_bandwidth: bool = False,
        now: Callable[[], datetime] | None = None,
        ascii_only: bool = False,
    ) -> None:
        diff = ScreenDiff() if low_bandwidth and screen_diff_wanted() else None
        driver_class = None
        if diff is not None:
            from .driver import DiffingDriver

            driver_class = DiffingDriver
        super().__init__(driver_class=driver_class)
        self.screen_diff = diff  # read by DiffingDriver; forgotten on resize and Ctrl+L
        self._diff_size: tuple[int, int] | None = None
        self.settings = settings
        self.low_bandwidth = low_bandwidth
        self.now: Callable[[], datetime] = now or (lambda: datetime.now(UTC))
        self.crash = CrashLog()
        self.error_console = self.crash.console()  # Textual's own last-resort traceback goes to the log
        self._reboot_words: str | None = None
        self.stopping = threading.Event()  # set to stop a running backup (quit, SIGTERM, SIGHUP)
        self.ascii_only = ascii_only
        self.picker_folder: Path | None = None  # the folder Upload Zip browsed last (a USB stick), while the app runs
        if ascii_only:
            self.add_class("-ascii")  # styles/ascii.tcss: +-| borders, focus in reverse video
        if low_bandwidth:
            self.animation_level = "none"
            self.add_class("-low-bandwidth")
            self.theme = "ansi-dark"  # the terminal's own colours: the fewest escape codes

    def get_default_screen(self) -> Screen[Any]:
        return AdministrationScreen()

    # --- shared words ---------------------------------------------------------

    def title_line(self, screen: str) -> Table:
        """``mftui  Screen`` on the left, the unit on the right, whatever the width (the unit first to go)."""
        ident = Instance(self.settings).identity()
        unit = unit_words(ident.hub_id, ident.hostname)  # escaped: they come from instance.json
        grid = Table.grid(expand=True)
        grid.add_column(no_wrap=True)
        grid.add_column(justify="right", no_wrap=True, overflow="ellipsis")
        grid.add_row(Text(f"mftui  {screen}  "), Text(unit))
        return grid

    def reboot_words(self) -> str:
        """What the reboot service will do, in one line (cached: it never changes while running)."""
        if self._reboot_words is None:
            from ..reboot import reboot_service

            try:
                self._reboot_words = reboot_service(self.settings).describe()
            except MftuiError as exc:
                self._reboot_words = f"not available: {exc}"
        return self._reboot_words

    def reboot_short(self) -> str:
        """A few words for the confirmation: the demo backend never reboots, and says so."""
        if self.settings.reboot_backend == "demo":
            return "demo: recorded only, no real reboot"
        return self.reboot_words()

    # --- the one error hub ----------------------------------------------------

    def on_worker_failed(self, message: WorkerFailed) -> None:
        if isinstance(message.error, BackupStopped):
            return  # asked for: the app is quitting
        self.show_error(FAILURE_TITLES.get(message.name, "Something failed"), message.error)

    def show_error(self, title: str, error: BaseException) -> None:
        """A dialog with the technician-facing reason; a traceback only ever goes to the crash log."""
        if not isinstance(error, MftuiError):
            self.crash.log(error)
        message = str(error) if isinstance(error, MftuiError) else self.crash.describe(error)
        self.push_screen(ErrorDialog(title, as_sentence(message)))

    def _handle_exception(self, error: Exception) -> None:
        # Textual's hook for an exception outside any worker: it ends the app.
        # Record it so run_tui can print one short line instead of a traceback.
        self.crash.record(error)
        super()._handle_exception(error)

    # --- app-wide actions -----------------------------------------------------

    @property
    def busy(self) -> bool:
        """A backup, restore or reboot request is running: leaving now would be a surprise."""
        return any(not w.is_finished and w.group in BUSY_GROUPS for w in self.workers)

    def running(self) -> str | None:
        """``restore`` (a restore, put back or the reboot request), ``backup``, or None."""
        groups = {w.group for w in self.workers if not w.is_finished}
        if groups & {"restore", "reboot"}:
            return "restore"
        return "backup" if "backup" in groups else None

    async def action_quit(self) -> None:
        """q, Ctrl+C, Ctrl+Q: quit; during a backup ask first; during a restore say why not."""
        running = self.running()
        if running is None:
            self.exit()
        elif running == "restore":
            self.bell()
            self.push_screen(MessageDialog("mftui cannot quit now", RESTORE_RUNNING))
        elif not isinstance(self.screen, ConfirmRestore):
            self.push_screen(ConfirmRestore(QuitQuestion()), self._quit_confirmed)

    def _quit_confirmed(self, yes: bool | None) -> None:
        if yes:
            self.stop_and_exit()

    def stop_and_exit(self) -> None:
        """Stop a backup (its partial archive is removed), let a restore finish, then quit."""
        self.stopping.set()
        if self.busy:
            self.set_timer(0.05, self.stop_and_exit)
        else:
            self.exit()

    def on_mount(self) -> None:
        if not self.is_headless:
            # SIGHUP (the SSH link dropped) and SIGTERM: leave the terminal usable, and no partial archive.
            loop = asyncio.get_running_loop()
            for signum in (signal.SIGHUP, signal.SIGTERM):
                loop.add_signal_handler(signum, self.stop_and_exit)

    def action_help(self) -> None:
        """? or F1: the keys of this screen and what each action does."""
        from .dialogs.help import HelpScreen

        where = self.screen.__class__.__name__.removesuffix("Screen")
        self.push_screen(HelpScreen(self.screen, {"BackupRestore": "Backup/Restore"}.get(where, where)))

    def action_redraw(self) -> None:
        """Ctrl+L: paint the whole screen again (a serial console may have printed over it)."""
        if self.screen_diff is not None:
            self.screen_diff.invalidate(clear=True)
        self.screen.refresh(repaint=True, layout=True)

    def on_resize(self, event: events.Resize) -> None:
        size = (event.size.width, event.size.height)
        if self.screen_diff is not None and self._diff_size not in (None, size):
            self.screen_diff.invalidate()  # the terminal may have reflowed: send every cell again
        self._diff_size = size

    def restore_done(self, result: RestoreResult, archive_name: str, *, put_back: bool = False) -> None:
        """The restore (or put back) is committed: say so, request the reboot, then show the instance."""
        kept = result.previous if put_back else result.safety_backup
        dialog = RestoreTriggered(
            archive_name,
            kept,
            put_back=put_back,
            left_behind=result.left_behind,
            previous=result.previous,
            scope="" if put_back else result.scope,
            trial_deadline="" if put_back else result.trial_deadline,
        )
        self.push_screen(dialog, self._after_restore)

    def _after_restore(self, _outcome: object) -> None:
        while len(self.screen_stack) > 1 and not isinstance(self.screen, AdministrationScreen):
            self.pop_screen()
        if isinstance(self.screen, AdministrationScreen):
            self.screen.action_refresh()


def run_tui(settings: Settings, mouse: bool = True, low_bandwidth: bool | None = None,
            ascii_only: bool | None = None) -> int:
    """Run the TUI until the technician quits; 1 (and one short line) after an unexpected error.

    ``low_bandwidth`` and ``ascii_only``: None decides from the terminal and the environment.
    """
    low = low_bandwidth_default() if low_bandwidth is None else low_bandwidth
    app = MftuiApp(settings, low_bandwidth=low, ascii_only=ascii_default() if ascii_only is None else ascii_only)
    app.run(mouse=mouse and not low)
    if app.crash.error is not None:
        print(f"mftui: {show(app.crash.describe(app.crash.error), limit=None)}", file=sys.stderr)
        return 1
    return app.return_code or 0
