"""The systemd units mftui ships, written by ``mftui install-units [--dir DIR]``.

- ``mftui-recover.service``: a oneshot early at boot, ordered before the
  product's own service, that runs ``mftui status``; like every mftui
  command it first finishes or rolls back a restore (or a put back) that a
  power cut interrupted, so the product never reads a half-done configuration.
- ``mftui-watch.service``: ``mftui watch``, after the recovery unit; it
  watches a trial restore and exits when there is none. Restarted only when
  killed by a signal (the trial record counts put back attempts, so a
  watcher that keeps dying cannot loop).

- ``mftui-backup.service`` + ``mftui-backup.timer`` (only when the settings
  have a ``[schedule]``): ``mftui backup --scheduled --if-changed`` at
  ``on_calendar``, ``Persistent=true`` (a run missed while off happens at
  boot) and ``RandomizedDelaySec`` so a fleet does not back up at once.

The command lines name this Python and this settings file, so the units run
the mftui that wrote them, on the same instance.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from .errors import MftuiError, SettingsError
from .settings import Settings
from .text import show

RECOVER_UNIT = "mftui-recover.service"
WATCH_UNIT = "mftui-watch.service"
BACKUP_UNIT = "mftui-backup.service"
BACKUP_TIMER = "mftui-backup.timer"


def exec_line(settings: Settings, command: str, *options: str) -> str:
    """``ExecStart=`` value: this Python running mftui, with this settings file (quoted for systemd)."""
    argv = [sys.executable, "-m", "mftui"]
    if settings.source is not None:
        argv += ["--config", str(settings.source.resolve())]
    argv += [command, *options]
    return " ".join(_quote(a) for a in argv)


def _quote(arg: str) -> str:
    if arg and all(c.isalnum() or c in "/._-+=:@," for c in arg):
        return arg
    return '"' + arg.replace("\\", "\\\\").replace('"', '\\"').replace("%", "%%") + '"'


def unit_texts(settings: Settings, product_unit: str = "mobiusflow.service") -> dict[str, str]:
    """The two unit files, by name."""
    recover = f"""\
[Unit]
Description=mftui: finish or roll back an interrupted restore before {product_unit} starts
DefaultDependencies=no
Wants=local-fs.target
After=local-fs.target
Before={product_unit} {WATCH_UNIT} shutdown.target
Conflicts=shutdown.target

[Service]
Type=oneshot
RemainAfterExit=yes
ExecStart={exec_line(settings, "status")}

[Install]
WantedBy=multi-user.target
RequiredBy={product_unit}
"""
    watch = f"""\
[Unit]
Description=mftui: watch a trial restore (put it back unless kept in time)
Wants={RECOVER_UNIT}
After={RECOVER_UNIT} network-online.target {product_unit}
StartLimitIntervalSec=600
StartLimitBurst=3

[Service]
Type=simple
ExecStart={exec_line(settings, "watch")}
Restart=on-abnormal
RestartSec=5

[Install]
WantedBy=multi-user.target
"""
    units = {RECOVER_UNIT: recover, WATCH_UNIT: watch}
    if settings.schedule.enabled:
        units.update(backup_unit_texts(settings))
    return units


def backup_unit_texts(settings: Settings) -> dict[str, str]:
    """The scheduled backup's service and timer."""
    service = f"""\
[Unit]
Description=mftui: a scheduled backup of the configuration (none when it has not changed)
Wants={RECOVER_UNIT}
After={RECOVER_UNIT} local-fs.target

[Service]
Type=oneshot
ExecStart={exec_line(settings, "backup", "--scheduled", "--if-changed")}
Nice=10
IOSchedulingClass=idle
"""
    timer = f"""\
[Unit]
Description=mftui: scheduled backups ({settings.schedule.on_calendar})

[Timer]
OnCalendar={settings.schedule.on_calendar}
Persistent=true
RandomizedDelaySec={settings.schedule.randomized_delay}s
Unit={BACKUP_UNIT}

[Install]
WantedBy=timers.target
"""
    return {BACKUP_UNIT: service, BACKUP_TIMER: timer}


def check_calendar(settings: Settings) -> str | None:
    """Ask ``systemd-analyze calendar`` whether systemd understands ``[schedule] on_calendar``.

    SettingsError (exit 2, naming the key) when it does not; None when it
    does or there is no [schedule]; a sentence when it could not be asked.
    """
    if not settings.schedule.enabled:
        return None
    expression = settings.schedule.on_calendar
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        return (f"systemd-analyze is not installed, so [schedule] on_calendar {show(expression)!r} was not "
                "checked; without systemd, schedule `mftui backup --scheduled --if-changed` with cron "
                "(see docs/HISTORY.md)")
    try:
        proc = subprocess.run([analyze, "calendar", expression], capture_output=True, text=True, timeout=30,
                              stdin=subprocess.DEVNULL)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"systemd-analyze could not be run ({show(str(exc))}), so [schedule] on_calendar was not checked"
    if proc.returncode != 0:
        where = settings.source or "the settings"
        said = show(proc.stderr.strip().splitlines()[-1] if proc.stderr.strip() else "no reason given")
        raise SettingsError(f"{where}: schedule.on_calendar: {show(expression)!r} is not a time systemd "
                            f"understands ({said}); write e.g. \"daily\", \"*-*-* 03:00:00\" or "
                            "\"Mon..Fri 02:30\"; nothing was written")
    return None


def install_units(directory: Path, settings: Settings, product_unit: str = "mobiusflow.service") -> list[Path]:
    """Write the units into ``directory`` (each to a temporary file, then renamed); the paths written."""
    written = []
    for name, text in unit_texts(settings, product_unit).items():
        path = directory / name
        tmp = directory / f".{name}.tmp"
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW | os.O_CLOEXEC, 0o644)
            try:
                os.write(fd, text.encode())
                os.fsync(fd)
            finally:
                os.close(fd)
            os.chmod(tmp, 0o644)
            os.replace(tmp, path)
        except OSError as exc:
            raise MftuiError(f"cannot write {path} ({exc.strerror}); run as root for /etc/systemd/system, or "
                             "give --dir a folder you can write") from None
        written.append(path)
    return written
