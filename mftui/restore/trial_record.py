"""The trial record (``trial.json``), its audit trail (``trial-log.jsonl``) and the trial's clock.

Both live in the state folder and are opened through :func:`mftui.state.open_file`
(never through a link). The record is replaced atomically and durably, like the
restore journal: after a power cut it is the old record or the new one.

The clock. A trial's deadline is recorded as wall-clock time when the restore
commits, before the reboot, so the time the reboot takes counts. Within one
boot the remaining time is measured on ``CLOCK_BOOTTIME`` (counts suspend,
never jumps when NTP or a technician sets the clock): the record holds an
*anchor*, (boot id, boot-time clock, seconds left). Across a reboot only the
wall clock survives, so the first look in a new boot takes
``deadline - time.time()``, never more than the anchor's seconds left (a clock
set back cannot stretch a trial; a clock set forward ends it early, the safe
side), and anchors there. ``mftui watch`` re-anchors each time it runs the
checks, so what a reboot can lose is bounded by ``check_every``.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ..errors import MftuiError
from ..state import append_line, read_small, replace_file

TRIAL_NAME = "trial.json"
AUDIT_NAME = "trial-log.jsonl"
MAX_RECORD_BYTES = 256 * 1024
BOOT_ID_FILE = Path("/proc/sys/kernel/random/boot_id")

ON_TRIAL, KEPT, REVERTING, REVERTED, REVERT_FAILED = "on-trial", "kept", "reverting", "reverted", "revert-failed"
MAX_REVERT_ATTEMPTS = 2  # a put back interrupted twice is left alone, with a record: never a loop
MAX_CHECKS_KEPT = 20  # the latest check results kept in the record


class TrialError(MftuiError):
    """A trial command that cannot be done (nothing on trial, a check failing); exit code 1."""


@dataclass
class TrialRecord:
    """One trial restore, from its commit to kept or put back."""

    state: str
    backup_name: str
    archive: str
    tree_id: list[int]  # (device, inode) of the restored tree: the trial is live while the root is this tree
    timeout: float  # seconds
    started_at: str  # ISO 8601 UTC
    deadline: float  # wall-clock (epoch seconds) when it is put back unless kept
    anchor_boot: str = ""  # the boot the anchor was taken in
    anchor_clock: float = 0.0  # CLOCK_BOOTTIME at the anchor
    anchor_left: float = 0.0  # seconds left at the anchor
    checks: list[dict[str, Any]] = field(default_factory=list)  # latest results: time, check, ok, detail
    attempts: int = 0  # automatic or manual put backs started
    reason: str = ""  # why it was put back
    kept_at: str = ""
    reverted_at: str = ""
    reboot: str = ""  # after a put back: "pending", "requested", "not needed: ...", or "failed: <why>"
    revert_boot: str = ""  # the boot the put back began in (a reboot since then made its reboot needless)
    note: str = ""  # what recovery or the last step said
    version: int = 1

    @classmethod
    def from_json(cls, data: Any) -> TrialRecord:
        if not isinstance(data, dict) or data.get("version") != 1:
            raise ValueError("not a version 1 trial record")
        known = set(cls.__dataclass_fields__)
        return cls(**{k: v for k, v in data.items() if k in known})

    def deadline_text(self) -> str:
        return datetime.fromtimestamp(self.deadline, UTC).isoformat(timespec="seconds")

    def anchor(self, left: float) -> None:
        """Measure from here on the boot-time clock of this boot."""
        self.anchor_boot, self.anchor_clock, self.anchor_left = boot_id(), boot_clock(), max(0.0, left)

    def seconds_left(self) -> tuple[float, bool]:
        """Seconds until the deadline, and whether the anchor moved (a new boot: write the record)."""
        if self.anchor_boot and self.anchor_boot == boot_id():
            return self.anchor_left - (boot_clock() - self.anchor_clock), False
        left = min(self.deadline - time.time(), self.anchor_left if self.anchor_boot else self.timeout)
        self.anchor(left)
        return max(0.0, left), True

    def add_check(self, check: str, ok: bool, detail: str) -> None:
        self.checks.append({"time": now(), "check": check, "ok": ok, "detail": detail})
        del self.checks[:-MAX_CHECKS_KEPT]


def human_duration(seconds: float) -> str:
    """``8:12`` under an hour, ``1:05:00`` above: how long until a trial is put back."""
    total = max(0, int(seconds + 0.999))
    hours, rest = divmod(total, 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}" if hours else f"{rest // 60}:{rest % 60:02d}"


def boot_id() -> str:
    """This boot's id (Linux); empty where there is none, so every look counts as a new boot."""
    try:
        return BOOT_ID_FILE.read_text().strip()
    except OSError:
        return ""


def boot_clock() -> float:
    """Seconds since boot, suspend included; it never jumps when the wall clock is set."""
    return time.clock_gettime(getattr(time, "CLOCK_BOOTTIME", time.CLOCK_MONOTONIC))


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def read_record(state: Path) -> TrialRecord | None:
    """The trial record, or None. A damaged one is a TrialError (never guessed at)."""
    try:
        raw = read_small(state, TRIAL_NAME, MAX_RECORD_BYTES)
    except OSError as exc:
        raise TrialError(f"the trial record {state / TRIAL_NAME} cannot be read ({exc.strerror})") from None
    except ValueError:
        raw = b"\0"  # far too big to be ours: damaged, below
    if raw is None:
        return None
    try:
        return TrialRecord.from_json(json.loads(raw.decode("utf-8")))
    except (ValueError, TypeError, UnicodeDecodeError):
        raise TrialError(f"the trial record {state / TRIAL_NAME} is damaged; check the instance with mftui list, "
                         "then remove the record") from None


def write_record(state: Path, record: TrialRecord) -> None:
    """Replace the record atomically and durably (temporary file, fsync, rename, folder fsync)."""
    replace_file(state, TRIAL_NAME, (json.dumps(asdict(record), indent=1) + "\n").encode())


def audit(state: Path, event: str, detail: str = "") -> None:
    """Append one line to the audit trail; a trail that cannot be written never stops a put back."""
    line = json.dumps({"time": now(), "pid": os.getpid(), "event": event, "detail": detail}) + "\n"
    try:
        append_line(state, AUDIT_NAME, line)
    except OSError:
        pass


def reverting_pending(state: Path) -> bool:
    """Whether a put back was cut short (cheap: one small file read, no lock)."""
    try:
        record = read_record(state)
    except (TrialError, MftuiError):
        return False
    return record is not None and record.state == REVERTING
