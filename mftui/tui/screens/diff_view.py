"""What changed: the files added, changed and removed from backup A to backup B (or the live configuration).

A list by component; Enter on a file shows its unified diff, scrolled with
the arrows, PageUp/PageDown, Home/End; Esc goes back. Opened with ``path``,
it shows that file's diff straight away (from the restore pane) and Esc
returns to where it came from. The diff lines come from archives and live
files: shown escaped (FileDiff.shown), as plain Text, never as markup; the
``+``/``-`` at the start of each line carries the meaning, colour only helps.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import ScrollableContainer
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option
from textual.worker import Worker, WorkerState

from ...errors import MftuiError
from ...settings import Settings
from ...text import show, show_path
from ..context import mftui_app
from ..dialogs.passphrase import AskPassphrase
from ..widgets.keybar import KeyBar
from .base import LeanScreen

MARK = {"added": "+", "changed": "~", "removed": "-"}


class ChangeList(OptionList):
    """The changed files, under their components (headings are not selectable)."""

    key_hints = (("Enter", "Show diff"),)


class DiffText(ScrollableContainer):
    """One file's diff, scrolled by keys: the lines never wrap (a wrapped line would lose its +/-)."""

    key_hints = (("PgUp/PgDn/Home/End", "Scroll"),)


class DiffScreen(LeanScreen[None]):
    """What changed from ``a`` to ``b`` (None: the live configuration)."""

    DEFAULT_CSS = """
    DiffScreen #diff-summary { height: auto; padding: 0 1; }
    DiffScreen #diff-list { height: 1fr; border: none; margin-left: 1; }
    DiffScreen #diff-view { height: 1fr; display: none; scrollbar-size-vertical: 1; scrollbar-size-horizontal: 1; }
    DiffScreen #diff-view.-shown { display: block; }
    DiffScreen #diff-text { width: auto; padding: 0 1; }
    DiffScreen #diff-status { height: auto; padding: 0 1; }
    """
    BINDINGS = [Binding("escape", "back", "Back")]

    def __init__(self, settings: Settings, a: Path, b: Path | None, *, path: str | None = None,
                 passphrase: bytes | None = None, restore: bool = False) -> None:
        super().__init__()
        self.restore = restore  # the restore pane's way round: from the live configuration to backup ``a``
        self.settings = settings
        self.a, self.b = Path(a), Path(b) if b is not None else None
        self.path = path  # open straight on this file's diff
        self.passphrase = passphrase
        self.diff: Any = None  # the history.diff.Diff, open while the screen is
        self.showing: str | None = None  # the path whose diff is shown

    def compose(self) -> ComposeResult:
        yield Static(mftui_app(self).title_line("What changed"), classes="title", markup=False)
        target = "the live configuration" if self.b is None else show_path(self.b.name)
        what = f"What restoring {show_path(self.a.name)} does" if self.restore else \
            f"From {show_path(self.a.name)} to {target}"
        yield Static(f"{what}: reading ...", id="diff-summary", markup=False)
        yield ChangeList(id="diff-list", compact=True, markup=False)
        with DiffText(id="diff-view"):
            yield Static("", id="diff-text", markup=False)
        yield Static("", id="diff-status", markup=False)
        yield KeyBar()

    def on_mount(self) -> None:
        self.query_one("#diff-status").display = False
        self.query_one(ChangeList).focus()
        self._load(self.passphrase)

    def on_unmount(self) -> None:
        if self.diff is not None:
            self.diff.close()  # an opened payload is removed, the archives closed
            self.diff = None

    # --- reading ------------------------------------------------------------------

    @work(thread=True, exclusive=True, exit_on_error=False, name="load", group="diff")
    def _load(self, passphrase: bytes | None) -> Any:
        from ...history.diff import diff_backups

        identities = _identities(self.settings)
        diff = diff_backups(self.settings, self.a, self.b, passphrase=passphrase, identities=identities)
        return diff.reversed() if self.restore else diff

    @work(thread=True, exclusive=True, exit_on_error=False, name="detail", group="diff")
    def _read(self, path: str) -> Any:
        change = self.diff.find(path)
        return None if change is None else self.diff.detail(change)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.worker.group != "diff" or event.state not in (WorkerState.SUCCESS, WorkerState.ERROR):
            return
        if event.state is WorkerState.ERROR and event.worker.name == "detail":
            error = event.worker.error  # one file (a damaged entry): said; the list stays
            self._status(Text(f"Not shown: {show(str(error), limit=None)}"))
        elif event.state is WorkerState.ERROR:
            self._failed(event.worker.error)
        elif event.worker.name == "load":
            self._loaded(event.worker.result)
        else:
            self._show_detail(event.worker.result)

    def _failed(self, error: BaseException | None) -> None:
        from ...protection import KeyNeeded, WrongKey

        wrong = isinstance(error, WrongKey)
        if (isinstance(error, KeyNeeded) and error.encryption == "passphrase") or wrong:
            name = show_path(self.a.name)
            self.app.push_screen(AskPassphrase(name, problem=str(error) if wrong else "",
                                               blink=not mftui_app(self).low_bandwidth), self._answered)
            return
        said = str(error) if isinstance(error, (MftuiError, OSError)) else f"unexpected error ({error!r})"
        self._status(Text(f"Not shown: {show(said, limit=None)}"))
        self.query_one("#diff-summary", Static).update(Text("Nothing to show (Esc: back)."))

    def _answered(self, passphrase: bytes | None) -> None:
        if passphrase is None:
            self.query_one("#diff-summary", Static).update(Text("No passphrase given: nothing to show (Esc: back)."))
        else:
            self.passphrase = passphrase
            self._load(passphrase)

    def _loaded(self, diff: Any) -> None:
        if not self.is_attached:
            diff.close()
            return
        self.diff = diff
        target = "the live configuration" if diff.live else show_path(diff.name_b)
        counts = ", ".join(f"{diff.count(kind)} {kind}" for kind in MARK)
        what = f"What restoring {show_path(self.a.name)} does" if self.restore else \
            f"From {show_path(diff.name_a)} to {target}"
        self.query_one("#diff-summary", Static).update(Text(f"{what}: {counts}, {diff.unchanged} unchanged"))
        listing = self.query_one(ChangeList)
        listing.clear_options()
        for component, changes in diff.by_component().items():
            listing.add_option(Option(Text(f"{show(component)}:", style="bold"), disabled=True))
            for change in changes:
                secret = " (secret)" if change.secret else ""
                listing.add_option(Option(Text(f" {MARK[change.change]} {show(change.path, limit=None)}  "
                                               f"{change.change}{secret}"), id=change.path))
        if not diff.changes:
            listing.add_option(Option(Text("Nothing changed: every file is the same."), disabled=True))
        else:
            listing.highlighted = 1  # the first file, under its component
        if self.path is not None:
            self.open_file(self.path)

    @on(OptionList.OptionSelected, "#diff-list")
    def _chosen(self, event: OptionList.OptionSelected) -> None:
        if event.option.id is not None:
            self.open_file(event.option.id)

    def open_file(self, path: str) -> None:
        """Show one file's diff (read in a worker: a large file takes a moment)."""
        if self.diff is None or self.diff.find(path) is None:
            self._status(Text(f"{show(path)} did not change."))
            return
        self.showing = path
        self._status(Text(f"reading {show(path)} ..."))
        self._read(path)

    def _show_detail(self, detail: Any) -> None:
        if detail is None:
            return
        lines = detail.shown()
        text = Text(no_wrap=True, overflow="ignore")
        text.append(f"{show(detail.change.path, limit=None)}: {detail.summary}\n", style="bold")
        for line in lines:
            style = ("green" if line.startswith("+") and not line.startswith("+++") else
                     "red" if line.startswith("-") and not line.startswith("---") else
                     "bold" if line.startswith("@@") else "")
            text.append(line + "\n", style=style)
        self.query_one("#diff-text", Static).update(text)
        self._status("")
        view = self.query_one(DiffText)
        view.add_class("-shown")
        self.query_one(ChangeList).display = False
        view.scroll_home(animate=False)
        view.focus()
        self.refresh_bindings()

    def _status(self, text: str | Text) -> None:
        status = self.query_one("#diff-status", Static)
        status.update(text)
        status.display = bool(str(text))  # an empty line would take a row from the diff

    # --- keys ---------------------------------------------------------------------

    def action_back(self) -> None:
        """Esc: from a diff to the list (or out, when the screen was opened on that file); from the list, out."""
        if self.showing is None or self.path is not None:
            self.dismiss(None)
            return
        self.showing = None
        self.query_one(DiffText).remove_class("-shown")
        listing = self.query_one(ChangeList)
        listing.display = True
        listing.focus()
        self.refresh_bindings()


def _identities(settings: Settings) -> list[Any]:
    """The age identities ``[protection] identity_file`` names (none: KeyNeeded says how to give one)."""
    path = settings.protection.identity_file
    if path is None:
        return []
    from ...keys import read_identities
    from ...protection import setting_file

    return list(setting_file(read_identities, path, "identity_file"))
