"""Trial restores: a restore that is put back by itself unless someone keeps it in time.

```
restore --commit--> on-trial --keep (checks pass)--> kept
                        |
                        +--deadline, or a failing check--> reverting --> reverted (one reboot request)
                                                               |
                                                               +--interrupted twice--> revert-failed (left alone)
```

The record (``trial_record.py``) is written before the restore's swap and
names the restored tree by (device, inode): a trial is *live* only while the
instance root is that tree, so a restore rolled back, or replaced by a later
one, is never on trial. Putting back is :func:`previous._undo`, the same
journalled transaction as ``mftui restore --previous``; it never starts
another trial. The watcher (``watch.py``) calls :func:`revert_now`.

For the TUI: :func:`trial_status` (what to show), :func:`keep_trial` (k),
:func:`revert_now` (p: put back now, then ask for the reboot with
:func:`request_reboot_after_revert`).
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import MftuiError, RebootError
from ..history.audit import changes_summary
from ..history.audit import record as history_record
from ..lock import instance_lock
from ..progress import no_progress
from ..settings import Settings
from ..state import checked_state_dir
from ..text import show
from ..trial_settings import Check
from . import fsops
from .journal import COMMITTED, UNDO, read_journal
from .steps import step
from .trial_record import (
    KEPT,
    MAX_REVERT_ATTEMPTS,
    ON_TRIAL,
    REVERT_FAILED,
    REVERTED,
    REVERTING,
    TrialError,
    TrialRecord,
    audit,
    boot_id,
    human_duration,
    now,
    read_record,
    write_record,
)

NORMAL = "normal"
NOTHING_ON_TRIAL = "nothing is on trial: no trial restore is waiting to be kept or put back"


@dataclass(frozen=True)
class TrialStatus:
    """What state the unit is in, for ``mftui status`` and the TUI's banner."""

    state: str  # normal, on-trial, kept, reverting, reverted, revert-failed
    backup_name: str = ""
    started_at: str = ""
    deadline: str = ""  # ISO 8601 UTC
    seconds_left: float | None = None  # while on trial
    timeout: float = 0.0
    checks: tuple[dict[str, Any], ...] = field(default=())
    attempts: int = 0
    reason: str = ""
    kept_at: str = ""
    reverted_at: str = ""
    reboot: str = ""
    note: str = ""

    @property
    def on_trial(self) -> bool:
        return self.state == ON_TRIAL

    @property
    def left(self) -> str:
        """The time left as ``8:12`` (``0:00`` when not on trial), for a banner."""
        return human_duration(self.seconds_left or 0)

    def describe(self) -> str:
        """One or two sentences for the technician."""
        name = f"backup '{show(self.backup_name)}'"
        if self.state == ON_TRIAL:
            left = human_duration(self.seconds_left or 0)
            return (f"On trial: {name}, restored {self.started_at}. It is put back in {left} "
                    f"(at {self.deadline}) unless you keep it: mftui keep (mftui restore --previous puts it back now)")
        if self.state == KEPT:
            return f"Normal: the trial of {name} was kept at {self.kept_at}"
        if self.state == REVERTED:
            return f"Reverted: the trial of {name} was put back at {self.reverted_at}: {self.reason}"
        if self.state == REVERTING:
            return f"Putting back the trial of {name}: {self.reason}"
        if self.state == REVERT_FAILED:
            return f"The trial of {name} could not be put back automatically: {self.note}"
        return "Normal: no restore is on trial" + (f" ({self.note})" if self.note else "")

    def to_json(self) -> dict[str, Any]:
        return {
            "state": self.state, "backup": self.backup_name, "started_at": self.started_at,
            "deadline": self.deadline,
            "seconds_left": None if self.seconds_left is None else round(self.seconds_left, 1),
            "timeout_seconds": self.timeout, "checks": list(self.checks), "attempts": self.attempts,
            "reason": self.reason, "kept_at": self.kept_at, "reverted_at": self.reverted_at, "reboot": self.reboot,
            "note": self.note,
        }


def start_trial(settings: Settings, tree: Path, backup_name: str, archive: str, timeout: float) -> str:
    """Record a trial of the tree about to be swapped in (called before the swap; live once it commits).

    Returns the deadline (ISO 8601 UTC)."""
    record = TrialRecord(state=ON_TRIAL, backup_name=backup_name, archive=archive,
                         tree_id=list(fsops.must_identity(tree)), timeout=timeout, started_at=now(),
                         deadline=time.time() + timeout)
    record.anchor(timeout)
    write_record(settings.state_dir, record)
    audit(settings.state_dir, "trial-recorded", f"backup {backup_name!r}, put back in {human_duration(timeout)} "
                                                f"unless kept (at {record.deadline_text()})")
    step("trial-recorded")
    return record.deadline_text()


