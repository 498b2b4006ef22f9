"""The ``[retention]`` and ``[schedule]`` settings: how many backups a unit keeps, and when it makes one.

```toml
[retention]
keep_last = 10        # keep the 10 newest backups
keep_days = 30        # and every backup younger than 30 days
[schedule]
on_calendar = "daily" # systemd OnCalendar= of mftui-backup.timer (checked by `mftui install-units`)
randomized_delay = "1h"  # each unit waits a random time up to this, so a fleet does not back up at once
```

Either retention key, both, or neither (the default: keep everything). A
backup is removed only when no rule keeps it. Kept apart from settings.py,
which only calls :func:`parse_retention` and :func:`parse_schedule`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .errors import SettingsError
from .text import text_problem

RETENTION_KEYS = ("keep_last", "keep_days")
SCHEDULE_KEYS = ("on_calendar", "randomized_delay")
MAX_KEEP = 1_000_000  # beyond this a number is a typo


@dataclass(frozen=True)
class RetentionSettings:
    """How many backups to keep; None: that rule is off. Both None: keep everything."""

    keep_last: int | None = None
    keep_days: int | None = None

    @property
    def enabled(self) -> bool:
        return self.keep_last is not None or self.keep_days is not None


@dataclass(frozen=True)
class ScheduleSettings:
    """When mftui-backup.timer runs: an OnCalendar= expression, and a random delay so a fleet spreads out.

    ``enabled``: the settings file has a ``[schedule]`` section; only then does
    ``mftui install-units`` write the timer (no unit starts backing up daily,
    filling its disk, just because the recovery units were installed).
    """

    enabled: bool = False
    on_calendar: str = "daily"
    randomized_delay: int = 3600  # seconds


def parse_retention(fail: Callable[[str, str], SettingsError], section: dict[str, Any]) -> RetentionSettings:
    """Read ``[retention]``; ``fail(key, what)`` makes the settings error naming the file and the key."""
    for key in section:
        if key not in RETENTION_KEYS:
            raise fail(f"retention.{key}", f"unknown key; [retention] takes {', '.join(RETENTION_KEYS)}")

    def count(key: str, what: str) -> int | None:
        if key not in section:
            return None
        value = section[key]
        if isinstance(value, bool) or not isinstance(value, int):
            raise fail(f"retention.{key}", f"must be a whole number of {what}, not {type(value).__name__}")
        if value < 1:
            raise fail(f"retention.{key}", f"must be 1 or more, not {value} (leave the key out to keep every "
                                           "backup)")
        if value > MAX_KEEP:
            raise fail(f"retention.{key}", f"{value} is too large")
        return int(value)

    return RetentionSettings(keep_last=count("keep_last", "backups"), keep_days=count("keep_days", "days"))


def parse_schedule(fail: Callable[[str, str], SettingsError], section: dict[str, Any] | None) -> ScheduleSettings:
    """Read ``[schedule]`` (None: there is none). on_calendar is one line of plain text here;
    `mftui install-units` asks systemd-analyze whether systemd understands it."""
    from .trial_settings import parse_duration

    if section is None:
        return ScheduleSettings()
    for key in section:
        if key not in SCHEDULE_KEYS:
            raise fail(f"schedule.{key}", f"unknown key; [schedule] takes {', '.join(SCHEDULE_KEYS)}")
    calendar = section.get("on_calendar", "daily")
    if not isinstance(calendar, str) or not calendar.strip():
        raise fail("schedule.on_calendar", 'must be a non-empty string, e.g. on_calendar = "daily"')
    if text_problem(calendar) is not None or "\n" in calendar or "%" in calendar:
        raise fail("schedule.on_calendar", "must be one line of plain text (no control characters, no %)")
    delay = section.get("randomized_delay", "1h")
    try:
        seconds = parse_duration(delay)
    except ValueError as exc:
        raise fail("schedule.randomized_delay", f"{exc} (a random delay before each backup, e.g. \"1h\")") \
            from None
    return ScheduleSettings(enabled=True, on_calendar=calendar.strip(), randomized_delay=int(seconds))
