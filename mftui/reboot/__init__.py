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
        return _audited(DemoReboot(settings), settings)
    if backend == "command":
        return _audited(CommandReboot(settings.reboot_command, env=environ), settings)
    if backend == "systemd":
        return _audited(SystemdReboot(settings.reboot_unit, env=environ), settings)
    if backend == "balena":
        return _audited(BalenaReboot.from_env(environ), settings)
    # Settings files are checked when read; this catches a Settings built by hand.
    raise RebootError(
        f"reboot backend {backend!r} is unknown; set [reboot] backend to one of "
        f"demo, command, systemd, balena. {COMMITTED}; reboot the unit by hand."
    )


def _audited(service: RebootService, settings: Settings) -> RebootService:
    """Log every reboot request in the audit log (history.audit), whoever asks: the CLI, the TUI, a put back.

    The instance's request_reboot is wrapped rather than the object, so the
    backend's class (which the faces and tests look at) stays what it is.
    A log that cannot be written never stops a reboot.
    """
    ask = service.request_reboot

    def request_reboot() -> RebootOutcome:
        from ..history.audit import record

        try:
            outcome = ask()
        except RebootError as exc:
            record(settings, "reboot-request", "failed", detail=f"{service.name}: {exc}")
            raise
        record(settings, "reboot-request", "ok", detail=f"{outcome.backend}: {outcome.message}")
        return outcome

    setattr(service, "request_reboot", request_reboot)  # noqa: B010 (an instance attribute, on purpose)
    return service
