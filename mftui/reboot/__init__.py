"""The reboot service: ask the host to reboot once a restore is committed.

One small interface, several backends chosen in the settings:

- ``demo``: records the request in the state directory; never reboots.
- ``command``: runs a configured argv (no shell).
- ``systemd``: ``systemctl reboot``, or ``systemctl restart <unit>``.
- ``balena``: the balena Supervisor API ``POST /v1/reboot``.

A failed request raises :class:`~mftui.errors.RebootError` and nothing else; its
message tells the technician what to do next. A failed reboot never undoes a
committed restore, and every message says so.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from ..errors import RebootError
from ..settings import Settings
from .balena import BalenaReboot
from .command import CommandReboot, SystemdReboot
from .demo import DemoReboot
from .service import COMMITTED, RebootOutcome, RebootService

__all__ = [
    "BalenaReboot",
    "CommandReboot",
    "DemoReboot",
    "RebootOutcome",
    "RebootService",
    "SystemdReboot",
    "reboot_service",
]


def reboot_service(settings: Settings, env: Mapping[str, str] | None = None) -> RebootService:
    """The reboot backend the settings ask for.

    ``env`` stands in for ``os.environ`` (PATH for finding programs, the
    balena Supervisor variables); None means the real environment.
    """
    environ: Mapping[str, str] = os.environ if env is None else env
    backend = settings.reboot_backend
    if backend == "demo":
        return DemoReboot(settings)
    if backend == "command":
        return CommandReboot(settings.reboot_command, env=environ)
    if backend == "systemd":
        return SystemdReboot(settings.reboot_unit, env=environ)
    if backend == "balena":
        return BalenaReboot.from_env(environ)
    # Settings files are checked when read; this catches a Settings built by hand.
    raise RebootError(
        f"reboot backend {backend!r} is unknown; set [reboot] backend to one of "
        f"demo, command, systemd, balena. {COMMITTED}; reboot the unit by hand."
    )
