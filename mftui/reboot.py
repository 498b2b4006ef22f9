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

import json
import os
import shlex
import shutil
import signal
import subprocess
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from http import HTTPStatus
from http.client import HTTPException
from typing import Protocol

from .errors import RebootError
from .settings import Settings

__all__ = [
    "BalenaReboot",
    "CommandReboot",
    "DemoReboot",
    "RebootOutcome",
    "RebootService",
    "SystemdReboot",
    "reboot_service",
]

COMMAND_TIMEOUT = 30.0  # seconds a reboot command may take before we give up on it
HTTP_TIMEOUT = 10.0  # seconds to wait for the balena Supervisor
DEMO_LOG_NAME = "reboot-requests.jsonl"
_DETAIL_LIMIT = 300  # characters of stderr / supervisor text quoted in a message

_COMMITTED = "The restored configuration is committed and stays in place"


@dataclass(frozen=True)
class RebootOutcome:
    """What a successful reboot request did."""

    backend: str  # "demo", "command", "systemd" or "balena"
    real: bool  # False when the host was not rebooted (demo)
    message: str  # one sentence for the technician


class RebootService(Protocol):
    """A way to reboot the unit (or restart the product) after a restore."""

    name: str

    def describe(self) -> str:
        """One line for the UI, e.g. ``systemd: systemctl reboot``. Never raises."""
        ...

    def request_reboot(self) -> RebootOutcome:
        """Ask for the reboot; raise RebootError saying what to do next on failure."""
        ...


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
        f"demo, command, systemd, balena. {_COMMITTED}; reboot the unit by hand."
    )


# --- demo ---------------------------------------------------------------------


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
        from .errors import StateError
        from .state import checked_state_dir, open_file

        record = {"time": _utc_now(), "backend": self.name, "reason": reason}
        line = json.dumps(record, sort_keys=True) + "\n"
        try:
            state = checked_state_dir(self.settings, create=True)
            assert state is not None  # create=True
            # One write of one short line to an O_APPEND file: concurrent
            # requests cannot interleave inside a record. Never through a link.
            fd = open_file(state, DEMO_LOG_NAME, os.O_WRONLY | os.O_CREAT | os.O_APPEND)
            try:
                os.write(fd, line.encode())
                os.fsync(fd)
            finally:
                os.close(fd)
        except (OSError, StateError) as exc:
            reason_text = str(exc) if isinstance(exc, StateError) else (exc.strerror or str(exc))
            raise RebootError(
                f"could not record the demo reboot request in {self.log_path} "
                f"({reason_text}); nothing was rebooted. {_COMMITTED}."
            ) from None
        return RebootOutcome(
            backend=self.name,
            real=False,
            message=f"Demo instance: the reboot was recorded in {self.log_path}; no real reboot happened.",
        )


def _utc_now() -> str:
    """Now in UTC, ISO 8601 with a Z: unambiguous whatever the box's time zone."""
    return datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


# --- command and systemd --------------------------------------------------------


class CommandReboot:
    """Runs a configured argv (no shell); exit status 0 means the reboot was accepted."""

    name = "command"

    def __init__(
        self,
        argv: Sequence[str],
        env: Mapping[str, str] | None = None,
        timeout: float = COMMAND_TIMEOUT,
    ) -> None:
        self.argv = tuple(argv)
        self.env = os.environ if env is None else env
        self.timeout = timeout

    def describe(self) -> str:
        return f"{self.name}: {self._shown()}" if self.argv else f"{self.name}: no command configured"

    def request_reboot(self) -> RebootOutcome:
        """Run the command; any failure becomes a RebootError naming it."""
        if not self.argv:
            raise RebootError(
                'no reboot command is configured: set [reboot] command, e.g. command = ["systemctl", "reboot"]. '
                f"{self._by_hand()}"
            )
        shown = self._shown()
        program = shutil.which(self.argv[0], path=self.env.get("PATH", os.defpath))
        if program is None:
            raise RebootError(
                f"the reboot command `{shown}` could not be run: {self.argv[0]} was not found "
                f"or is not executable. {self._by_hand()}"
            )
        code, stderr, stdout = self._run([program, *self.argv[1:]], shown)
        if code != 0:
            how = f"exit code {code}" if code > 0 else f"signal {_signal_name(-code)}"
            said = _last_line(stderr) or _last_line(stdout) or "no error output"
            raise RebootError(f"the reboot command `{shown}` failed ({how}): {said}. {self._by_hand()}")
        return RebootOutcome(backend=self.name, real=True, message=self._done())

    # Overridden by SystemdReboot for its own wording.
    def _done(self) -> str:
        return f"The reboot command `{self._shown()}` succeeded; the unit is rebooting."

    def _by_hand(self) -> str:
        return f"{_COMMITTED}; reboot the unit by hand to start using it."

    def _shown(self) -> str:
        return shlex.join(self.argv)

    def _run(self, argv: list[str], shown: str) -> tuple[int, str, str]:
        """Run argv; return (exit code, stderr, stdout) or raise RebootError."""
        try:
            proc = subprocess.Popen(
                argv,
                # Never let the command read the technician's terminal (a sudo or
                # polkit prompt would hang, or scribble over the TUI).
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                env=dict(self.env),
                # Own session: no controlling terminal, and one process group
                # we can kill whole if it hangs.
                start_new_session=True,
            )
        except OSError as exc:
            raise RebootError(
                f"the reboot command `{shown}` could not be started ({exc.strerror or exc}). {self._by_hand()}"
            ) from None
        try:
            out, err = proc.communicate(timeout=self.timeout)
        except subprocess.TimeoutExpired:
            _kill_group(proc)
            raise RebootError(
                f"the reboot command `{shown}` did not finish within {self.timeout:g} s and was stopped. "
                f"{self._by_hand()}"
            ) from None
        return proc.returncode, _text(err), _text(out)


