"""The demo backend: records the request in the state folder; never reboots the host."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from ..errors import RebootError, StateError
from ..settings import Settings
from ..state import append_line, checked_state_dir
from .service import COMMITTED, RebootOutcome

DEMO_LOG_NAME = "reboot-requests.jsonl"


class DemoReboot:
    """Records the request as one JSON line; never reboots the host."""

    name = "demo"

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.log_path = settings.state_dir / DEMO_LOG_NAME

    def describe(self) -> str:
        return f"demo: records the request in {self.log_path}; never reboots"

    def request_reboot(self, reason: str = "restore committed") -> RebootOutcome:
        """Append ``{"time", "backend", "reason"}`` to the demo reboot log (in the checked state folder)."""
        record = {"time": _utc_now(), "backend": self.name, "reason": reason}
        line = json.dumps(record, sort_keys=True) + "\n"
        try:
            state = checked_state_dir(self.settings, create=True)
            assert state is not None  # create=True
            append_line(state, DEMO_LOG_NAME, line)  # never through a link; one line, whole
        except (OSError, StateError) as exc:
            reason_text = str(exc) if isinstance(exc, StateError) else (exc.strerror or str(exc))
            raise RebootError(
                f"could not record the demo reboot request in {self.log_path} "
                f"({reason_text}); nothing was rebooted. {COMMITTED}."
            ) from None
        return RebootOutcome(
            backend=self.name,
            real=False,
            message=f"Demo instance: the reboot was recorded in {self.log_path}; no real reboot happened.",
        )


def _utc_now() -> str:
    """Now in UTC, ISO 8601 with a Z: unambiguous whatever the box's time zone."""
    return datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
