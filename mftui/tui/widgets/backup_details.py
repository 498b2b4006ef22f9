"""The metadata pane: what a chosen backup is, whether it is sound, what a restore would change."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rich.console import RenderableType
from rich.table import Table
from rich.text import Text
from textual.reactive import reactive
from textual.widgets import Static

from ...archive.format import BackupInfo
from ...wording import change_by_component, change_summary, info_rows
from ..wrap import Wrapped

LABEL_WIDTH = 13


@dataclass(frozen=True)
class Inspection:
    """One chosen archive and what checking it found.

    ``plan`` (a restore.RestorePlan) is set only when the archive passed full
    validation; ``problem`` says why not otherwise.
    """

    path: Path
    info: BackupInfo | None = None
    problem: str | None = None
    plan: Any = None
    checking: bool = False
    protection: tuple[str, ...] = ()  # "Encrypted (passphrase)", "Signed by ..." (protection.Described.lines)
    opened: Any = None  # the protection.Opened whose payload the plan reads; closed when the restore ends
    key_needed: str = ""  # "passphrase": the dialog asks for it; "wrong": asks again, saying so

    @property
    def restorable(self) -> bool:
        return self.plan is not None and self.problem is None and not self.checking


class BackupDetails(Static):
    """Shows one Inspection; empty, it says how to choose a backup."""

    COMPONENT_CLASSES = {
        "backup-details--label",
        "backup-details--ok",
        "backup-details--problem",
        "backup-details--warning",
    }

    inspection: reactive[Inspection | None] = reactive(None, always_update=True)

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__("", id=id, markup=False)

    def watch_inspection(self, inspection: Inspection | None) -> None:
        self.set_class(inspection is None, "-empty")
        self.update(self._render_text(inspection))

    def _style(self, name: str) -> Any:
        return self.get_component_rich_style(f"backup-details--{name}", partial=True)

    def _render_text(self, inspection: Inspection | None) -> RenderableType:
        if inspection is None:
            return Text("No backup chosen. Press u (Upload Zip) to pick a .zip, or type its path in the picker.")
        # A two-column grid: long values (paths, component lists) wrap under themselves.
        grid = Table.grid()
        grid.add_column(width=LABEL_WIDTH, style=self._style("label"), no_wrap=True)
        grid.add_column(ratio=1, overflow="fold")
        row = grid.add_row

        row("File", Wrapped.path(inspection.path))
        if inspection.info is not None:
            for name, value in info_rows(inspection.info):  # escaped by the core; Text: never markup
                # A list of counts breaks between its items, never inside "services 5".
                row(name, Wrapped.items(value.split(", ")) if name == "Components" else Text(value))
        for label, line in zip(("Protection", ""), inspection.protection, strict=False):
            row(label, Wrapped.path(line))  # the core's words, principals escaped by show()
        if inspection.checking:
            row("Verified", "checking every file and checksum ...")
            return grid
        if inspection.problem is not None:
            row("Verified", Wrapped.path("NO: " + inspection.problem, self._style("problem")))
            row("", Text("This backup cannot be restored.", self._style("problem")))
            return grid
        row("Verified", Text("yes: structure and every checksum are sound", self._style("ok")))
        scope = getattr(inspection.plan, "scope", "")
        if scope:
            other = "replace" if scope == "clone" else "clone"
            keeps = "keeps this unit's identity" if scope == "clone" else "identity from the backup too"
            row("Mode", Text(f"{scope} ({keeps}); m: {other}"))
        changes = getattr(inspection.plan, "changes", None)
        if changes is not None:
            row("Changes", Text(change_summary(changes)))
            by_component = change_by_component(changes)
            if by_component:
                row("", Wrapped.items(by_component, "; "))
            for warning in changes.warnings:
                row("Warning", Wrapped.path(warning, self._style("warning")))
        return grid
