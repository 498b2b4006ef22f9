"""The files a restore would change, in the restore pane: one a line; Enter on one shows its diff (DiffScreen)."""

from __future__ import annotations

from typing import Any

from rich.table import Table
from rich.text import Text
from textual.widgets import OptionList
from textual.widgets.option_list import Option

from ...text import show
from .backup_details import LABEL_WIDTH

MAX_LISTED = 500  # files listed in the pane; mftui diff lists them all
RESTORE_DOES = (("added", "+", "adds"), ("changed", "~", "changes"), ("removed", "-", "removes"))


class ChangedFiles(OptionList):
    """The files a restore changes, one a line (``+ adds``, ``~ changes``, ``- removes``); Enter: its diff."""

    DEFAULT_CSS = "ChangedFiles { height: auto; border: none; padding: 0; }"
    key_hints = (("Enter", "Show diff"),)

    def show_changes(self, changes: Any) -> None:
        """List ``changes`` (restore.Changes), or hide the list when there is none."""
        self.clear_options()
        listed = [(path, mark, does) for kind, mark, does in RESTORE_DOES for path in getattr(changes, kind, ())]
        for path, mark, does in listed[:MAX_LISTED]:
            self.add_option(Option(f"{'':<{LABEL_WIDTH}}{mark} {show(path, limit=None)}  ({does})", id=path))
        if len(listed) > MAX_LISTED:
            self.add_option(Option(f"{'':<{LABEL_WIDTH}}... and {len(listed) - MAX_LISTED} more: mftui diff FILE",
                                   disabled=True))
        self.display = bool(listed)


def changed_heading() -> Table:
    """``Files  Enter on one: its diff (+ adds, ~ changes, - removes)``, wrapped under itself on a narrow screen."""
    grid = Table.grid()
    grid.add_column(width=LABEL_WIDTH, no_wrap=True, style="bold")
    grid.add_column(ratio=1)
    grid.add_row("Files", Text("Enter on one: its diff (the restore: + adds, ~ changes, - removes)"))
    return grid