class SystemdReboot(CommandReboot):
    """``systemctl reboot``, or ``systemctl restart <unit>`` when a unit is named."""

    name = "systemd"

    def __init__(
        self,
        unit: str | None = None,
        env: Mapping[str, str] | None = None,
        timeout: float = COMMAND_TIMEOUT,
    ) -> None:
        self.unit = unit or None
        argv = ("systemctl", "restart", self.unit) if self.unit else ("systemctl", "reboot")
        super().__init__(argv, env=env, timeout=timeout)

    def _done(self) -> str:
        if self.unit:
            return f"systemd restarted {self.unit}; it is running with the restored configuration."
        return "systemd accepted the reboot request; the unit is rebooting."

    def _by_hand(self) -> str:
        if self.unit:
            return f"{_COMMITTED}; restart {self.unit} by hand (systemctl restart {self.unit}) to start using it."
        return super()._by_hand()


def _kill_group(proc: subprocess.Popen[bytes]) -> None:
    """Kill a timed-out command and everything it started, then reap it."""
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except OSError:
        proc.kill()
    try:
        # Bounded: something that left the group may still hold the pipes open.
        proc.communicate(timeout=5)
    except subprocess.TimeoutExpired:
        for pipe in (proc.stdout, proc.stderr):
            if pipe is not None:
                pipe.close()
        proc.wait()


def _signal_name(number: int) -> str:
    try:
        return signal.Signals(number).name
    except ValueError:
        return str(number)


def _text(data: bytes | None) -> str:
    return (data or b"").decode("utf-8", errors="replace")


