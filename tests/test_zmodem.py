"""ZMODEM over the console line: mftui against the real sz and rz of lrzsz, through socat and a pty (issue 14).

Nothing is simulated: mftui runs in its own session with a pty as its
controlling terminal, as on a serial console; the technician's terminal
program is the real ``sz`` or ``rz`` on the other end of the line.
"""

from __future__ import annotations

import fcntl
import json
import os
import select
import shlex
import signal
import subprocess
import sys
import termios
import time
from pathlib import Path

import jsonschema
import pytest

from mftui.archive.writer import create_backup
from mftui.settings import Settings

pytestmark = pytest.mark.skipif(not all(os.path.exists(f"/usr/bin/{t}") for t in ("sz", "rz", "socat")),
                                reason="needs lrzsz and socat (.ci/run installs them)")
MFTUI = [sys.executable, "-m", "mftui"]
SCHEMAS = Path(__file__).resolve().parent.parent / "docs" / "schemas"


def valid(command: str, data: object) -> object:
    """``data`` as printed by ``mftui COMMAND --json``, checked against docs/schemas/COMMAND.json."""
    jsonschema.Draft202012Validator(json.loads((SCHEMAS / f"{command}.json").read_text())).validate(data)
    return data


@pytest.fixture
def backup(settings: Settings) -> Path:
    return create_backup(settings, "site").path


def incoming(settings: Settings) -> list[str]:
    folder = settings.backups_dir / "incoming"
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def through_socat(mftui_args: list[str], other: str, cwd: Path) -> tuple[dict[str, object], str]:
    """mftui with a pty as its controlling terminal on one end of socat, ``other`` on the other end."""
    out, err, script = cwd / "mftui.out", cwd / "mftui.err", cwd / "mftui.sh"
    command = " ".join(shlex.quote(a) for a in [*MFTUI, *mftui_args])
    script.write_text(f"#!/bin/sh\nexec {command} >{shlex.quote(str(out))} 2>{shlex.quote(str(err))}\n")
    script.chmod(0o700)
    # The other end is a terminal program: it stays on the line after the transfer (what mftui still
    # sends, such as the final "OO", is read and dropped) until mftui is done.
    laptop = cwd / "laptop.sh"
    laptop.write_text(f"#!/bin/sh\n{other}\nexec cat >/dev/null\n")
    laptop.chmod(0o700)
    done = subprocess.run(["socat", "-d", "-d", f"EXEC:{script},pty,setsid,ctty,raw,echo=0", f"EXEC:{laptop}"],
                          cwd=cwd, timeout=60, check=False, capture_output=True, text=True)
    assert out.exists() and out.read_text(), done.stderr
    return json.loads(out.read_text() or "{}"), err.read_text()


def test_send_reaches_the_real_rz(config_file: Path, backup: Path, tmp_path: Path) -> None:
    laptop = tmp_path / "laptop"
    laptop.mkdir()
    result, said = through_socat(["--config", str(config_file), "send", "--json", str(backup)], "rz -b", laptop)
    assert (laptop / backup.name).read_bytes() == backup.read_bytes()
    assert result["ok"] is True, said
    assert result["bytes"] == backup.stat().st_size and result["method"] == "zmodem"
    valid("send", result)


def test_receive_from_the_real_sz_lands_checked_in_incoming(config_file: Path, settings: Settings, backup: Path,
                                                           tmp_path: Path) -> None:
    result, said = through_socat(["--config", str(config_file), "receive", "--json"], f"sz -b {backup}", tmp_path)
    assert result["ok"] is True, said
    valid("receive", result)
    received = settings.backups_dir / "incoming" / backup.name
    assert result["path"] == str(received) and result["complete"] is True and result["files"] == 17
    assert received.read_bytes() == backup.read_bytes()
    assert received.stat().st_mode & 0o777 == 0o600
    assert incoming(settings) == [backup.name]  # the private folder is gone
    again, _ = through_socat(["--config", str(config_file), "receive", "--json"], f"sz -b {backup}", tmp_path)
    assert again["path"] == str(received).replace(".zip", "-2.zip")  # never over the first
    from mftui.history.audit import read_log

    entries = [(e.action, e.outcome, e.archive, e.sha256, e.detail) for e in read_log(settings)[0]
               if e.action == "receive"]
    assert entries == [("receive", "ok", name, result["sha256"], "zmodem")
                       for name in (received.name, received.name.replace(".zip", "-2.zip"))]


