"""The restore side of Backup/Restore: Upload Zip, the metadata pane, the files a restore changes, Restore.

Enter on one of those files opens What changed (DiffScreen) on its diff: the live file against the
backup's, the restore's way round.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any, cast

from textual import on, work
from textual.app import App, ComposeResult
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.geometry import Region
from textual.widgets import Button, OptionList, ProgressBar, Static
from textual.worker import Worker, WorkerState

from ...errors import ArchiveError, RestoreError
from ...instance import Instance
from ...text import show, show_path
from ...wording import change_summary, unit_words, when
from ..context import mftui_app
from ..dialogs.confirm_restore import ConfirmRestore, RestoreQuestion
from ..dialogs.passphrase import AskPassphrase
from ..dialogs.pick_backup import PickBackup
from ..failures import ReportsFailures
from ..progress_bridge import ThreadProgress
from ..wrap import shown
from .backup_details import BackupDetails, Inspection
from .changed_files import ChangedFiles, changed_heading
from .progress import Progress


class RestorePanel(ReportsFailures, Vertical):
    """Choose a backup, see what it is and what it would change, restore it."""

    def compose(self) -> ComposeResult:
        yield Static("Restore", classes="heading")
        with VerticalScroll(id="details-scroll"):
            yield BackupDetails(id="details")
            yield Static(changed_heading(), id="changed-heading", markup=False)
            yield ChangedFiles(id="changed-files", compact=True, markup=False)
        with Horizontal(classes="row"):
            yield Button("Upload Zip (u)", id="upload", compact=True)
            yield Button("Restore (r)", id="restore", compact=True, disabled=True)
            yield Progress(total=100, show_eta=False, id="restore-progress")
            yield Static("", id="restore-status", markup=False)

    def on_mount(self) -> None:
        self.query_one("#restore-progress", ProgressBar).display = False
        self.query_one("#changed-heading").display = self.query_one(ChangedFiles).display = False
        self.query_one("#details-scroll").can_focus = False  # focus goes to the buttons; arrows scroll it below

    @property
    def details(self) -> BackupDetails:
        return self.query_one("#details", BackupDetails)

    @property
    def busy(self) -> bool:
        return any(not w.is_finished and w.group in ("inspect", "restore") for w in self.workers)

    @property
    def restorable(self) -> bool:
        inspection = self.details.inspection
        return inspection is not None and inspection.restorable and not self.busy

    def _set_inspection(self, inspection: Inspection | None) -> None:
        old = self.details.inspection
        if old is not None and old.opened is not None and (inspection is None or inspection.opened is not old.opened):
            old.opened.close()  # its opened payload is removed: the restore ended, or another backup was chosen
        self.details.inspection = inspection
        changes = getattr(inspection.plan, "changes", None) if inspection is not None and inspection.restorable \
            else None
        listing = self.query_one(ChangedFiles)
        listing.show_changes(changes)
        self.query_one("#changed-heading").display = listing.display
        restore = self.query_one("#restore", Button)
        restore.disabled = not (inspection is not None and inspection.restorable)
        # Said in words: a monochrome console shows a disabled button only by a missing bold.
        restore.label = "Restore (not possible)" if restore.disabled and inspection else "Restore (r)"
        if not restore.disabled:
            restore.focus()  # the next step; Enter on it only opens the confirmation
        self.screen.refresh_bindings()

    # --- the changed files: Enter shows one's diff ------------------------------

    @on(OptionList.OptionSelected, "#changed-files")
    def _show_diff(self, event: OptionList.OptionSelected) -> None:
        from ..screens.diff_view import DiffScreen

        inspection = self.details.inspection
        if event.option.id is None or inspection is None or self.busy:
            return
        passphrase = getattr(inspection.opened, "passphrase", None)
        self.app.push_screen(DiffScreen(mftui_app(self).settings, inspection.path, None, path=event.option.id,
                                        passphrase=passphrase, restore=True))

    @on(OptionList.OptionHighlighted, "#changed-files")
    def _follow(self, event: OptionList.OptionHighlighted) -> None:
        """The pane scrolls with the highlighted file (the list is as tall as it is long, inside the pane)."""
        listing = self.query_one(ChangedFiles)
        region = listing.virtual_region
        self.query_one("#details-scroll").scroll_to_region(
            Region(0, region.y + (listing.highlighted or 0), 1, 1), animate=False, immediate=True)

    # --- Upload Zip -----------------------------------------------------------

    @on(Button.Pressed, "#upload")
    def upload(self) -> None:
        if not self.busy:
            self._pick()

    @work(exclusive=True, exit_on_error=False, name="pick", group="pick")
    async def _pick(self) -> None:
        app = mftui_app(self)
        start = getattr(app, "picker_folder", None) or app.settings.backups_dir
        chosen = await app.push_screen_wait(PickBackup(start, blink=not app.low_bandwidth))
        if chosen is not None:
            self.inspect(Path(chosen))

    def inspect(self, path: Path, passphrase: bytes | None = None) -> None:
        """Read and fully check an archive (opened with the passphrase), then show what a restore would change."""
        self._show_progress(0, "")
        self._check(path, passphrase)
        self._set_inspection(Inspection(path, checking=True))  # after the worker exists: keys see it busy

    @work(thread=True, exclusive=True, exit_on_error=False, name="inspect", group="inspect")
    def _check(self, path: Path, passphrase: bytes | None = None) -> Inspection:
        from ...protection import KeyNeeded, WrongKey, describe_backup, open_backup
        from ...restore import plan_restore  # lands separately; the rest of the TUI works without it

        app = mftui_app(self)
        try:
            described = describe_backup(app.settings, path)  # public information: no key needed
        except ArchiveError as exc:
            return Inspection(path, problem=str(exc))
        info, lines = described.info, tuple(described.lines()) if described.protection is not None else ()
        self.app.call_from_thread(self._set_inspection, Inspection(path, info, checking=True, protection=lines))
        encrypted = described.protection is not None and described.protection.encrypted
        try:
            opened = open_backup(app.settings, path, _identities(app.settings) if encrypted else (),
                                 passphrase=passphrase)
        except (KeyNeeded, WrongKey) as exc:
            by_passphrase = described.protection is not None and described.protection.encryption == "passphrase"
            if not by_passphrase:  # recipients: the core's sentence says which key, and where to name it
                return Inspection(path, info, problem=str(exc), protection=lines)
            wrong = isinstance(exc, WrongKey)
            said = str(exc) if wrong else "encrypted with a passphrase: type it in the dialog; nothing was changed"
            return Inspection(path, info, problem=said, protection=lines, key_needed="wrong" if wrong else "passphrase")
        except ArchiveError as exc:
            return Inspection(path, info, problem=str(exc), protection=lines)
        try:
            plan = plan_restore(app.settings, opened.plain, self._progress(), scope=None)  # this backup's default
        except (ArchiveError, RestoreError) as exc:
            opened.close()
            return Inspection(path, info, problem=str(exc), protection=lines)
        except BaseException:
            opened.close()
            raise
        return Inspection(path, plan.info, plan=plan, protection=lines, opened=opened)

    def _ask_passphrase(self, inspection: Inspection, wrong: bool) -> None:
        """The backup is encrypted with a passphrase: ask (again, saying so, when the last one was wrong)."""
        app = mftui_app(self)

        def answered(passphrase: bytes | None) -> None:
            if passphrase is None:
                gave_up = "no passphrase given; nothing was changed (u: choose it again)"
                self._set_inspection(Inspection(inspection.path, inspection.info, protection=inspection.protection,
                                                problem=gave_up))
            else:
                self.inspect(inspection.path, passphrase)

        problem = (inspection.problem or "") if wrong else ""
        self.app.push_screen(AskPassphrase(show_path(inspection.path.name), problem=problem,
                                           blink=not app.low_bandwidth), answered)

    def _progress(self) -> ThreadProgress:
        # ThreadProgress takes App[object]; App is invariant in its result type, and it only calls call_from_thread.
        return ThreadProgress(cast("App[object]", self.app), self._show_progress)

    def _show_progress(self, percent: int, what: str) -> None:
        bar = self.query_one("#restore-progress", ProgressBar)
        bar.update(progress=percent)
        bar.display = True

    # --- Restore --------------------------------------------------------------

    @on(Button.Pressed, "#restore")
    def restore(self) -> None:
        """Ask first; on a deliberate yes, run the restore."""
        inspection = self.details.inspection
        if not self.restorable or inspection is None:
            self.app.bell()
            return
        self.app.push_screen(ConfirmRestore(self._question(inspection)), self._confirmed)

    # --- the mode: replace or clone ------------------------------------------------

    def switch_mode(self) -> None:
        """m: the other mode (replace / clone); the pane shows what that one changes."""
        inspection = self.details.inspection
        if not self.restorable or inspection is None:
            self.app.bell()
            return
        self._rescope(inspection)
        self.screen.refresh_bindings()

    @work(thread=True, exclusive=True, exit_on_error=False, name="mode", group="inspect")
    def _rescope(self, inspection: Inspection) -> Inspection:
        from ...restore import CLONE, REPLACE

        plan = inspection.plan
        other = REPLACE if plan.scope == CLONE else CLONE
        return dataclasses.replace(inspection, plan=plan.in_scope(mftui_app(self).settings, other))

    def trial_seconds(self, plan: Any) -> tuple[float | None, tuple[str, ...]]:
        """The restore's trial (seconds, or None) and the network files that force one (over SSH)."""
        from ...restore import lockout_risk

        trial = mftui_app(self).settings.trial
        seconds = trial.timeout if trial.enabled else None
        network = lockout_risk(plan.changes.network_changes)
        return (seconds if seconds is not None or not network else trial.timeout), network

    def _question(self, inspection: Inspection) -> RestoreQuestion:
        from ...restore.scope import describe_scope

        app = mftui_app(self)
        plan = inspection.plan
        info, changes = plan.info, plan.changes
        live = Instance(app.settings).identity()
        seconds, network = self.trial_seconds(plan)
        warnings = tuple(shown(warning) for warning in changes.warnings)
        if network:
            warnings = (
                f"This restore changes the network configuration ({', '.join(show(p) for p in network[:3])}) and "
                "you are connected over SSH: the unit may not be reachable at this address after the reboot. "
                "So it is a trial: the unit puts the current configuration back by itself unless you keep it.",
            ) + warnings
        return RestoreQuestion(
            mode=describe_scope(plan.scope),
            trial=f"reverts in {minutes(seconds)} unless you keep it" if seconds else "",
            archive=show_path(inspection.path.name),
            source=f"{unit_words(info.instance_id, info.hostname)}, made {when(info.created_at)}",
            target=f"this unit, {unit_words(live.hub_id, live.hostname)}",
            changes=change_summary(changes),
            reboot=app.reboot_short(),
            warnings=warnings,
            type_to_confirm=show(changes.archive_instance_id or info.instance_id or "?") if changes.other_unit else "",
        )

    def _confirmed(self, yes: bool | None) -> None:
        inspection = self.details.inspection
        if not yes or inspection is None:
            self.query_one("#restore-status", Static).update("Restore cancelled; nothing was changed.")
            return
        opened = inspection.opened
        p = mftui_app(self).settings.protection
        if p.encrypt == "passphrase" and p.passphrase_file is None and getattr(opened, "passphrase", None) is None:
            # The safety copy is encrypted like this unit's backups: with a passphrase typed twice.
            self.app.push_screen(AskPassphrase("", twice=True, blink=not mftui_app(self).low_bandwidth),
                                 lambda passphrase: self._start(inspection, passphrase))
            return
        self._start(inspection, getattr(opened, "passphrase", None))

    def _start(self, inspection: Inspection, passphrase: bytes | None) -> None:
        if passphrase is None and mftui_app(self).settings.protection.encrypt == "passphrase" and \
                mftui_app(self).settings.protection.passphrase_file is None:
            self.query_one("#restore-status", Static).update("Restore cancelled; nothing was changed.")
            return
        self.query_one("#restore", Button).disabled = True
        self.query_one("#upload", Button).disabled = True
        self.query_one("#restore-status", Static).update("restoring ...")
        self._show_progress(0, "")
        self._restore(inspection, passphrase)
        self.screen.refresh_bindings()

    @work(thread=True, exclusive=True, exit_on_error=False, name="restore", group="restore")
    def _restore(self, inspection: Inspection, passphrase: bytes | None) -> Any:
        from ...restore import restore_backup

        app = mftui_app(self)
        opened = inspection.opened
        # A protected backup: the plan checked its opened payload; the journal and the trial name the backup.
        shown_as = inspection.path if opened is not None and opened.plain != inspection.path else None
        seconds, _network = self.trial_seconds(inspection.plan)
        # The plan, not the path: exactly the file that was checked and shown is restored, or nothing.
        return restore_backup(app.settings, inspection.plan, self._progress(), scope=inspection.plan.scope,
                              trial=seconds, protect=_safety_protector(app.settings, passphrase), shown_as=shown_as)

    # --- results --------------------------------------------------------------

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        group = event.worker.group
        if group not in ("inspect", "restore") or event.state not in (WorkerState.SUCCESS, WorkerState.ERROR):
            return
        self.query_one("#restore-progress", ProgressBar).display = False
        self.query_one("#upload", Button).disabled = False
        status = self.query_one("#restore-status", Static)
        status.update("")
        if event.worker.name == "mode":
            if event.state is WorkerState.SUCCESS:
                self._set_inspection(cast(Inspection, event.worker.result))
            return
        if group == "inspect":
            if event.state is WorkerState.SUCCESS:
                found = cast(Inspection, event.worker.result)
                self._set_inspection(found)
                if found.key_needed:
                    self._ask_passphrase(found, wrong=found.key_needed == "wrong")
            else:  # the reason goes on to the app's error dialog
                inspection = self.details.inspection
                path = inspection.path if inspection else Path("?")
                self._set_inspection(Inspection(path, problem=f"not checked: {event.worker.error}"))
            return
        if event.state is WorkerState.SUCCESS:
            inspection = self.details.inspection
            self._set_inspection(None)
            status.update("Restored.")
            result: Any = event.worker.result
            name = show_path(inspection.path.name) if inspection else show(result.info.name)
            mftui_app(self).restore_done(result, name)  # the dialog says the mode and the trial too
        else:
            status.update("Restore failed: see the message.")
            self._set_inspection(self.details.inspection)


def _identities(settings: Any) -> list[Any]:
    """The age identities ``[protection] identity_file`` names (none: the pane says how to give one)."""
    path = settings.protection.identity_file
    if path is None:
        return []
    from ...keys import read_identities
    from ...protection import setting_file

    return list(setting_file(read_identities, path, "identity_file"))


def _safety_protector(settings: Any, passphrase: bytes | None) -> Any:
    """The safety archive is protected like this unit's backups; with a passphrase, the one that opened this backup."""
    p = settings.protection
    if p.encrypt == "off" and p.sign_key is None:
        return None
    from ...protection import protector_for

    if p.encrypt == "passphrase" and p.passphrase_file is None and passphrase is not None:
        return protector_for(settings, passphrase=passphrase)
    return protector_for(settings)


def minutes(seconds: float) -> str:
    """``10 min`` for whole minutes, else ``1:30`` (the trial's length in the confirmation)."""
    from ...restore.trial_record import human_duration

    return f"{int(seconds) // 60} min" if seconds >= 60 and int(seconds) % 60 == 0 else human_duration(seconds)
