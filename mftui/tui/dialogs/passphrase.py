"""The passphrase of an encrypted backup, typed in a masked field.

To open a backup (Upload Zip, then Restore): once; a wrong one is said in
the dialog asked again (``problem``), Esc gives up. To make one (Backup when
``[protection] encrypt = "passphrase"`` names no passphrase_file): twice, and
the two must be the same and not empty. The passphrase never goes to the
screen, a log or the settings: the field shows dots, and the dialog returns
bytes to its caller only.
"""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import Input, Static

from ...keys import KeyProblem, check_passphrase
from ...text import show
from ..screens.base import LeanModalScreen
from ..widgets.hinted import HintedInput
from ..widgets.keybar import KeyBar
from ..wrap import Wrapped


class AskPassphrase(LeanModalScreen[bytes | None]):
    """Dismisses with the passphrase typed (bytes), or None on Esc."""

    BINDINGS = [Binding("escape", "give_up", "Give up", show=False)]
    key_hints = (("Esc", "Give up"),)

    def __init__(self, name: str, *, twice: bool = False, problem: str = "", blink: bool = True) -> None:
        super().__init__()
        self._name = name  # already shown through show()/show_path() by the caller
        self._twice = twice
        self._problem = problem
        self._blink = blink

    def compose(self) -> ComposeResult:
        title = "Passphrase for the new backup" if self._twice else "Passphrase of this backup"
        what = ("Backups are encrypted with a passphrase here: type it twice. Without it, nobody can open "
                "the backup." if self._twice else f"{self._name} is encrypted with a passphrase: type it.")
        hints = (("Enter", "Next" if self._twice else "Open"), ("Esc", "Give up"))
        with Vertical(classes="dialog") as box:
            box.border_title = title
            yield Static(Wrapped.path(what), id="what", markup=False)
            yield HintedInput(password=True, id="passphrase", compact=True, placeholder="passphrase",
                              key_hints=hints)
            if self._twice:
                yield HintedInput(password=True, id="again", compact=True, placeholder="the same again",
                                  key_hints=(("Enter", "Make the backup"), ("Esc", "Give up")))
            yield Static(self._problem, id="problem", markup=False)
            yield Static("Enter: go on. Esc: give up (nothing is changed).", id="how", markup=False)
        yield KeyBar()

    def on_mount(self) -> None:
        for field in self.query(Input):
            field.cursor_blink = self._blink
        self.query_one("#passphrase", Input).focus()
        self.query_one("#problem", Static).display = bool(self._problem)

    def _say(self, problem: str) -> None:
        shown = self.query_one("#problem", Static)
        shown.update(show(problem))
        shown.display = True
        self.app.bell()

    @on(Input.Submitted, "#passphrase")
    def _first(self) -> None:
        first = self.query_one("#passphrase", Input).value.encode()
        try:
            check_passphrase(first)
        except KeyProblem as exc:
            self._say(str(exc))
            return
        if self._twice:
            self.query_one("#again", Input).focus()
            return
        self.dismiss(first)

    @on(Input.Submitted, "#again")
    def _second(self) -> None:
        first = self.query_one("#passphrase", Input).value.encode()
        again = self.query_one("#again", Input).value.encode()
        try:
            check_passphrase(first)
        except KeyProblem as exc:
            self.query_one("#passphrase", Input).focus()
            self._say(str(exc))
            return
        if again != first:
            for field in self.query(Input):
                field.value = ""
            self.query_one("#passphrase", Input).focus()
            self._say("the two passphrases differ; type it again, twice")
            return
        self.dismiss(first)

    def action_give_up(self) -> None:
        self.dismiss(None)
