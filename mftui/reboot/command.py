"""The command and systemd backends: run a configured argv, or ``systemctl reboot`` / ``restart <unit>``."""

from __future__ import annotations

import os
import shlex
import shutil
import signal
import subprocess
from collections.abc import Mapping, Sequence

from ..errors import RebootError
from .service import COMMITTED, RebootOutcome, decoded, last_line

COMMAND_TIMEOUT = 30.0  # seconds a reboot command may take before we give up on it


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
            said = last_line(stderr) or last_line(stdout) or "no error output"
            raise RebootError(f"the reboot command `{shown}` failed ({how}): {said}. {self._by_hand()}")
        return RebootOutcome(backend=self.name, real=True, message=self._done())

    # Overridden by SystemdReboot for its own wording.
    def _done(self) -> str:
        return f"The reboot command `{self._shown()}` succeeded; the unit is rebooting."

    def _by_hand(self) -> str:
        return f"{COMMITTED}; reboot the unit by hand to start using it."

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
        return proc.returncode, decoded(err), decoded(out)


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
            return f"{COMMITTED}; restart {self.unit} by hand (systemctl restart {self.unit}) to start using it."
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
