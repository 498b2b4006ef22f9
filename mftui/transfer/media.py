"""USB sticks and other removable media that are mounted: where Download Zip copies, where Upload Zip looks.

A medium is a mount point one level under ``/media``, ``/mnt``, or as
udisks mounts them (``/media/<user>/<label>``, ``/run/media/<user>/<label>``),
read from ``/proc/self/mounts``; its label from ``lsblk`` when there is one.
After a copy (fsync'ed and read back by copy.py) the data is on the stick;
unmounting first (``udisksctl`` or ``umount``) makes unplugging certain.
"""

from __future__ import annotations

import fnmatch
import json
import os
import shutil
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from ..errors import CopyError
from ..mounts import unescape
from ..text import show, show_path
from ..wording import human_size

MOUNT_PATTERNS: tuple[str, ...] = ("/media/*", "/media/*/*", "/run/media/*/*", "/mnt/*")
MOUNTS = Path("/proc/self/mounts")
_NOT_MEDIA = frozenset({"autofs", "proc", "sysfs", "devpts", "cgroup", "cgroup2", "overlay", "squashfs"})


@dataclass(frozen=True)
class Medium:
    """One mounted medium: where, what device, its label, and its room."""

    mount: Path
    device: str
    fstype: str
    label: str
    free: int
    total: int
    read_only: bool

    def describe(self) -> str:
        """``STICK (/media/usb): 3.2 GiB free of 7.5 GiB``, escaped (a label is anyone's text)."""
        ro = ", read-only" if self.read_only else ""
        return (f"{show(self.label, limit=32)} ({show_path(self.mount)}): {human_size(self.free)} free of "
                f"{human_size(self.total)}{ro}")


def _matches(mount: str, patterns: Sequence[str]) -> bool:
    """One ``*`` is one folder name: ``/media/*`` holds /media/usb, not /media/tech/usb."""
    parts = mount.rstrip("/").split("/")
    return any(len(p.split("/")) == len(parts) and all(fnmatch.fnmatchcase(a, b) for a, b in
                                                         zip(parts, p.split("/"), strict=True)) for p in patterns)


def _labels() -> dict[str, str]:
    """Mount point -> filesystem label, from ``lsblk -J`` when it is there (empty otherwise)."""
    if shutil.which("lsblk") is None:
        return {}
    try:
        done = subprocess.run(["lsblk", "-J", "-o", "NAME,LABEL,MOUNTPOINT"], capture_output=True, text=True,
                              timeout=5, check=False)
        devices = json.loads(done.stdout).get("blockdevices", [])
    except (OSError, subprocess.TimeoutExpired, ValueError, AttributeError):
        return {}
    found: dict[str, str] = {}
    stack = list(devices) if isinstance(devices, list) else []
    while stack:
        device = stack.pop()
        if not isinstance(device, dict):
            continue
        stack.extend(device.get("children") or [])
        if device.get("mountpoint") and device.get("label"):
            found[str(device["mountpoint"])] = str(device["label"])
    return found


def removable_media(patterns: Sequence[str] = MOUNT_PATTERNS, mounts: Path = MOUNTS) -> list[Medium]:
    """The media mounted where removable media are mounted, in mount order; [] when none (or unreadable)."""
    try:
        table = mounts.read_text(errors="replace").splitlines()
    except OSError:
        return []
    labels: dict[str, str] | None = None
    found: list[Medium] = []
    for row in table:
        fields = row.split()
        if len(fields) < 4 or fields[2] in _NOT_MEDIA:
            continue
        mount = unescape(fields[1])
        if not _matches(mount, patterns) or any(m.mount == Path(mount) for m in found):
            continue
        try:
            room = os.statvfs(mount)
        except OSError:
            continue  # gone meanwhile, or not ours to look at
        if labels is None:
            labels = _labels()
        label = labels.get(mount) or Path(mount).name
        found.append(Medium(Path(mount), unescape(fields[0]), fields[2], label, room.f_bavail * room.f_frsize,
                            room.f_blocks * room.f_frsize, "ro" in fields[3].split(",")))
    return found


def medium_of(path: Path, media: Sequence[Medium]) -> Medium | None:
    """The medium that holds ``path`` (a folder on it, or the file copied there), or None."""
    resolved = Path(os.path.abspath(path))
    best = [m for m in media if resolved == m.mount or m.mount in resolved.parents]
    return max(best, key=lambda m: len(m.mount.parts)) if best else None


def after_copy(medium: Medium) -> str:
    """What to say about unplugging once a copy to ``medium`` was fsync'ed and read back."""
    return (f"The copy is on {show(medium.label, limit=32)} (written through and read back): safe to unplug once "
            "unmounted; unmount it first to be certain")


def sync_medium(medium: Medium) -> str:
    """Flush everything written to the medium (``syncfs``); one sentence saying it was."""
    from ..restore.fsops import sync_filesystem

    try:
        sync_filesystem(medium.mount)
    except OSError as exc:
        raise CopyError(f"{show_path(medium.mount)} could not be synced ({exc.strerror or exc}); is the stick "
                        "still plugged in?") from None
    return f"{show(medium.label, limit=32)} is synced: everything written to it is on the stick"


def unmount(medium: Medium) -> str:
    """Sync, then unmount with ``udisksctl`` (for a /dev device) or ``umount``; one sentence, or CopyError."""
    sync_medium(medium)
    tries: list[list[str]] = []
    if shutil.which("udisksctl") and medium.device.startswith("/dev/"):
        tries.append(["udisksctl", "unmount", "--no-user-interaction", "-b", medium.device])
    if shutil.which("umount"):
        tries.append(["umount", str(medium.mount)])
    said = "neither udisksctl nor umount is installed"
    for argv in tries:
        try:
            done = subprocess.run(argv, capture_output=True, text=True, timeout=30, check=False,
                                  stdin=subprocess.DEVNULL)
        except (OSError, subprocess.TimeoutExpired) as exc:
            said = str(exc)
            continue
        if done.returncode == 0:
            return f"{show(medium.label, limit=32)} is unmounted: safe to unplug"
        said = (done.stderr.strip().splitlines() or [f"{argv[0]} failed"])[-1]
    raise CopyError(f"{show_path(medium.mount)} could not be unmounted ({show(said, limit=160)}); close what uses "
                    "it (a shell in that folder) and try again, or run sync before unplugging")