def _last_line(text: str) -> str:
    """The last non-empty line, shortened: usually the one that says why."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return _shorten(lines[-1]) if lines else ""


def _shorten(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= _DETAIL_LIMIT else text[: _DETAIL_LIMIT - 1] + "…"


# --- balena ---------------------------------------------------------------------

_BY_HAND = (
    f"{_COMMITTED}; reboot the device by hand (balenaCloud dashboard: Reboot, or power-cycle it) to start using it."
)
_BY_HAND_LOWER = _BY_HAND[0].lower() + _BY_HAND[1:]

_NOT_BALENA = (
    "this is not running in a balenaOS container with the supervisor API enabled "
    "({missing} is not set): add the io.balena.features.supervisor-api label to this "
    "service, or choose another [reboot] backend"
)


class BalenaReboot:
    """``POST {BALENA_SUPERVISOR_ADDRESS}/v1/reboot`` with the container's API key.

    The Supervisor answers 202 ``{"Data": "OK", "Error": null}`` when it
    accepts; 423 when an update lock is held (it does not queue the reboot);
    401 for a wrong key. ``force`` stays false: overriding a service's update
    lock is the operator's decision, not ours.
    """

    name = "balena"

    def __init__(self, address: str | None, api_key: str | None, timeout: float = HTTP_TIMEOUT) -> None:
        self.address = (address or "").rstrip("/") or None
        self.api_key = api_key or None
        self.timeout = timeout

    @classmethod
    def from_env(cls, env: Mapping[str, str], timeout: float = HTTP_TIMEOUT) -> BalenaReboot:
        """Read the variables balenaOS gives a container (RESIN_* on supervisors before 7.22)."""
        address = env.get("BALENA_SUPERVISOR_ADDRESS") or env.get("RESIN_SUPERVISOR_ADDRESS")
        key = env.get("BALENA_SUPERVISOR_API_KEY") or env.get("RESIN_SUPERVISOR_API_KEY")
        return cls(address, key, timeout=timeout)

    def describe(self) -> str:
        if self.address is None or self.api_key is None:
            return f"balena: supervisor API not available ({self._missing()} not set)"
        return f"balena: supervisor POST {self.address}/v1/reboot"

    def request_reboot(self) -> RebootOutcome:
        """Ask the Supervisor to reboot the device, respecting update locks."""
        if self.address is None or self.api_key is None:
            raise RebootError(f"{_NOT_BALENA.format(missing=self._missing())}. {_BY_HAND}")
        if not _is_http_address(self.address):
            raise RebootError(
                f"BALENA_SUPERVISOR_ADDRESS={self.address!r} is not an http://host:port address. {_BY_HAND}"
            )
        url = f"{self.address}/v1/reboot?" + urllib.parse.urlencode({"apikey": self.api_key})
        request = urllib.request.Request(
            url,
            data=json.dumps({"force": False}).encode(),
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        # No proxies: the Supervisor is on the device, and an http_proxy set for
        # the product's own traffic must not carry our API key elsewhere.
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        where = f"the balena Supervisor at {self.address}"
        try:
            with opener.open(request, timeout=self.timeout) as response:
                status = response.status
                body = response.read(4096)
        except urllib.error.HTTPError as exc:
            detail = _supervisor_text(_read_quietly(exc))
            raise RebootError(self._redact(_http_failure(where, exc.code, detail))) from None
        except urllib.error.URLError as exc:
            reason = exc.reason
            if isinstance(reason, ConnectionRefusedError):
                why = "connection refused (is the supervisor running?)"
            elif isinstance(reason, TimeoutError):
                why = f"no answer within {self.timeout:g} s"
            else:
                why = str(getattr(reason, "strerror", None) or reason)
            raise RebootError(self._redact(f"could not reach {where}: {why}. {_BY_HAND}")) from None
        except TimeoutError:
            raise RebootError(
                f"{where} did not answer within {self.timeout:g} s. The device may still reboot; "
                f"if it does not within a few minutes, {_BY_HAND_LOWER}"
            ) from None
        except (HTTPException, OSError, ValueError) as exc:
            # E.g. the connection dropped mid-answer, as it may once the reboot starts.
            raise RebootError(
                self._redact(
                    f"{where} closed the connection without a proper answer ({type(exc).__name__}). "
                    f"The device may still reboot; if it does not within a few minutes, {_BY_HAND_LOWER}"
                )
            ) from None
        if not 200 <= status < 300:  # 1xx/3xx that urllib did not turn into errors
            raise RebootError(self._redact(_http_failure(where, status, _supervisor_text(body))))
        return RebootOutcome(
            backend=self.name,
            real=True,
            message=f"The balena Supervisor accepted the reboot request (HTTP {status}); the device is rebooting.",
        )

    def _missing(self) -> str:
        names = []
        if self.address is None:
            names.append("BALENA_SUPERVISOR_ADDRESS")
        if self.api_key is None:
            names.append("BALENA_SUPERVISOR_API_KEY")
        return " and ".join(names)

    def _redact(self, message: str) -> str:
        """Never show the API key, whatever ended up in a message."""
        return message.replace(self.api_key, "***") if self.api_key else message


def _is_http_address(address: str) -> bool:
    """Checked up front: urllib's own errors for a bad URL would quote the API key."""
    try:
        parts = urllib.parse.urlsplit(address)
        port = parts.port  # raises ValueError for a port out of range
    except ValueError:
        return False
    return parts.scheme in ("http", "https") and bool(parts.hostname) and port != 0


def _http_failure(where: str, status: int, detail: str) -> str:
    """A technician's message for an HTTP error answer from the Supervisor."""
    try:
        phrase = HTTPStatus(status).phrase
    except ValueError:
        phrase = ""
    # Quote the Supervisor unless it only repeated the status phrase.
    said = f": {detail}" if detail and detail.lower() != phrase.lower() else ""
    if status == 401:
        return (
            f"{where} refused the API key (HTTP 401 Unauthorized{said}): BALENA_SUPERVISOR_API_KEY "
            f"is wrong or was regenerated; restart this container to get the current key. {_BY_HAND}"
        )
    if status == 423:
        return (
            f"{where} refused to reboot because an update lock is held (HTTP 423 Locked{said}). "
            "A service on the device holds its update lock (/tmp/balena/updates.lock) or a host OS "
            "update is running, and the supervisor does not queue the reboot: wait until the lock "
            "is released and request the reboot again, or reboot from the balenaCloud dashboard, "
            f"which can override the lock. {_COMMITTED}."
        )
    label = f"HTTP {status} {phrase}" if phrase else f"HTTP {status}"
    return f"{where} answered {label}{said}. {_BY_HAND}"


def _read_quietly(fp: urllib.error.HTTPError) -> bytes:
    """Up to 4 KiB of an error answer's body; a broken body is just no text."""
    try:
        with fp:
            return fp.read(4096)
    except (OSError, HTTPException, ValueError):
        return b""


def _supervisor_text(body: bytes) -> str:
    """The Supervisor's explanation: JSON ``Error``/``message`` if present, else the text."""
    text = body.decode("utf-8", errors="replace").strip()
    try:
        data = json.loads(text)
    except ValueError:
        return _shorten(text)
    if isinstance(data, dict):
        for key in ("Error", "message", "error"):
            value = data.get(key)
            if isinstance(value, str) and value.strip():
                return _shorten(value)
        return ""
    return _shorten(text)
