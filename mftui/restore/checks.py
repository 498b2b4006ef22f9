"""The checks a restore makes before it changes anything: the instance folder, the archive against
this unit's settings, and that the file restored is the one that was checked.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from ..archive.validate import Archive
from ..errors import ArchiveError, RestoreError
from ..instance import Instance
from ..settings import Settings
from ..text import show, show_path
from . import fsops


def preflight(settings: Settings, create: bool) -> None:
    """Refuse, before anything is written, an instance folder the swap cannot work on."""
    root = settings.instance_root
    try:
        st = os.lstat(root)
    except FileNotFoundError:
        raise RestoreError(f"the instance folder {root} does not exist; check [instance] root") from None
    if stat.S_ISLNK(st.st_mode):
        raise RestoreError(
            f"the instance root {root} is a symbolic link (to {os.readlink(root)}); set [instance] root to the "
            "real folder so the restore can swap it"
        )
    if not stat.S_ISDIR(st.st_mode):
        raise RestoreError(f"the instance root {root} is not a folder; check [instance] root")
    if fsops.is_mount_point(root):
        raise RestoreError(
            f"the instance root {root} is a mount point, which cannot be swapped; set [instance] root to a "
            "folder inside the mounted volume"
        )
    inside = fsops.mounts_under(root)
    if inside:
        more = f" (and {len(inside) - 1} more)" if len(inside) > 1 else ""
        raise RestoreError(
            f"{show_path(inside[0])}{more} inside the instance is a mount point (its own partition or a bind "
            "mount), which a restore cannot move into the new configuration; stop the product, unmount it, "
            "restore, then mount it again. Nothing was changed"
        )
    if not os.access(root.parent, os.W_OK):
        raise RestoreError(f"cannot write in {root.parent}, where the restore swaps the instance folder "
                           "(run mftui as the user that owns the instance)")
    state = settings.state_dir
    if create:
        try:
            state.mkdir(mode=0o700, exist_ok=True)
        except OSError as exc:
            raise RestoreError(f"cannot create the state folder {state} ({exc.strerror})") from None
    if state.exists() and os.stat(state).st_dev != st.st_dev:
        raise RestoreError(
            f"the state folder {state} is on another filesystem than the instance root {root}; the restore "
            "stages there and must be on the instance's own filesystem to swap atomically"
        )


def check_restorable(settings: Settings, archive: Archive) -> None:
    """Refuse a backup of another product, or with files this unit's settings do not call configuration."""
    info = archive.backup_info
    instance = Instance(settings)
    live = instance.identity()
    if live.product and not info.product:
        raise ArchiveError(
            f"this backup names no product (the unit it was taken on had no instance.json); this unit runs "
            f"{show(live.product)} {show(live.version)}, and a backup restores only onto the product it was "
            "taken from"
        )
    if live.product and info.product.casefold() != live.product.casefold():
        raise ArchiveError(
            f"this backup is of {show(info.product)} {show(info.product_version)} (made by mftui "
            f"{show(info.tool_version)}); this unit runs {show(live.product)} {show(live.version)}, and a backup "
            "restores only onto the product it was taken from"
        )
    for entry in archive.files:
        path = entry.path
        if not instance.includes(path):
            name = "config/" + path
            raise ArchiveError(
                f"the archive is refused: entry {show(name)} is not configuration under this unit's settings "
                "([instance] include and exclude), so a backup made here could not hold it",
                name,
            )


def check_plain_tree(top: Path) -> None:
    """Refuse a tree to install that holds what no backup holds: links, devices, pipes, sockets."""
    for dirpath, dirnames, filenames in os.walk(top):
        for name in dirnames + filenames:
            path = os.path.join(dirpath, name)
            mode = os.lstat(path).st_mode
            if stat.S_ISDIR(mode) or stat.S_ISREG(mode):
                continue
            what = "a symbolic link" if stat.S_ISLNK(mode) else "a special file (device, pipe or socket)"
            rel = os.path.relpath(path, top)
            raise RestoreError(
                f"the previous configuration is not put back: {show_path(rel)} in it is {what}, which no backup "
                f"holds and mftui never installs; check who changed {show_path(top)}, and restore a backup instead"
            )
