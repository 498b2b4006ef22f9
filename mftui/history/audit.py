"""The audit log: one JSON line per backup, copy, restore, put back, prune, delete, pin, trial and reboot request.

Kept in the state folder as ``audit.log`` (0600, opened through state.open_file,
never through a link, each line fsync'ed), rotated at 1 MiB into
``audit.log.1`` .. ``audit.log.5``. Writing it never raises: a log that
cannot be written must not stop a restore, so :func:`record` returns one
sentence for the caller to show instead.
"""

from __future__ import annotations

import fcntl
import json
import os
import pwd
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ..durable import fsync_path
from ..errors import MftuiError
from ..settings import Settings
from ..state import checked_state_dir, open_file, read_small
from ..text import show

LOG_NAME = "audit.log"
ROTATE_AT = 1 << 20  # 1 MiB
KEEP = 5  # audit.log.1 (newest) .. audit.log.5 (oldest)
MAX_LINE = 16 * 1024  # one line stays one short write (O_APPEND: writers never interleave inside it)
READ_LIMIT = ROTATE_AT + 4 * MAX_LINE  # a rotated file is at most this large, unless it is not ours
ACTIONS = ("backup", "copy", "send", "receive", "restore", "put-back", "prune", "delete", "pin", "unpin",
           "trial-keep", "trial-revert", "reboot-request")  # what the log holds (for the docs; not enforced)


@dataclass(frozen=True)
class AuditEntry:
    """One line of the audit log. Every text in it is untrusted when shown: use text.show."""

    time: str  # UTC, ISO 8601 ("2026-11-29T22:33:05.123Z")
    action: str
    outcome: str  # "ok", "refused", "failed", or what the action says (e.g. "none" for a prune with nothing to do)
    user: str = ""
    where: str = ""
    archive: str | None = None
    sha256: str | None = None
    changes: dict[str, Any] | None = None
    detail: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {"time": self.time, "action": self.action, "outcome": self.outcome, "archive": self.archive,
                "sha256": self.sha256, "changes": self.changes, "user": self.user, "where": self.where,
                "detail": self.detail}

    @property
    def when(self) -> datetime | None:
        """The entry's time, or None when it is not a time (a hand-edited line)."""
        try:
            moment = datetime.fromisoformat(self.time.replace("Z", "+00:00"))
        except ValueError:
            return None
        return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def who() -> str:
    """The person: the one who ran sudo, else the login name, else the effective user's name."""
    sudo_user = os.environ.get("SUDO_USER")
    if sudo_user:
        return sudo_user
    try:
        return os.getlogin()
    except OSError:  # no controlling terminal (cron, a systemd service)
        try:
            return pwd.getpwuid(os.geteuid()).pw_name
        except KeyError:
            return f"uid {os.geteuid()}"


def where_from() -> str:
    """Where from: the SSH client's address, else the terminal's name, else "no terminal"."""
    ssh = os.environ.get("SSH_CONNECTION", "").split()
    if ssh:
        return f"ssh from {ssh[0]}"
    for fd in (0, 1, 2):
        try:
            return os.ttyname(fd)
        except OSError:
            continue
    return "no terminal"


def make_entry(action: str, outcome: str, *, archive: Path | None = None, sha256: str | None = None,
               changes: dict[str, Any] | None = None, detail: str | None = None,
               now: datetime | None = None) -> AuditEntry:
    moment = (now or datetime.now(UTC)).astimezone(UTC)
    return AuditEntry(
        time=moment.isoformat(timespec="milliseconds").replace("+00:00", "Z"), action=action, outcome=outcome,
        user=who(), where=where_from(), archive=archive.name if archive is not None else None, sha256=sha256,
        changes=changes, detail=detail,
    )


def outcome_of(exc: BaseException | None) -> str:
    """"ok"; "refused" when a check said no before anything changed (damaged archive, lock, key, policy);
    else "failed"."""
    if exc is None:
        return "ok"
    from ..errors import ArchiveError, LockBusy, StateError, UsageError
    from ..key_errors import KeyProblem

    return "refused" if isinstance(exc, ArchiveError | LockBusy | StateError | UsageError | KeyProblem) else "failed"


def changes_summary(changes: Any) -> dict[str, Any]:
    """A restore's changes (restore.changes.Changes) as counts for the log, never the file names."""
    return {"added": len(changes.added), "changed": len(changes.changed), "removed": len(changes.removed),
            "scope": changes.scope}


def record(settings: Settings, action: str, outcome: str, *, archive: Path | None = None,
           sha256: str | None = None, changes: dict[str, Any] | None = None,
           detail: str | None = None) -> str | None:
    """Append one line to the audit log; None when written, else one sentence saying it was not (never raises)."""
    try:
        entry = make_entry(action, outcome, archive=archive, sha256=sha256, changes=changes, detail=detail)
        append_entry(settings, entry)
    except MftuiError as exc:
        return f"the audit log was not written ({str(exc).rstrip('.')}); the {action} itself is not affected"
    except OSError as exc:
        return (f"the audit log in {show(str(settings.state_dir))} was not written ({exc.strerror or exc}); "
                f"the {action} itself is not affected")
    except Exception as exc:  # noqa: BLE001 (a log must never stop what it records)
        return f"the audit log was not written ({show(type(exc).__name__)}: {show(str(exc))})"
    return None


