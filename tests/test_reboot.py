"""The reboot service, each backend against a real stand-in.

No mocks: real shell scripts (including a fake ``systemctl`` put on PATH) and a
real HTTP server on loopback playing the balena Supervisor API.
"""

from __future__ import annotations

import json
import os
import re
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from mftui.errors import RebootError
from mftui.reboot import (
    BalenaReboot,
    CommandReboot,
    DemoReboot,
    RebootOutcome,
    SystemdReboot,
    reboot_service,
)
from mftui.settings import Settings

API_KEY = "k3y-0123456789abcdef"  # distinctive, so a leak into a message is easy to spot


def make_settings(tmp_path: Path, **kw: object) -> Settings:
    return Settings(instance_root=tmp_path / "inst", backups_dir=tmp_path / "b", **kw)  # type: ignore[arg-type]


def write_script(path: Path, body: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("#!/bin/sh\n" + body)
    path.chmod(0o755)
    return path


def snapshot(root: Path) -> dict[str, tuple[str, bytes | None]]:
    """Every path under root with its kind and content (files)."""
    out: dict[str, tuple[str, bytes | None]] = {}
    for p in sorted(root.rglob("*")):
        rel = str(p.relative_to(root))
        out[rel] = ("file", p.read_bytes()) if p.is_file() else ("dir", None)
    return out


def closed_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def process_alive(pid: int, wait: float = 2.0) -> bool:
    """Whether pid still runs (a zombie awaiting its reaper counts as gone)."""
    deadline = time.monotonic() + wait
    while True:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except (FileNotFoundError, ProcessLookupError):
            return False
        if state == "Z":
            return False
        if time.monotonic() > deadline:
            return True
        time.sleep(0.05)


# --- demo ---------------------------------------------------------------------


def test_demo_records_the_request_and_touches_nothing_else(tmp_path: Path) -> None:
    inst = tmp_path / "inst"
    (inst / "hub").mkdir(parents=True)
    (inst / "hub" / "hub.json").write_text('{"id": "a1b2c3"}')
    (tmp_path / "b").mkdir()
    before = snapshot(tmp_path)

    service = reboot_service(make_settings(tmp_path, reboot_backend="demo"))
    outcome = service.request_reboot()

    log = tmp_path / ".mftui-inst" / "reboot-requests.jsonl"
    assert isinstance(service, DemoReboot)
    assert service.name == "demo"
    assert outcome == RebootOutcome(
        backend="demo",
        real=False,
        message=f"Demo instance: the reboot was recorded in {log}; no real reboot happened.",
    )
    after = snapshot(tmp_path)
    # The only change: the state dir and the log in it.
    assert {k: v for k, v in after.items() if not k.startswith(".mftui-inst")} == before
    # (and the audit log's line: every reboot request is logged, history/audit.py)
    assert set(after) - set(before) == {".mftui-inst", ".mftui-inst/reboot-requests.jsonl", ".mftui-inst/audit.log"}
    record = json.loads(log.read_text())
    assert record["backend"] == "demo"
    assert record["reason"]
    assert str(log) in service.describe()


def test_demo_appends_one_utc_json_line_per_request(tmp_path: Path) -> None:
    service = reboot_service(make_settings(tmp_path, reboot_backend="demo"))
    start = datetime.now(UTC).replace(microsecond=0)
    service.request_reboot()
    service.request_reboot()

    lines = (tmp_path / ".mftui-inst" / "reboot-requests.jsonl").read_text().splitlines()
    assert len(lines) == 2
    for line in lines:
        record = json.loads(line)
        assert set(record) == {"time", "backend", "reason"}
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", record["time"])
        when = datetime.fromisoformat(record["time"].replace("Z", "+00:00"))
        assert start <= when <= datetime.now(UTC) + timedelta(seconds=1)


def test_demo_unwritable_state_dir_is_a_reboot_error(tmp_path: Path) -> None:
    (tmp_path / ".mftui-inst").write_text("a file where the state dir should be")
    service = reboot_service(make_settings(tmp_path, reboot_backend="demo"))
    with pytest.raises(RebootError) as err:
        service.request_reboot()
    assert "reboot-requests.jsonl" in str(err.value)
    assert "committed" in str(err.value)


# --- command --------------------------------------------------------------------


def test_command_runs_the_argv_without_a_shell(tmp_path: Path) -> None:
    marker = tmp_path / "marker"
    script = write_script(tmp_path / "bin" / "do-reboot", f"printf '%s\\n' \"$@\" > '{marker}'\n")
    argv = (str(script), "now", "a b; touch pwned", "$HOME")
    service = reboot_service(make_settings(tmp_path, reboot_backend="command", reboot_command=argv))

    outcome = service.request_reboot()

    assert isinstance(service, CommandReboot)
    assert outcome.backend == "command"
    assert outcome.real is True
    assert "succeeded" in outcome.message
    # Each argument arrived intact and unexpanded: no shell in between.
    assert marker.read_text().splitlines() == ["now", "a b; touch pwned", "$HOME"]
    assert not (tmp_path / "pwned").exists()
    assert service.describe() == f"command: {script} now 'a b; touch pwned' '$HOME'"


def test_command_is_found_on_the_given_path(tmp_path: Path) -> None:
    marker = tmp_path / "marker"
    write_script(tmp_path / "bin" / "site-reboot", f": > '{marker}'\n")
    service = reboot_service(
        make_settings(tmp_path, reboot_backend="command", reboot_command=("site-reboot",)),
        env={"PATH": str(tmp_path / "bin")},
    )
    service.request_reboot()
    assert marker.exists()


def test_command_failure_names_command_exit_code_and_last_stderr_line(tmp_path: Path) -> None:
    script = write_script(
        tmp_path / "bin" / "do-reboot",
        "echo 'starting' >&2\necho 'reboot: Operation not permitted' >&2\nexit 3\n",
    )
    service = reboot_service(make_settings(tmp_path, reboot_backend="command", reboot_command=(str(script), "now")))

    with pytest.raises(RebootError) as err:
        service.request_reboot()

    msg = str(err.value)
    assert f"{script} now" in msg
    assert "exit code 3" in msg
    assert "reboot: Operation not permitted" in msg
    assert "starting" not in msg  # only the last line
    assert "committed" in msg
    assert "reboot the unit by hand" in msg


def test_command_killed_by_a_signal_says_so(tmp_path: Path) -> None:
    script = write_script(tmp_path / "bin" / "do-reboot", "kill -TERM $$\n")
    service = reboot_service(make_settings(tmp_path, reboot_backend="command", reboot_command=(str(script),)))
    with pytest.raises(RebootError, match="signal SIGTERM"):
        service.request_reboot()


def test_command_that_does_not_exist(tmp_path: Path) -> None:
    missing = tmp_path / "no-such-reboot"
    service = reboot_service(make_settings(tmp_path, reboot_backend="command", reboot_command=(str(missing),)))
    with pytest.raises(RebootError) as err:
        service.request_reboot()
    msg = str(err.value)
    assert str(missing) in msg
    assert "not found" in msg
    assert "reboot the unit by hand" in msg


def test_command_not_on_path(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    service = reboot_service(
        make_settings(tmp_path, reboot_backend="command", reboot_command=("mftui-test-no-such-tool", "now")),
        env={"PATH": str(tmp_path / "empty")},
    )
    with pytest.raises(RebootError, match="mftui-test-no-such-tool now.*not found"):
        service.request_reboot()


def test_command_timeout_stops_the_command_and_its_children(tmp_path: Path) -> None:
    # The background sleep keeps the output pipe open: unless the whole
    # process group is killed, waiting for the output would take 30 s.
    pidfile = tmp_path / "child.pid"
    script = write_script(tmp_path / "bin" / "hang", f"sleep 30 &\necho $! > '{pidfile}'\nsleep 30\n")
    service = CommandReboot((str(script),), env={"PATH": os.defpath}, timeout=0.5)
    start = time.monotonic()
    with pytest.raises(RebootError) as err:
        service.request_reboot()
    # Far below the 30 s the script and its child would take: the whole group was killed at 0.5 s.
    assert time.monotonic() - start < 15
    assert not process_alive(int(pidfile.read_text()))
    assert "did not finish within 0.5 s" in str(err.value)
    assert "committed" in str(err.value)


def test_command_with_no_argv_is_a_reboot_error(tmp_path: Path) -> None:
    service = reboot_service(make_settings(tmp_path, reboot_backend="command", reboot_command=()))
    assert service.describe() == "command: no command configured"
    with pytest.raises(RebootError, match=r"\[reboot\] command"):
        service.request_reboot()


# --- systemd --------------------------------------------------------------------


def fake_systemctl(bindir: Path, calls: Path, exit_code: int = 0, stderr: str = "") -> Path:
    """A ``systemctl`` that appends its argv (one per line, then ``--``) to calls."""
    body = f"printf '%s\\n' \"$@\" -- >> '{calls}'\n"
    if stderr:
        body += f"echo '{stderr}' >&2\n"
    body += f"exit {exit_code}\n"
    return write_script(bindir / "systemctl", body)


def test_systemd_reboot_runs_systemctl_reboot_from_path(tmp_path: Path) -> None:
    calls = tmp_path / "calls"
    fake_systemctl(tmp_path / "bin", calls)
    service = reboot_service(make_settings(tmp_path, reboot_backend="systemd"), env={"PATH": str(tmp_path / "bin")})

    outcome = service.request_reboot()

    assert isinstance(service, SystemdReboot)
    assert service.describe() == "systemd: systemctl reboot"
    assert calls.read_text().splitlines() == ["reboot", "--"]
    assert outcome.backend == "systemd"
    assert outcome.real is True
    assert "reboot" in outcome.message


def test_systemd_restarts_the_named_unit(tmp_path: Path) -> None:
    calls = tmp_path / "calls"
    fake_systemctl(tmp_path / "bin", calls)
    service = reboot_service(
        make_settings(tmp_path, reboot_backend="systemd", reboot_unit="mobiusflow.service"),
        env={"PATH": str(tmp_path / "bin")},
    )

    outcome = service.request_reboot()

    assert service.describe() == "systemd: systemctl restart mobiusflow.service"
    assert calls.read_text().splitlines() == ["restart", "mobiusflow.service", "--"]
    assert outcome.real is True
    assert "mobiusflow.service" in outcome.message


def test_systemd_failure_is_reported_with_what_to_do(tmp_path: Path) -> None:
    calls = tmp_path / "calls"
    fake_systemctl(tmp_path / "bin", calls, exit_code=1, stderr="Failed to reboot system via logind: Access denied")
    service = reboot_service(make_settings(tmp_path, reboot_backend="systemd"), env={"PATH": str(tmp_path / "bin")})

    with pytest.raises(RebootError) as err:
        service.request_reboot()

    msg = str(err.value)
    assert calls.read_text().splitlines() == ["reboot", "--"]  # it was really called
    assert "systemctl reboot" in msg
    assert "exit code 1" in msg
    assert "Failed to reboot system via logind: Access denied" in msg
    assert "committed" in msg
    assert "reboot the unit by hand" in msg


def test_systemd_unit_restart_failure_says_how_to_restart_it(tmp_path: Path) -> None:
    fake_systemctl(tmp_path / "bin", tmp_path / "calls", exit_code=1, stderr="Job for mf.service failed.")
    service = reboot_service(
        make_settings(tmp_path, reboot_backend="systemd", reboot_unit="mf.service"),
        env={"PATH": str(tmp_path / "bin")},
    )
    with pytest.raises(RebootError) as err:
        service.request_reboot()
    assert "Job for mf.service failed." in str(err.value)
    assert "systemctl restart mf.service" in str(err.value)


def test_systemd_without_systemctl_on_path(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    service = reboot_service(make_settings(tmp_path, reboot_backend="systemd"), env={"PATH": str(tmp_path / "empty")})
    with pytest.raises(RebootError, match="systemctl was not found"):
        service.request_reboot()


# --- balena ---------------------------------------------------------------------


@dataclass
class SupervisorRequest:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes


@dataclass
class FakeSupervisor:
    """A loopback HTTP server answering like the Supervisor's ``/v1/reboot``."""

    address: str = ""
    api_key: str = API_KEY
    status: int = 202
    body: bytes = b'{"Data":"OK","Error":null}'
    delay: float = 0.0
    requests: list[SupervisorRequest] = field(default_factory=list)
    release: threading.Event = field(default_factory=threading.Event)


@pytest.fixture
def supervisor() -> Iterator[FakeSupervisor]:
    fake = FakeSupervisor()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:  # keep test output clean
            pass

        def _answer(self, status: int, body: bytes, content_type: str) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            try:
                self.wfile.write(body)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client already gave up (the timeout test)

        def _handle(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            # The raw request target: http.server itself collapses a leading "//".
            url = urlsplit(self.requestline.split()[1])
            query = parse_qs(url.query)
            fake.requests.append(
                SupervisorRequest(self.command, url.path, query, dict(self.headers), self.rfile.read(length))
            )
            if fake.delay:
                fake.release.wait(fake.delay)
            if url.path != "/v1/reboot":
                self._answer(404, b"Not Found", "text/plain")
            elif query.get("apikey") != [fake.api_key]:
                self._answer(401, b"Unauthorized", "text/plain")  # as express's sendStatus(401)
            else:
                self._answer(fake.status, fake.body, "application/json")

        do_POST = _handle
        do_GET = _handle

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    fake.address = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        yield fake
    finally:
        fake.release.set()
        server.shutdown()
        server.server_close()
        thread.join(5)


def balena_env(address: str, key: str = API_KEY) -> dict[str, str]:
    return {"BALENA_SUPERVISOR_ADDRESS": address, "BALENA_SUPERVISOR_API_KEY": key}


def test_balena_posts_v1_reboot_with_key_and_body(tmp_path: Path, supervisor: FakeSupervisor) -> None:
    service = reboot_service(make_settings(tmp_path, reboot_backend="balena"), env=balena_env(supervisor.address))

    outcome = service.request_reboot()

    assert isinstance(service, BalenaReboot)
    assert len(supervisor.requests) == 1
    req = supervisor.requests[0]
    assert req.method == "POST"
    assert req.path == "/v1/reboot"
    assert req.query == {"apikey": [API_KEY]}
    assert req.headers["Content-Type"] == "application/json"
    assert json.loads(req.body) == {"force": False}
    assert outcome.backend == "balena"
    assert outcome.real is True
    assert "HTTP 202" in outcome.message
    assert service.describe() == f"balena: supervisor POST {supervisor.address}/v1/reboot"
    assert API_KEY not in service.describe()


def test_balena_address_with_trailing_slash(tmp_path: Path, supervisor: FakeSupervisor) -> None:
    service = reboot_service(make_settings(tmp_path, reboot_backend="balena"), env=balena_env(supervisor.address + "/"))
    service.request_reboot()
    assert supervisor.requests[0].path == "/v1/reboot"


def test_balena_falls_back_to_resin_variables(tmp_path: Path, supervisor: FakeSupervisor) -> None:
    env = {"RESIN_SUPERVISOR_ADDRESS": supervisor.address, "RESIN_SUPERVISOR_API_KEY": API_KEY}
    reboot_service(make_settings(tmp_path, reboot_backend="balena"), env=env).request_reboot()
    assert supervisor.requests[0].query == {"apikey": [API_KEY]}


def test_balena_bypasses_http_proxy(
    tmp_path: Path, supervisor: FakeSupervisor, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A proxy that is not there: going through it would fail the request.
    for name in ("http_proxy", "HTTP_PROXY"):
        monkeypatch.setenv(name, f"http://127.0.0.1:{closed_port()}")
    monkeypatch.delenv("no_proxy", raising=False)
    monkeypatch.delenv("NO_PROXY", raising=False)
    reboot_service(
        make_settings(tmp_path, reboot_backend="balena"), env=balena_env(supervisor.address)
    ).request_reboot()
    assert len(supervisor.requests) == 1


def test_balena_wrong_api_key_401(tmp_path: Path, supervisor: FakeSupervisor) -> None:
    wrong = "stale-key-feedface"
    service = reboot_service(
        make_settings(tmp_path, reboot_backend="balena"), env=balena_env(supervisor.address, wrong)
    )
    with pytest.raises(RebootError) as err:
        service.request_reboot()
    msg = str(err.value)
    assert "HTTP 401" in msg
    assert "BALENA_SUPERVISOR_API_KEY" in msg
    assert "committed" in msg
    assert wrong not in msg


def test_balena_update_lock_423(tmp_path: Path, supervisor: FakeSupervisor) -> None:
    supervisor.status = 423
    supervisor.body = b'{"Data":"","Error":"Updates are locked: mobiusflow"}'
    service = reboot_service(make_settings(tmp_path, reboot_backend="balena"), env=balena_env(supervisor.address))
    with pytest.raises(RebootError) as err:
        service.request_reboot()
    msg = str(err.value)
    assert "HTTP 423" in msg
    assert "Updates are locked: mobiusflow" in msg
    assert "update lock is held" in msg
    assert "override" in msg
    assert "committed" in msg
    assert API_KEY not in msg
    assert json.loads(supervisor.requests[0].body) == {"force": False}  # never forces the lock


def test_balena_server_error_500(tmp_path: Path, supervisor: FakeSupervisor) -> None:
    supervisor.status = 500
    supervisor.body = b'{"Data":"","Error":"Failed to contact logind"}'
    service = reboot_service(make_settings(tmp_path, reboot_backend="balena"), env=balena_env(supervisor.address))
    with pytest.raises(RebootError) as err:
        service.request_reboot()
    msg = str(err.value)
    assert "HTTP 500" in msg
    assert "Failed to contact logind" in msg
    assert "reboot the device by hand" in msg
    assert API_KEY not in msg


def test_balena_connection_refused(tmp_path: Path) -> None:
    address = f"http://127.0.0.1:{closed_port()}"
    service = reboot_service(make_settings(tmp_path, reboot_backend="balena"), env=balena_env(address))
    with pytest.raises(RebootError) as err:
        service.request_reboot()
    msg = str(err.value)
    assert "connection refused" in msg
    assert address in msg
    assert "reboot the device by hand" in msg
    assert API_KEY not in msg


def test_balena_timeout(supervisor: FakeSupervisor) -> None:
    supervisor.delay = 30
    service = BalenaReboot(supervisor.address, API_KEY, timeout=0.5)
    start = time.monotonic()
    with pytest.raises(RebootError) as err:
        service.request_reboot()
    # Far below the 30 s the supervisor would take to answer: the request gave up at 0.5 s.
    assert time.monotonic() - start < 15
    assert "did not answer within 0.5 s" in str(err.value)
    assert API_KEY not in str(err.value)


@pytest.mark.parametrize(
    ("env", "missing"),
    [
        ({}, "BALENA_SUPERVISOR_ADDRESS and BALENA_SUPERVISOR_API_KEY"),
        ({"BALENA_SUPERVISOR_ADDRESS": "http://127.0.0.1:48484"}, "BALENA_SUPERVISOR_API_KEY"),
        ({"BALENA_SUPERVISOR_API_KEY": API_KEY}, "BALENA_SUPERVISOR_ADDRESS"),
    ],
)
def test_balena_outside_balenaos(tmp_path: Path, env: dict[str, str], missing: str) -> None:
    service = reboot_service(make_settings(tmp_path, reboot_backend="balena"), env=env)
    assert missing in service.describe()
    with pytest.raises(RebootError) as err:
        service.request_reboot()
    msg = str(err.value)
    assert "not running in a balenaOS container" in msg
    assert "io.balena.features.supervisor-api" in msg
    assert f"({missing} is not set)" in msg


@pytest.mark.parametrize("address", ["127.0.0.1:48484", "http://127.0.0.1:99999", "http://:48484"])
def test_balena_address_that_is_not_usable(tmp_path: Path, address: str) -> None:
    service = reboot_service(make_settings(tmp_path, reboot_backend="balena"), env=balena_env(address))
    with pytest.raises(RebootError, match="not an http://host:port address") as err:
        service.request_reboot()
    assert API_KEY not in str(err.value)


# --- choosing a backend ---------------------------------------------------------------


def test_unknown_backend_is_a_reboot_error(tmp_path: Path) -> None:
    with pytest.raises(RebootError, match="'kexec' is unknown"):
        reboot_service(make_settings(tmp_path, reboot_backend="kexec"))
