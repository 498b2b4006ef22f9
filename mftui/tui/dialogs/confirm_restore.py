"""The restore confirmation: the safe answer is focused, and no stray key can say yes.

"No" comes first and has the focus. Yes is a deliberate act of two keys that
typing a word cannot produce: Tab to the Yes button, then Enter. Every other
key (a letter, Esc, an arrow, a function key) answers No and closes the
dialog, so a technician who thought the cursor was in a text field changes
nothing. When the backup comes from another unit, yes takes typing that
unit's hub id instead (Tab to the field, type it, Enter): restoring another
unit's identity is how two boxes end up fighting over one address. Putting
back the previous configuration asks the same way (``PutBackQuestion``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from textual import events, on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import Button, Input, Static

from ..screens.base import LeanModalScreen
from ..widgets.hinted import HintedButton, HintedInput
from ..widgets.keybar import KeyBar


@dataclass(frozen=True)
class RestoreQuestion:
    """Everything the confirmation of a restore says, worked out by the caller."""

    title: ClassVar[str] = "Restore this backup?"
    yes_label: ClassVar[str] = "Yes, restore"

    archive: str  # the file name
    source: str  # "hub 3fa2c1 (mobius-demo-01), created 2026-..."
    target: str  # the live unit, same words
    changes: str  # "2 added, 1 changed, 0 removed"
    reboot: str  # what the reboot service will do
    warnings: tuple[str, ...] = ()
    type_to_confirm: str = ""  # the hub id to type when the backup is from another unit
    mode: str = ""  # "replace: everything from the backup ..." / "clone: keeps this unit's identity ..."
    trial: str = ""  # "reverts in 10 min unless you keep it", or "" (not a trial)

    def lines(self) -> list[str]:
        lines = [
            f"Restore {self.archive}",
            f"  from {self.source}",
            f"  onto {self.target}?",
        ]
        if self.mode:
            lines.append(f"Mode: {self.mode}.")
        lines.append(f"Changes: {self.changes}.")
        if self.trial:
            lines.append(f"Trial: {self.trial}.")
        lines.append(f"A safety copy of the live configuration is kept; then the instance reboots ({self.reboot}).")
        return lines


@dataclass(frozen=True)
class PutBackQuestion:
    """Everything the confirmation of "Put back previous" says: what the last restore replaced."""

    title: ClassVar[str] = "Put back the previous configuration?"
    yes_label: ClassVar[str] = "Yes, put it back"
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


@dataclass(frozen=True)
class TrialPutBackQuestion:
    """Putting back, now, the configuration a restore on trial replaced (p on the trial banner)."""

    title: ClassVar[str] = "Put back the configuration from before the trial?"
    yes_label: ClassVar[str] = "Yes, put it back"
    type_to_confirm: ClassVar[str] = ""
    warnings: ClassVar[tuple[str, ...]] = ()

    backup: str  # the backup on trial, shown
    started: str  # when it was restored
    target: str
    reboot: str

    def lines(self) -> list[str]:
        return [
            f"The restore of backup '{self.backup}' ({self.started}) is on trial.",
            f"Put back the configuration it replaced onto {self.target}, now?",
            f"Then the instance reboots ({self.reboot}). The trial ends: nothing is put back later.",
        ]


@dataclass(frozen=True)
class QuitQuestion:
    """Quitting while a backup is being written."""

    title: ClassVar[str] = "Quit while a backup is running?"
    yes_label: ClassVar[str] = "Yes, stop it and quit"
    type_to_confirm: ClassVar[str] = ""
    warnings: ClassVar[tuple[str, ...]] = ()

    def lines(self) -> list[str]:
        return ["A backup is being written. Quitting stops it: its partial archive is removed, no backup is made."]


class ConfirmRestore(LeanModalScreen[bool]):
    """Ask before replacing the live configuration. Dismisses with True only on a deliberate yes."""

    # Keys that are part of answering: moving between No and Yes (or the hub id), and Enter on one.
    ANSWER_KEYS = frozenset({"tab", "shift+tab", "enter"})
    READING_KEYS = {"up": -1, "down": 1, "pageup": -10, "pagedown": 10}  # scroll the question on a small screen
    key_hints = (("arrows/PgUp/PgDn", "Read"), ("any other key", "No"))

    def __init__(self, question: RestoreQuestion | PutBackQuestion | TrialPutBackQuestion | QuitQuestion) -> None:
        super().__init__()
        self.question = question
        self.answered = False

    def compose(self) -> ComposeResult:
        q = self.question
        with Vertical(classes="dialog") as box:
            box.border_title = q.title
            with VerticalScroll(id="question-scroll"):
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
                to_yes = ("Tab", "Type the hub id") if q.type_to_confirm else ("Tab", "Go to Yes")
                yield HintedButton("No", id="no", compact=True, key_hints=(("Enter", "No"), to_yes))
                label = "Restore (type the hub id)" if q.type_to_confirm else q.yes_label
                yes_keys = (("Enter", q.yes_label), ("Tab", "Back to No"))
                yes = HintedButton(label, id="yes", compact=True, key_hints=yes_keys)
                yes.can_focus = not q.type_to_confirm  # for another unit, the typed hub id is the only yes
                yield yes
            how = "Tab, type the hub id, Enter" if q.type_to_confirm else "Tab to Yes, then Enter"
            yield Static(f"Yes: {how}. Any other key: No.", id="how", markup=False)  # one line at 60 columns
        yield KeyBar()

    def on_mount(self) -> None:
        self.query_one("#question-scroll").can_focus = False  # Tab goes No -> Yes -> No; arrows scroll it
        self.query_one("#no", Button).focus()

    def on_key(self, event: events.Key) -> None:
        """A key that is not part of answering (it bubbled up unused) answers No."""
        if event.key in self.ANSWER_KEYS:
            return
        if event.key in self.READING_KEYS and not isinstance(self.focused, Input):
            event.stop()
            self.query_one("#question-scroll").scroll_relative(y=self.READING_KEYS[event.key], animate=False)
            return
        active = self.active_bindings.get(event.key)
        if active is not None and active.node is self.focused and self.focused is not None:
            return  # the hub id field's own editing keys (Backspace, arrows...)
        event.stop()
        event.prevent_default()
        self.action_no()

    @on(Button.Pressed, "#no")
    def action_no(self) -> None:
        self._answer(False)

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
        self._answer(True)

    def _answer(self, yes: bool) -> None:
        if not self.answered:  # one answer: keys already queued behind it change nothing
            self.answered = True
            self.dismiss(yes)
