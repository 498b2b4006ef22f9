"""The restore confirmation: the safe answer is focused, and Enter alone cannot say yes.

"No" comes first and has the focus, Esc means no, and yes takes a deliberate
key (``y``). When the backup comes from another unit, yes takes typing that
unit's hub id instead: restoring another unit's identity is how two boxes end
up fighting over one address. Putting back the previous configuration asks
the same way (``PutBackQuestion``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Input, Static

from ..screens.base import LeanModalScreen
from ..widgets.hinted import HintedButton, HintedInput
from ..widgets.keybar import KeyBar


@dataclass(frozen=True)
class RestoreQuestion:
    """Everything the confirmation of a restore says, worked out by the caller."""

    title: ClassVar[str] = "Restore this backup?"
    yes_label: ClassVar[str] = "Yes, restore (y)"

    archive: str  # the file name
    source: str  # "hub 3fa2c1 (mobius-demo-01), created 2026-..."
    target: str  # the live unit, same words
    changes: str  # "2 added, 1 changed, 0 removed"
    reboot: str  # what the reboot service will do
    warnings: tuple[str, ...] = ()
    type_to_confirm: str = ""  # the hub id to type when the backup is from another unit

    def lines(self) -> list[str]:
        return [
            f"Restore {self.archive}",
            f"  from {self.source}",
            f"  onto {self.target}?",
            f"Changes: {self.changes}.",
            f"A safety copy of the live configuration is kept; then the instance reboots ({self.reboot}).",
        ]


@dataclass(frozen=True)
class PutBackQuestion:
    """Everything the confirmation of "Put back previous" says: what the last restore replaced."""

    title: ClassVar[str] = "Put back the previous configuration?"
    yes_label: ClassVar[str] = "Yes, put it back (y)"
    type_to_confirm: ClassVar[str] = ""  # it is this unit's own configuration of a moment ago

    contents: str  # "17 files (8.9 KiB)"
    source: str  # "hub 3fa2c1 (mobius-demo-01)"
    replaced: str  # "2026-11-05 10:15:00 UTC by backup 'before'"
    target: str  # the live unit
    reboot: str
    warnings: tuple[str, ...] = ()

    def lines(self) -> list[str]:
        return [
            f"Put back the previous configuration: {self.contents}",
            f"  of {self.source},",
            f"  replaced {self.replaced},",
            f"  onto {self.target}?",
            "The live configuration is kept in turn (put back again to return to it); "
            f"then the instance reboots ({self.reboot}).",
        ]


class ConfirmRestore(LeanModalScreen[bool]):
    """Ask before replacing the live configuration. Dismisses with True only on a deliberate yes."""

    BINDINGS = [
        Binding("escape,n", "no", "No", show=False),
        Binding("y", "yes", "Yes", show=False),
    ]

    def __init__(self, question: RestoreQuestion | PutBackQuestion) -> None:
        super().__init__()
        self.question = question
        # For the key bar: a typed hub id is the only yes when the backup is from another unit.
        yes = () if question.type_to_confirm else (("y", question.yes_label.removesuffix(" (y)")),)
        self.key_hints = (("Esc", "No"), *yes)

    def compose(self) -> ComposeResult:
        q = self.question
        with Vertical(classes="dialog") as box:
            box.border_title = q.title
            yield Static("\n".join(q.lines()), id="question", markup=False)
            if q.warnings:
                yield Static("\n".join(f"! {warning}" for warning in q.warnings), id="warnings", markup=False)
            if q.type_to_confirm:
                with Horizontal(id="type-row"):
                    yield Static(
                        f"To restore, type its hub id {q.type_to_confirm}, then Enter:", id="type-hint", markup=False
                    )
                    yield HintedInput(
                        placeholder="hub id",
                        id="hub-id",
                        compact=True,
                        max_length=32,
                        key_hints=(("Enter", "Restore"), ("Tab", "Back to No")),
                    )
            with Horizontal(classes="buttons"):
                to_type = (("Tab", "Type the hub id"),) if q.type_to_confirm else ()
                yield HintedButton("No (Esc)", id="no", compact=True, key_hints=(("Enter", "No"), *to_type))
                label = "Restore (type the hub id)" if q.type_to_confirm else q.yes_label
                yes = Button(label, id="yes", compact=True)
                yes.can_focus = False  # Tab + Enter must not reach it by habit
                yield yes
        yield KeyBar()

    def on_mount(self) -> None:
        self.query_one("#no", Button).focus()

    @on(Button.Pressed, "#no")
    def action_no(self) -> None:
        self.dismiss(False)

    @on(Button.Pressed, "#yes")
    @on(Input.Submitted, "#hub-id")
    def action_yes(self) -> None:
        expected = self.question.type_to_confirm
        if expected:
            typed = self.query_one("#hub-id", Input).value.strip().lower()
            if typed != expected.lower():
                self.query_one("#type-hint", Static).update(f"Not {expected}: type {expected} exactly, then Enter:")
                self.app.bell()
                return
        self.dismiss(True)
