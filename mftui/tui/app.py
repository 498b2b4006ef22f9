"""The mftui application (minimal: shows the instance)."""

from __future__ import annotations

from textual.app import App, ComposeResult
from textual.widgets import Footer, Header, Static

from ..instance import Instance
from ..settings import Settings


class MftuiApp(App[None]):
    TITLE = "mftui"

    def __init__(self, settings: Settings) -> None:
        super().__init__()
        self.settings = settings

    def compose(self) -> ComposeResult:
        inst = Instance(self.settings)
        ident = inst.identity()
        count, size = inst.size()
        yield Header()
        yield Static(
            f"Administration\n\nProduct: {ident.product} {ident.version}\nHub id: {ident.hub_id}\n"
            f"Hostname: {ident.hostname}\nConfiguration: {count} files, {size} bytes"
        )
        yield Footer()


def run_tui(settings: Settings, mouse: bool = True) -> int:
    MftuiApp(settings).run(mouse=mouse)
    return 0
