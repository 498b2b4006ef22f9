"""History: who did what on this unit (the audit log), newest first.

One row an entry: when, what, how it ended, the backup, who and from where;
the highlighted entry in full below. Damaged lines are skipped by the core
and said here in one line. Everything in the log is untrusted text: shown
with text.show, as plain text, never markup.
"""

from __future__ import annotations

from typing import Any, cast

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.content import Content
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option
from textual.worker import Worker, WorkerState

from ...text import show
from ...wording import when
from ..context import mftui_app
from ..failures import ReportsFailures
from ..styles import styles_dir
from ..widgets.keybar import KeyBar
from ..wrap import Wrapped
from .base import LeanScreen

SHOWN = 2000  # entries listed: a full rotated log holds some 20,000, and a list of them all takes seconds


def entry_line(entry: Any) -> str:
    """``2026-11-05 10:15  backup         ok       tech       before_...zip``, every part shown safely."""
    stamp = when(entry.time)
    stamp = stamp[:16] if stamp.endswith(" UTC") else stamp
    who = show(entry.user or "?", limit=10)
    archive = show(entry.archive or "-", limit=80)
    return f"{stamp:<16}  {show(entry.action, limit=14):<14} {show(entry.outcome, limit=8):<8} {who:<10} {archive}"


def entry_details(entry: Any) -> list[str]:
    """The highlighted entry in full."""
    lines = [f"{when(entry.time)}: {show(entry.action, limit=40)}, {show(entry.outcome, limit=40)}, by "
             f"{show(entry.user or '?', limit=64)}{' (' + show(entry.where, limit=80) + ')' if entry.where else ''}"]
    if entry.archive:
        sha = f" (SHA-256 {show(entry.sha256, limit=64)})" if entry.sha256 else ""
        lines.append(f"Backup: {show(entry.archive, limit=None)}{sha}")
    if entry.changes:
        counts = ", ".join(f"{show(str(k), limit=20)} {show(str(v), limit=20)}" for k, v in entry.changes.items())
        lines.append(f"Changes: {counts}")
    if entry.detail:
        lines.append(show(entry.detail, limit=400))
    return lines


class HistoryScreen(ReportsFailures, LeanScreen[None]):
    """The audit log, newest first, scrollable."""

    CSS_PATH = [styles_dir() / "backups.tcss"]
    BINDINGS = [Binding("escape", "back", "Back")]
    key_hints = (("arrows/PgUp/PgDn", "Scroll"),)

    def __init__(self) -> None:
        super().__init__()
        self.entries: list[Any] = []

    def compose(self) -> ComposeResult:
        yield Static(mftui_app(self).title_line("History"), classes="title", markup=False)
        yield OptionList(id="history", compact=True)
        yield Static("", id="history-details", markup=False)
        yield Static("reading the audit log ...", id="history-status", markup=False)
        yield KeyBar()

    def on_mount(self) -> None:
        self.query_one("#history", OptionList).focus()
        self._read()

    @work(thread=True, exclusive=True, exit_on_error=False, name="history", group="history")
    def _read(self) -> tuple[list[Any], list[str], str]:
        try:
            from ...history.audit import read_log
        except ImportError:
            return [], [], "The audit log is not available yet in this version of mftui."
        entries, problems = read_log(mftui_app(self).settings)
        return entries, problems, ""

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.worker.group != "history" or event.state is not WorkerState.SUCCESS:
            return
        entries, problems, missing = cast(tuple[list[Any], list[str], str], event.worker.result)
        total = len(entries)
        self.entries = entries[-SHOWN:][::-1]  # newest first (in the order written: a unit's clock may jump)
        history = self.query_one("#history", OptionList)
        history.set_options([Option(Content(entry_line(e)), id=f"entry-{i}")
                             for i, e in enumerate(self.entries)])
        history.highlighted = 0 if self.entries else None
        said = missing or (f"{total} entr{'ies' if total != 1 else 'y'}, newest first"
                           if self.entries else "Nothing recorded yet on this unit")
        if total > SHOWN:
            said = f"The newest {SHOWN:,} of {total:,} entries (mftui log shows them all)"
        if problems:  # one line: how many, then the first reason (`mftui log` lists them all)
            said += f"; {len(problems)} skipped: " + "; ".join(show(p, limit=200) for p in problems)
        else:
            said += "."
        self.query_one("#history-status", Static).update(Text(said, no_wrap=True, overflow="ellipsis"))
        self._show_details()

    @on(OptionList.OptionHighlighted, "#history")
    def _show_details(self) -> None:
        index = self.query_one("#history", OptionList).highlighted
        entry = self.entries[index] if index is not None and 0 <= index < len(self.entries) else None
        text = "\n".join(entry_details(entry)) if entry is not None else ""
        self.query_one("#history-details", Static).update(Wrapped.path(text))

    def action_back(self) -> None:
        self.dismiss(None)