def append_entry(settings: Settings, entry: AuditEntry) -> None:
    """Write one entry (raises StateError/OSError; :func:`record` words them)."""
    line = json.dumps(entry.to_json(), ensure_ascii=True, separators=(",", ":"))
    if len(line) >= MAX_LINE:  # e.g. a prune of 900 backups: lists become counts, a long detail is cut
        line = json.dumps(_shortened(entry), ensure_ascii=True, separators=(",", ":"))
    state = checked_state_dir(settings, create=True)
    assert state is not None  # create=True
    fd = _open_current(state)
    try:
        if os.fstat(fd).st_size + len(line) + 1 > ROTATE_AT:
            _rotate(state)
            os.close(fd)
            fd = _open_current(state)
        os.write(fd, (line + "\n").encode())
        os.fsync(fd)
    finally:
        os.close(fd)


def _shortened(entry: AuditEntry) -> dict[str, Any]:
    """The entry in one short line: each list in ``changes`` becomes its length, ``detail`` its start."""
    counted = {k: len(v) if isinstance(v, list) else v for k, v in (entry.changes or {}).items()}
    changes = {k: v for k, v in counted.items() if len(json.dumps(v)) < 200} or None
    detail = entry.detail if entry.detail is None or len(entry.detail) < 2000 else show(entry.detail, limit=2000)
    data = {**entry.to_json(), "changes": changes, "detail": detail}
    for key in ("archive", "user", "where"):  # untrusted texts, never long in practice
        if isinstance(data[key], str) and len(data[key]) > 1000:
            data[key] = show(data[key], limit=1000)
    return data


def _open_current(state: Path) -> int:
    """audit.log, open for appending and locked (flock), and still the file of that name.

    Another mftui may rotate it while this one waits for the lock: then the
    descriptor is the rotated file, and the new audit.log is opened instead.
    """
    while True:
        fd = open_file(state, LOG_NAME, os.O_WRONLY | os.O_CREAT | os.O_APPEND)
        fcntl.flock(fd, fcntl.LOCK_EX)  # the lock goes with the descriptor when it is closed
        try:
            now_there = os.lstat(state / LOG_NAME)
        except FileNotFoundError:
            now_there = None
        mine = os.fstat(fd)
        if now_there is not None and (now_there.st_ino, now_there.st_dev) == (mine.st_ino, mine.st_dev):
            return fd
        os.close(fd)


def _rotate(state: Path) -> None:
    """audit.log -> .1 -> .2 ... -> .5; the oldest is dropped. The caller holds audit.log's lock."""
    for n in range(KEEP - 1, 0, -1):
        try:
            os.replace(state / f"{LOG_NAME}.{n}", state / f"{LOG_NAME}.{n + 1}")
        except FileNotFoundError:
            pass
    os.replace(state / LOG_NAME, state / f"{LOG_NAME}.1")
    fsync_path(state)


def log_files(state: Path) -> list[str]:
    """The log's file names, oldest first."""
    return [f"{LOG_NAME}.{n}" for n in range(KEEP, 0, -1)] + [LOG_NAME]


def read_log(settings: Settings, since: datetime | None = None) -> tuple[list[AuditEntry], list[str]]:
    """Every entry (at or after ``since``), oldest first, and one sentence per line or file that was skipped."""
    entries: list[AuditEntry] = []
    problems: list[str] = []
    try:
        state = checked_state_dir(settings, create=False)
    except MftuiError as exc:
        return [], [str(exc)]
    if state is None:
        return [], []
    if since is not None and since.tzinfo is None:
        since = since.replace(tzinfo=UTC)
    for name in log_files(state):
        for entry in _read_file(state, name, problems):
            moment = entry.when
            if since is None or (moment is not None and moment >= since):
                entries.append(entry)
    return entries, problems


def _read_file(state: Path, name: str, problems: list[str]) -> list[AuditEntry]:
    try:
        data = read_small(state, name, READ_LIMIT)
    except (MftuiError, ValueError) as exc:
        problems.append(f"{show(name)} was skipped ({str(exc).rstrip('.')})")
        return []
    except OSError as exc:
        problems.append(f"{show(name)} could not be read ({exc.strerror or exc}) and was skipped")
        return []
    if data is None:
        return []
    found = []
    for number, raw in enumerate(data.split(b"\n"), start=1):
        if not raw.strip():
            continue
        entry = _parse(raw)
        if entry is None:
            problems.append(f"{show(name)} line {number} is damaged and was skipped")
        else:
            found.append(entry)
    return found


def _parse(raw: bytes) -> AuditEntry | None:
    try:
        data = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        return None
    if not isinstance(data, dict):
        return None
    texts = ("time", "action", "outcome")
    if not all(isinstance(data.get(k), str) for k in texts):
        return None
    optional = ("archive", "sha256", "detail")
    if not all(data.get(k) is None or isinstance(data.get(k), str) for k in optional):
        return None
    changes = data.get("changes")
    if changes is not None and not isinstance(changes, dict):
        return None
    return AuditEntry(time=data["time"], action=data["action"], outcome=data["outcome"],
                      user=str(data.get("user") or ""), where=str(data.get("where") or ""),
                      archive=data.get("archive"), sha256=data.get("sha256"), changes=changes,
                      detail=data.get("detail"))
