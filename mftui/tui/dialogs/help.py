"""Help (? or F1): the keys of the screen it was opened from, what each action does, where backups are."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import Screen
from textual.widgets import Static

from ..context import mftui_app
from ..screens.base import LeanModalScreen
from ..widgets.keybar import KeyBar, key_label
from ..wrap import Wrapped

ACTIONS = "\n".join(
    [
        (
            "Backup: type a name (the file name is previewed below it), then Enter. The whole configuration goes "
            "into one .zip in the backups folder."
        ),
        (
            "Download Zip (d, after a backup): shows the file's path, an scp line to run on your computer when "
            "this is an SSH session, and copies it to a folder such as a USB stick (F4 picks one), read back and "
            "checked. With no network: F2 sends it over this terminal with ZMODEM, F3 prints it as text lines."
        ),
        (
            "Upload Zip (u): choose a backup (Enter on it), or type its path; F2 receives one over this terminal "
            "with ZMODEM, F3 takes pasted text lines, F4 opens a USB stick. It is checked whole: its "
            "information, whether every checksum is sound, and the files a restore would change (Tab to them; "
            "Enter on one shows its diff)."
        ),
        (
            "Restore (r): asks first. No has the focus; Tab to Yes, then Enter, restores. Any other key answers "
            "No. A backup from another unit asks for its hub id instead. A safety copy of the live configuration "
            "is kept, then the unit reboots."
        ),
        (
            "Mode (m, in the restore pane): replace takes everything from the backup; clone keeps this unit's "
            "identity (network, hostname, licence, keys). A backup from another unit is a clone unless you switch."
        ),
        (
            "Trial: a restore is put back by itself unless kept in time (and its health checks pass). While one "
            "runs, Administration shows it on top: k keeps it, p puts it back now (after the same question)."
        ),
        ("Put back previous (p, on Administration): undoes the last restore the same way, after the same question."),
        (
            "Backups (l, on Administration): every backup, newest first, * when pinned. Enter or d: Download Zip; "
            "r: choose it for restore; x or Del: delete it (the same question: No first); p: pin or unpin (a pinned "
            "backup is never pruned); c: what changed against the live configuration; v: verify every checksum; "
            "h: History, who did what on this unit."
        ),
        (
            "Encrypted backups: Upload Zip asks for the passphrase (Esc gives up); a backup for the office's key "
            "needs [protection] identity_file. Backup asks twice when the unit encrypts with a passphrase."
        ),
        (
            "Everywhere: Tab and Shift+Tab move, Enter acts, Esc goes back or cancels, arrows and PageUp/PageDown"
            " scroll, Ctrl+L repaints the screen, ? or F1 opens this help, q or Ctrl+C quits (never during a "
            "restore)."
        ),
    ]
)


def screen_keys(screen: Screen[object]) -> list[str]:
    """``key  what it does`` for every key that works on ``screen`` now."""
    lines = [f"{key:<10} {what}" for key, what in getattr(screen.focused, "key_hints", ())]
    for active in screen.active_bindings.values():
        binding = active.binding
        if binding.show and binding.description and active.enabled and binding.action != "help":
            lines.append(f"{key_label(binding):<10} {binding.description}")
    return list(dict.fromkeys(lines))


class HelpScreen(LeanModalScreen[None]):
    """What the keys do and where things are. Esc (or Enter, q) closes it."""

    BINDINGS = [Binding("escape,enter,q,question_mark,f1", "close", "Close", show=False)]
    key_hints = (("Esc", "Close"), ("arrows/PgUp/PgDn", "Scroll"))

    def __init__(self, opened_from: Screen[object], where: str) -> None:
        super().__init__()
        self.keys = screen_keys(opened_from)
        self.where = where

    def compose(self) -> ComposeResult:
        app = mftui_app(self)
        backups = app.settings.backups_dir
        text = "\n".join(
            [
                f"Keys here ({self.where}):",
                *[f"  {line}" for line in self.keys or ["(none but the ones below)"]],
                "",
                ACTIONS,
                "",
                f"Backups are in: {backups}",
                "Getting a backup off the box: Download Zip shows an scp line to run on your own computer "
                "(SSH sessions), copies the file to a mounted USB stick, or sends it over this terminal "
                "(ZMODEM, or text lines to capture). The command line does the same: mftui copy, mftui send.",
            ]
        )
        with Vertical(classes="dialog") as box:
            box.border_title = "Help"
            with VerticalScroll(id="help-scroll"):
                yield Static(Wrapped.path(text), id="help-text", markup=False)
        yield KeyBar()

    def on_mount(self) -> None:
        self.query_one("#help-scroll").focus()

    def action_close(self) -> None:
        self.dismiss(None)
