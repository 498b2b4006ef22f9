"""The ``[trial]`` settings: whether a restore is a trial, how long it lasts, and the health checks.

```toml
[trial]
enabled = true            # default true (every reboot backend, and the demo)
timeout = "10m"           # how long a trial waits for `mftui keep` before it is put back
check_every = "30s"       # how often `mftui watch` runs the checks
check_timeout = "10s"     # each check's time limit, unless the check gives its own
checks = [
  ["systemctl", "is-active", "--quiet", "mobiusflow.service"],
  { run = ["ping", "-c1", "-W2", "10.0.0.1"], timeout = "5s" },
]
```

Durations are a whole number and a unit: ``s``, ``m`` or ``h`` (``"90s"``, ``"10m"``, ``"1h"``).
Kept apart from settings.py, which only calls :func:`parse_trial`.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .errors import SettingsError

_UNITS = {"s": 1, "m": 60, "h": 3600}
_DURATION = re.compile(r"([0-9]+)\s*([smh])")
MAX_DURATION = 7 * 24 * 3600  # a trial longer than a week is a typo
TRIAL_KEYS = ("enabled", "timeout", "check_every", "check_timeout", "checks")


@dataclass(frozen=True)
class Check:
    """One health check: a program and its arguments (no shell), and its time limit in seconds."""

    argv: tuple[str, ...]
    timeout: float

    def describe(self) -> str:
        return " ".join(self.argv)


@dataclass(frozen=True)
class TrialSettings:
    """How trial restores behave on this unit."""

    enabled: bool = True
    timeout: float = 600.0
    check_every: float = 30.0
    checks: tuple[Check, ...] = field(default=())


def parse_duration(text: str) -> float:
    """Seconds in ``"90s"``, ``"10m"``, ``"1h"``; ValueError with a sentence for anything else."""
    match = _DURATION.fullmatch(text.strip()) if isinstance(text, str) else None
    if match is None:
        raise ValueError(f"{text!r} is not a duration: write a whole number and s, m or h, e.g. \"10m\" or \"90s\"")
    seconds = int(match.group(1)) * _UNITS[match.group(2)]
    if seconds <= 0:
        raise ValueError(f"{text!r} is not a duration longer than zero")
    if seconds > MAX_DURATION:
        raise ValueError(f"{text!r} is longer than a week")
    return float(seconds)


def parse_trial(fail: Callable[[str, str], SettingsError], section: dict[str, Any]) -> TrialSettings:
    """Read ``[trial]``; ``fail(key, what)`` makes the settings error naming the file and the key."""
    for key in section:
        if key not in TRIAL_KEYS:
            raise fail(f"trial.{key}", f"unknown key; [trial] takes {', '.join(TRIAL_KEYS)}")
    enabled = section.get("enabled", True)
    if not isinstance(enabled, bool):
        raise fail("trial.enabled", f"must be true or false, not {type(enabled).__name__}")

    def duration(key: str, default: float) -> float:
        if key not in section:
            return default
        value = section[key]
        if not isinstance(value, str):
            raise fail(f"trial.{key}", f'must be a duration in quotes, e.g. "10m", not {type(value).__name__}')
        try:
            return parse_duration(value)
        except ValueError as exc:
            raise fail(f"trial.{key}", str(exc)) from None

    check_timeout = duration("check_timeout", 10.0)
    checks = _checks(fail, section.get("checks", []), check_timeout)
    return TrialSettings(enabled=enabled, timeout=duration("timeout", 600.0),
                         check_every=duration("check_every", 30.0), checks=checks)


def _checks(fail: Callable[[str, str], SettingsError], raw: Any, check_timeout: float) -> tuple[Check, ...]:
    """``checks``: each an argv list, or ``{ run = [...], timeout = "5s" }``."""
    if not isinstance(raw, list):
        raise fail("trial.checks", 'must be a list of commands, e.g. checks = [["systemctl", "is-active", "x"]]')
    checks = []
    for n, item in enumerate(raw):
        key = f"trial.checks[{n}]"
        timeout = check_timeout
        if isinstance(item, dict):
            unknown = sorted(set(item) - {"run", "timeout"})
            if unknown:
                raise fail(key, f"unknown key {unknown[0]!r}; a check takes run and timeout")
            if "timeout" in item:
                try:
                    timeout = parse_duration(item["timeout"])
                except ValueError as exc:
                    raise fail(f"{key}.timeout", str(exc)) from None
            item = item.get("run")
        if not isinstance(item, list) or not item or not all(isinstance(a, str) and a for a in item):
            raise fail(key, 'must be a command as a list of non-empty strings, e.g. ["ping", "-c1", "10.0.0.1"]')
        checks.append(Check(tuple(item), timeout))
    return tuple(checks)