def lockout_risk(network_changes: tuple[str, ...] | list[str], environ: Mapping[str, str] | None = None) \
        -> tuple[str, ...]:
    """The lockout guard: the network files a restore changes when the technician is connected over SSH
    (``SSH_CONNECTION`` set), else none. Non-empty: say so in the confirmation, and the restore must be a trial
    (``restore_backup(..., trial=settings.trial.timeout)`` at least; no "no trial" choice)."""
    env = os.environ if environ is None else environ
    return tuple(network_changes) if env.get("SSH_CONNECTION") else ()


def is_live(settings: Settings, record: TrialRecord) -> bool:
    """Whether the instance root is the tree this trial restored (so the trial applies to it)."""
    return list(fsops.identity(settings.instance_root) or ()) == list(record.tree_id)


def trial_status(settings: Settings) -> TrialStatus:
    """The unit's trial state. Reading it re-anchors the clock after a reboot (written then)."""
    state = checked_state_dir(settings, create=False)
    record = read_record(state) if state is not None else None
    if record is None:
        return TrialStatus(NORMAL)
    left = None
    shown_state = record.state
    note = record.note
    if record.state == ON_TRIAL:
        if not is_live(settings, record):
            shown_state, note = NORMAL, (f"the trial of backup '{show(record.backup_name)}' ended: another restore "
                                         "or a put back replaced it")
        else:
            left, moved = record.seconds_left()
            if moved and state is not None:
                _write_quietly(settings, record)
    return TrialStatus(shown_state, record.backup_name, record.started_at, record.deadline_text(), left,
                       record.timeout, tuple(record.checks), record.attempts, record.reason, record.kept_at,
                       record.reverted_at, record.reboot, note)


def run_checks(settings: Settings) -> tuple[bool, list[tuple[str, bool, str]]]:
    """Run every ``[trial] checks`` command once, in order, stopping at the first failure."""
    results = []
    for check in settings.trial.checks:
        ok, detail = _run_check(check)
        results.append((check.describe(), ok, detail))
        if not ok:
            return False, results
    return True, results


def _run_check(check: Check) -> tuple[bool, str]:
    """Run one check in a session of its own: on its timeout the whole group goes (a shell's children too)."""
    try:
        proc = subprocess.Popen(check.argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                start_new_session=True)
    except OSError as exc:
        return False, f"cannot be run ({exc.strerror or exc})"
    try:
        out, err = proc.communicate(timeout=check.timeout)
    except subprocess.TimeoutExpired:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except OSError:
            pass
        proc.communicate()
        return False, f"no answer within {human_duration(check.timeout)}"
    if proc.returncode == 0:
        return True, "passed"
    said = [ln.strip() for ln in (err or out).decode(errors="replace").splitlines() if ln.strip()]
    return False, f"exit code {proc.returncode}" + (f": {said[-1][:200]}" if said else "")


def record_checks(settings: Settings, results: list[tuple[str, bool, str]]) -> None:
    """Add check results to a live trial's record (and re-anchor its clock), under the instance lock."""
    with instance_lock(settings, "trial check", wait=10):
        record = read_record(settings.state_dir)
        if record is None or record.state != ON_TRIAL or not is_live(settings, record):
            return
        left, _moved = record.seconds_left()
        record.anchor(left)
        for name, ok, detail in results:
            record.add_check(name, ok, detail)
            audit(settings.state_dir, "check-passed" if ok else "check-failed", f"{name}: {detail}")
        write_record(settings.state_dir, record)


def keep_trial(settings: Settings) -> TrialStatus:
    """Keep the restore on trial: the health checks run once, and must pass. TrialError otherwise."""
    left, _moved = _live_record(settings).seconds_left()  # nothing on trial: say so before running anything
    if left <= 0:
        raise TrialError("not kept: its time ran out, so it is being put back (by mftui watch); restore the "
                         "backup again to try it again")
    ok, results = run_checks(settings)
    record_checks(settings, results)
    if not ok:
        name, _ok, detail = results[-1]
        history_record(settings, "trial-keep", "refused", detail=f"the health check {name} fails ({detail})")
        raise TrialError(f"not kept: the health check '{show(name)}' fails ({detail}); the trial configuration is "
                         "put back by mftui watch")
    with instance_lock(settings, "keep", wait=10):
        record = _live_record(settings)
        record.state, record.kept_at, record.note = KEPT, now(), "kept by mftui keep"
        write_record(settings.state_dir, record)
        audit(settings.state_dir, "kept", f"backup {record.backup_name!r}")
    history_record(settings, "trial-keep", "ok", detail=f"backup {record.backup_name}")
    return trial_status(settings)


def _live_record(settings: Settings) -> TrialRecord:
    state = checked_state_dir(settings, create=False)
    record = read_record(state) if state is not None else None
    if record is None or record.state != ON_TRIAL or not is_live(settings, record):
        raise TrialError(NOTHING_ON_TRIAL)
    return record