class Line:
    """mftui on a pty (its controlling terminal), ``other`` on pipes; the test carries the bytes between them."""

    def __init__(self, mftui_args: list[str], other: list[str], cwd: Path | None = None) -> None:
        self.master, self.slave = os.openpty()

        def session() -> None:
            os.setsid()
            fcntl.ioctl(0, termios.TIOCSCTTY, 0)

        self.before = termios.tcgetattr(self.slave)
        self.mftui = subprocess.Popen([*MFTUI, *mftui_args], stdin=self.slave, stdout=subprocess.PIPE,
                                      stderr=subprocess.PIPE, preexec_fn=session)
        self.other = subprocess.Popen(other, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                      cwd=cwd)
        self.carried = 0

    def run(self, cut_after: int, then: str, timeout: float = 60) -> int:
        """Carry the bytes; after ``cut_after`` bytes (both ways): "cancel" (Ctrl+X five times), "hangup", "kill-rz"."""
        assert self.other.stdout is not None and self.other.stdin is not None
        cut = False
        end = time.monotonic() + timeout
        while self.mftui.poll() is None and time.monotonic() < end:
            if cut and then == "hangup":
                time.sleep(0.05)  # no line any more
                continue
            ready, _, _ = select.select([self.master] + ([] if cut else [self.other.stdout]), [], [], 0.05)
            if self.master in ready:
                data = os.read(self.master, 256)
                self.carried += len(data)
                if not cut:
                    try:
                        self.other.stdin.write(data)
                        self.other.stdin.flush()
                    except BrokenPipeError:
                        pass
            if not cut and self.other.stdout in ready:
                data = os.read(self.other.stdout.fileno(), 256)  # a slow line: small pieces
                os.write(self.master, data)
                self.carried += len(data)
            if not cut and self.carried > cut_after:
                cut = True
                self._cut(then)
        code = self.mftui.wait(10)
        if not cut:
            self.other_ends(timeout=5)
        self.other.kill()
        self.other.wait(10)
        return code

    def other_ends(self, timeout: float = 5) -> int | None:
        """Carry what mftui left on the line to ``other`` until it exits by itself; its exit status, or None."""
        assert self.other.stdin is not None
        end = time.monotonic() + timeout
        while self.other.poll() is None and time.monotonic() < end:
            ready, _, _ = select.select([self.master], [], [], 0.05)
            if ready:
                try:
                    self.other.stdin.write(os.read(self.master, 4096))
                    self.other.stdin.flush()
                except (BrokenPipeError, OSError):
                    break
        return self.other.poll()

    def _cut(self, then: str) -> None:
        self.other.kill()  # the sender stops half-way
        if then == "cancel":
            os.write(self.master, b"\x18" * 5)
        elif then == "hangup":
            os.close(self.master)
            os.close(self.slave)
        elif then == "kill-rz":
            children = Path(f"/proc/{self.mftui.pid}/task/{self.mftui.pid}/children").read_text().split()
            assert len(children) == 1, children
            assert Path(f"/proc/{children[0]}/comm").read_text().strip() == "rz"
            os.kill(int(children[0]), signal.SIGKILL)

    def terminal(self) -> list[object]:
        return termios.tcgetattr(self.slave)


