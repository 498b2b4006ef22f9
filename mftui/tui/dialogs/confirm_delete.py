"""Deleting a backup asks exactly as a restore does: No first, Tab to Yes then Enter, any other key is No.

The dialog is the restore's (``ConfirmRestore``): one set of rules for every
question whose yes cannot be undone, so ``x`` Enter ``y`` typed in one burst
lands its Enter on No, and a stray word answers No at its first letter.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, cast

from .confirm_restore import ConfirmRestore, QuitQuestion


@dataclass(frozen=True)
class DeleteQuestion:
    """What the confirmation of a delete says; every text in it already shown safely (text.show)."""

    title: ClassVar[str] = "Delete this backup?"
    yes_label: ClassVar[str] = "Yes, delete it"
    type_to_confirm: ClassVar[str] = ""
    warnings: ClassVar[tuple[str, ...]] = ()

    archive: str  # the file name
    made: str  # "2026-11-05 10:15:00 UTC, manual, hub 3fa2c1 (mobius-demo-01), 4.2 KiB"
    last: str = ""  # "It is the only backup of its kind." and the like, or ""

    def lines(self) -> list[str]:
        lines = [f"Delete {self.archive}?", f"Made {self.made}.", "It is removed from the backups folder for good."]
        return lines + ([self.last] if self.last else [])


class ConfirmDelete(ConfirmRestore):
    """Ask before deleting a backup. Dismisses with True only on a deliberate yes."""

    def __init__(self, question: DeleteQuestion) -> None:
        # ConfirmRestore reads a question's title, yes_label, type_to_confirm, warnings and lines() only.
        super().__init__(cast(QuitQuestion, question))