def revert_now(settings: Settings, reason: str = "put back by hand") -> TrialStatus:
    """Put the configuration from before the trial back (journalled, like ``restore --previous``).

    The reboot is not requested here: call :func:`request_reboot_after_revert`
    next (the TUI shows the outcome in between). TrialError when nothing is on trial.
    """
    from .previous import _undo
    from .recovery import recover_locked

    with instance_lock(settings, "put back", wait=10):
        recover_locked(settings)
        record = _live_record(settings)
        state = settings.state_dir
        record.state, record.reason, record.attempts = REVERTING, reason, record.attempts + 1
        record.revert_boot = boot_id()
        write_record(state, record)
        audit(state, "revert-started", f"attempt {record.attempts}: {reason}")
        step("trial-reverting")
        try:
            result = _undo(settings, no_progress)
        except MftuiError as exc:
            record.state, record.note = REVERT_FAILED, f"the put back failed: {exc}"
            write_record(state, record)
            audit(state, "revert-failed", str(exc))
            history_record(settings, "trial-revert", "failed", detail=f"{reason}: {exc}")
            raise TrialError(f"the trial could not be put back: {exc}") from None
        record.state, record.reverted_at, record.reboot = REVERTED, now(), "pending"
        write_record(state, record)
        audit(state, "reverted", reason)
        history_record(settings, "trial-revert", "ok", changes=changes_summary(result.changes), detail=reason)
        step("trial-reverted")
    return trial_status(settings)


@contextmanager
def put_back_by_hand(settings: Settings) -> Iterator[None]:
    """Around ``restore --previous`` (under the instance lock): a live trial it puts back is recorded as reverted."""
    state = settings.state_dir
    try:
        record = read_record(state)
    except TrialError:
        record = None
    live = record is not None and record.state == ON_TRIAL and is_live(settings, record)
    yield
    if record is not None and live:
        record.state, record.reason, record.reverted_at = REVERTED, "put back by hand (mftui restore --previous)", now()
        record.attempts += 1
        record.reboot = "requested by the put back"
        write_record(state, record)
        audit(state, "reverted", record.reason)


def request_reboot_after_revert(settings: Settings) -> str:
    """Ask the reboot service once for a put back whose reboot is pending; the sentence it said."""
    from ..reboot import reboot_service

    state = settings.state_dir
    record = read_record(state)
    if record is None or record.state != REVERTED or record.reboot != "pending":
        return ""
    if record.revert_boot and record.revert_boot != boot_id():
        # Put back, then the unit restarted (a power cut): recovery finished it at boot, before the product
        # read its configuration, so there is nothing to reboot for.
        record.reboot = "not needed: the unit restarted after the put back"
        write_record(state, record)
        audit(state, "reboot-not-needed", record.reboot)
        return record.reboot
    try:
        message = reboot_service(settings).request_reboot().message
        record.reboot = "requested"
    except RebootError as exc:
        message = f"the reboot request failed: {exc}"
        record.reboot = f"failed: {exc}"
    write_record(state, record)
    audit(state, "reboot-requested" if record.reboot == "requested" else "reboot-failed", message)
    step("trial-reboot-requested")
    return message


def recover_trial_locked(settings: Settings) -> str | None:
    """After a put back was cut short: say which configuration is live and why (the caller holds the lock)."""
    state = settings.state_dir
    try:
        record = read_record(state)
    except TrialError:
        return None
    if record is None or record.state != REVERTING:
        return None
    journal = read_journal(state)
    name = f"backup '{show(record.backup_name)}'"
    if is_live(settings, record):
        if record.attempts >= MAX_REVERT_ATTEMPTS:
            record.state = REVERT_FAILED
            record.note = (f"putting back the trial of {name} was interrupted {record.attempts} times; the unit "
                           "stays on the trial configuration. Keep it (mftui keep) or put it back by hand "
                           "(mftui restore --previous)")
        else:
            record.state = ON_TRIAL
            record.note = (f"putting back the trial of {name} was interrupted before it changed anything (attempt "
                           f"{record.attempts}); the unit runs the trial configuration, and mftui watch puts it back")
    elif journal is not None and journal.action == UNDO and journal.state == COMMITTED \
            and list(journal.old_id) == list(record.tree_id):
        record.state, record.reverted_at, record.reboot = REVERTED, journal.finished_at or now(), "pending"
        record.note = (f"putting back the trial of {name} was interrupted and finished at start; the unit runs the "
                       "configuration from before the trial")
    else:
        record.state = REVERT_FAILED
        record.note = (f"putting back the trial of {name} was interrupted and the instance is neither the trial "
                       "tree nor the one put back; check it with mftui list")
    write_record(state, record)
    audit(state, "recovered", record.note)
    return record.note


def _write_quietly(settings: Settings, record: TrialRecord) -> None:
    try:
        with instance_lock(settings, "trial clock", wait=2):
            write_record(settings.state_dir, record)
    except (MftuiError, OSError):
        pass  # the next look anchors again
