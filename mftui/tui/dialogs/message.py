"""A dialog that tells the technician something: an error, or news."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Static

from ..screens.base import LeanModalScreen
from ..widgets.keybar import KeyBar
from ..wrap import Wrapped


class MessageDialog(LeanModalScreen[None]):
    """Title, a few sentences, and OK. Enter, Esc or ``o`` close it."""

    BINDINGS = [
        Binding("escape,o", "close", "OK", show=False),
    ]
    key_hints = (("Enter/Esc", "OK"),)

    def __init__(self, title: str, message: str, *, error: bool = False, id: str | None = None) -> None:
        super().__init__(id=id, classes="-error" if error else None)
        self._title = title
        self._message = message

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog") as box:
            box.border_title = self._title
            yield Static(Wrapped.path(self._message), id="message", markup=False)
            with Horizontal(classes="buttons"):
                yield Button("OK (Enter)", id="ok", compact=True)
        yield KeyBar()

    def on_mount(self) -> None:
        self.query_one("#ok", Button).focus()

    @on(Button.Pressed, "#ok")
    def action_close(self) -> None:
        self.dismiss(None)


class ErrorDialog(MessageDialog):
    """A failure, in the technician's words (never a traceback)."""

    def __init__(self, title: str, message: str) -> None:
        super().__init__(title, message, error=True)