@pytest.mark.parametrize("then", ["cancel", "kill-rz", "hangup"])
def test_a_receive_cut_half_way_keeps_nothing_and_gives_the_terminal_back(
        config_file: Path, settings: Settings, tmp_path: Path, then: str) -> None:
    big = create_backup(settings, "site").path
    line = Line(["--config", str(config_file), "receive", "--json"], ["sz", "-b", str(big)])
    code = line.run(cut_after=big.stat().st_size // 2, then=then)
    assert line.mftui.stdout is not None and line.mftui.stderr is not None
    out, err = line.mftui.stdout.read().decode(), line.mftui.stderr.read().decode()
    assert code == 1, err
    result = json.loads(out)
    assert result["ok"] is False
    valid("receive", result)
    assert "the transfer did not complete" in result["reason"] and "nothing was kept" in result["reason"]
    assert incoming(settings) == []  # no partial file, under a final name or any other
    if then != "hangup":
        after = line.terminal()
        assert after[3] & (termios.ICANON | termios.ECHO) == termios.ICANON | termios.ECHO  # cooked, echoing
        assert after[:4] == line.before[:4]
        os.close(line.master)
        os.close(line.slave)


def test_a_send_ends_the_session_so_the_receiver_stops_by_itself(config_file: Path, backup: Path,
                                                                 tmp_path: Path) -> None:
    """sz flushes its line as it exits, which can swallow its final "OO": mftui sends it, and answers a ZFIN
    that comes late, so the terminal program's receiver ends at once instead of waiting or talking on."""
    laptop = tmp_path / "laptop"
    laptop.mkdir()
    for _ in range(5):
        for old in laptop.iterdir():
            old.unlink()
        line = Line(["--config", str(config_file), "send", str(backup)], ["rz", "-b"], cwd=laptop)
        started = time.monotonic()
        assert line.run(cut_after=10**9, then="") == 0
        assert line.other.returncode == 0 and time.monotonic() - started < 5  # rz ended by itself, satisfied
        assert (laptop / backup.name).read_bytes() == backup.read_bytes()
        os.close(line.master)
        os.close(line.slave)


def test_a_send_cancelled_half_way_says_so(config_file: Path, settings: Settings, tmp_path: Path) -> None:
    big = create_backup(settings, "site").path
    laptop = tmp_path / "laptop"
    laptop.mkdir()
    line = Line(["--config", str(config_file), "send", "--json", str(big)], ["rz", "-b"], cwd=laptop)
    code = line.run(cut_after=big.stat().st_size // 2, then="cancel")
    assert line.mftui.stdout is not None
    assert code == 1
    reason = valid("send", json.loads(line.mftui.stdout.read()))["reason"]  # type: ignore[index]
    assert reason.startswith("the transfer did not complete") and "the backup is untouched" in reason
    assert line.terminal()[3] & termios.ECHO
    os.close(line.master)
    os.close(line.slave)


def test_a_receive_killed_with_mftui_is_cleaned_by_the_next(config_file: Path, settings: Settings,
                                                             backup: Path, tmp_path: Path) -> None:
    line = Line(["--config", str(config_file), "receive"], ["sz", "-b", str(backup)])
    folder = settings.backups_dir / "incoming"
    end = time.monotonic() + 30
    while not (folder.exists() and list(folder.glob(".receiving-*"))) and time.monotonic() < end:
        time.sleep(0.02)
    line.mftui.kill()  # its rz goes on, alone, into the private folder: nothing gets a final name
    line.mftui.wait(10)
    line.run(cut_after=10**9, then="cancel", timeout=1)
    os.close(line.master)
    os.close(line.slave)
    assert [p.name for p in folder.iterdir() if not p.name.startswith(".receiving-")] == []
    result, _ = through_socat(["--config", str(config_file), "receive", "--json"], f"sz -b {backup}", tmp_path)
    assert result["ok"] is True
    assert incoming(settings) == [backup.name]  # the dead receive's folder was removed


def test_without_lrzsz_one_sentence_names_the_package(config_file: Path, backup: Path, tmp_path: Path) -> None:
    empty = tmp_path / "bin"
    empty.mkdir()
    env = {**os.environ, "PATH": str(empty)}
    for args in (["send", "--json", str(backup)], ["receive", "--json"]):
        done = subprocess.run([*MFTUI, "--config", str(config_file), *args], env=env, capture_output=True,
                              text=True, timeout=60, stdin=subprocess.DEVNULL)
        assert done.returncode == 1
        tool = "sz" if args[0] == "send" else "rz"
        reason = valid(args[0], json.loads(done.stdout))["reason"]  # type: ignore[index]
        assert reason.startswith(f"{tool} is not installed: install the Debian package lrzsz")
