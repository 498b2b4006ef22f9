"""After a committed restore: say so, say the instance reboots, then ask the reboot service."""

from __future__ import annotations

from pathlib import Path

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Static
from textual.worker import Worker, WorkerState

from ...reboot import RebootOutcome, reboot_service
from ...text import show_path
from ...wording import when
from ..context import mftui_app
from ..failures import ReportsFailures
from ..screens.base import LeanModalScreen
from ..widgets.keybar import KeyBar
from ..wrap import Wrapped


class RestoreTriggered(ReportsFailures, LeanModalScreen[RebootOutcome | None]):
    """Shown once the restore is committed; the reboot is requested as soon as it is on screen."""

    BINDINGS = [Binding("escape,o", "close", "OK", show=False)]
    key_hints = (("Enter/Esc", "OK"),)

    def __init__(
        self,
        archive: str,
        safety_copy: Path,
        *,
        put_back: bool = False,
        left_behind: tuple[str, ...] = (),
        previous: Path | None = None,
        scope: str = "",
        trial_deadline: str = "",
    ) -> None:
        super().__init__()
        self.archive = archive
        self.safety_copy = safety_copy
        self.put_back = put_back  # this was "Put back previous", not a backup restored
        self.left_behind = left_behind  # the unit's own files (logs, data) that could not be carried over
        self.previous = previous  # where they stay: the previous configuration
        self.outcome: RebootOutcome | None = None
        self.scope = scope  # "replace" or "clone"
        self.trial_deadline = trial_deadline  # ISO 8601 UTC when the restore is on trial

    def _trial(self) -> str:
        """The mode, and the trial: when it is put back, how to keep it, who watches the clock."""
        lines = [f"Mode: {self.scope}."] if self.scope else []
        if self.trial_deadline:
            demo = mftui_app(self).settings.reboot_backend == "demo"
            watcher = " On the demo nothing watches the clock: run mftui watch." if demo else ""
            lines.append(f"On trial: it is put back at {when(self.trial_deadline)} unless you keep it "
                         f"(k on Administration, or mftui keep).{watcher}")
        return "\n".join(lines)

    def _said(self) -> str:
        if self.put_back:
            return (
                "The previous configuration was put back. The instance will now reboot.\n"
                "The configuration it replaced is kept whole (Put back previous returns to it):\n"
                f"{self.safety_copy}"
            )
        return (
            f"{self.archive} was restored. The instance will now reboot.\n"
            f"The previous configuration was kept as a safety copy:\n{self.safety_copy}\n"
            "To undo the restore: Put back previous (p) on Administration."
        )

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog") as box:
            box.border_title = "Previous configuration put back" if self.put_back else "Restore triggered"
            yield Static(Wrapped.path(self._said()), id="restored", markup=False)
            if not self.put_back and (self.scope or self.trial_deadline):
                yield Static(Wrapped.path(self._trial()), id="trial", markup=False)
            if self.left_behind:
                where = f", {self.previous}" if self.previous else ""
                lines = [f"! Not carried over: these files of the unit stay in the previous configuration{where}:"]
                yield Static(
                    Wrapped.path("\n".join(lines + [f"  {show_path(path)}" for path in self.left_behind])),
                    id="left-behind",
                    classes="-error",
                    markup=False,
                )
            yield Static(
                Wrapped.path(f"Requesting the reboot ({mftui_app(self).reboot_words()}) ..."), id="reboot", markup=False
            )
            with Horizontal(classes="buttons"):
                yield Button("OK (Enter)", id="ok", compact=True)
        yield KeyBar()

    def on_mount(self) -> None:
        self.query_one("#ok", Button).focus()
        # Paint the dialog first: with a real backend the terminal may go away with the box.
        self.call_after_refresh(self._reboot)

    @work(thread=True, exclusive=True, exit_on_error=False, name="reboot", group="reboot")
    def _reboot(self) -> RebootOutcome:
        return reboot_service(mftui_app(self).settings).request_reboot()

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.worker.group != "reboot":
            return
        line = self.query_one("#reboot", Static)
        if event.state is WorkerState.SUCCESS:
            self.outcome = event.worker.result
            assert self.outcome is not None
            text = self.outcome.message
            if not self.outcome.real:
                if "no real reboot" not in text.lower():
                    text += " No real reboot happened."
                text += "\nPress Enter to see the restored instance."
            line.update(Wrapped.path(text))
        elif event.state is WorkerState.ERROR:
            # The error dialog (the app's) says what to do; the restore stays committed.
            line.update("The reboot request failed: reboot the unit by hand. The restore stays committed.")
            line.add_class("-error")

    @on(Button.Pressed, "#ok")
    def action_close(self) -> None:
        self.dismiss(self.outcome)
