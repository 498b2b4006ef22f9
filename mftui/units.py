"""The systemd units mftui ships, written by ``mftui install-units [--dir DIR]``.

- ``mftui-recover.service``: a oneshot early at boot, ordered before the
  product's own service, that runs ``mftui status``; like every mftui
  command it first finishes or rolls back a restore (or a put back) that a
  power cut interrupted, so the product never reads a half-done configuration.
- ``mftui-watch.service``: ``mftui watch``, after the recovery unit; it
  watches a trial restore and exits when there is none. Restarted only when
  killed by a signal (the trial record counts put back attempts, so a
  watcher that keeps dying cannot loop).

The command lines name this Python and this settings file, so the units run
the mftui that wrote them, on the same instance.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from .errors import MftuiError
from .settings import Settings

RECOVER_UNIT = "mftui-recover.service"
WATCH_UNIT = "mftui-watch.service"


def exec_line(settings: Settings, command: str) -> str:
    """``ExecStart=`` value: this Python running mftui, with this settings file (quoted for systemd)."""
    argv = [sys.executable, "-m", "mftui"]
    if settings.source is not None:
        argv += ["--config", str(settings.source.resolve())]
    argv.append(command)
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
    return {RECOVER_UNIT: recover, WATCH_UNIT: watch}


def install_units(directory: Path, settings: Settings, product_unit: str = "mobiusflow.service") -> list[Path]:
    """Write both units into ``directory`` (each to a temporary file, then renamed); the paths written."""
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
