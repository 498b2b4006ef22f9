"""The balena backend: the balena Supervisor API ``POST /v1/reboot``, with the environment balenaOS gives."""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping
from http import HTTPStatus
from http.client import HTTPException

from ..errors import RebootError
from .service import COMMITTED, RebootOutcome, shorten

HTTP_TIMEOUT = 10.0  # seconds to wait for the balena Supervisor


_BY_HAND = (
    f"{COMMITTED}; reboot the device by hand (balenaCloud dashboard: Reboot, or power-cycle it) to start using it."
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
            f"which can override the lock. {COMMITTED}."
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
        return shorten(text)
    if isinstance(data, dict):
        for key in ("Error", "message", "error"):
            value = data.get(key)
            if isinstance(value, str) and value.strip():
                return shorten(value)
        return ""
    return shorten(text)
