"""USB sticks: the mounted removable media, their room, and unmounting (real tmpfs mounts, issue 14)."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from mftui.archive.writer import create_backup
from mftui.errors import CopyError
from mftui.settings import Settings
from mftui.transfer.audit import copy_recorded
from mftui.transfer.media import MOUNTS, after_copy, medium_of, removable_media, sync_medium, unmount


@pytest.fixture
def mount(tmp_path: Path) -> Iterator[Callable[..., Path]]:
    """Mount a real tmpfs at ``tmp_path/<where>``; all unmounted after the test."""
    mounted: list[Path] = []

    def do(where: str, size: str = "4m", read_only: bool = False) -> Path:
        top = tmp_path / where
        top.mkdir(parents=True, exist_ok=True)
        options = f"size={size}" + (",ro" if read_only else "")
        if subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(top)], capture_output=True,
                          timeout=30).returncode != 0:
            pytest.skip("needs root to mount a tmpfs")
        mounted.append(top)
        return top

    yield do
    for top in reversed(mounted):
        subprocess.run(["umount", str(top)], capture_output=True, timeout=30)


def test_media_under_the_mount_roots_with_their_room(mount: Callable[..., Path], tmp_path: Path) -> None:
    stick = mount("mnt/stick", size="4m")
    spaced = mount("mnt/my stick", size="2m")  # /proc/self/mounts writes the blank as \040
    udisks = mount("media/tech/SITE-KEY", size="1m")
    mount("mnt/deep/er", size="1m")  # two levels under /mnt: not a medium
    mount("elsewhere", size="1m")
    patterns = (f"{tmp_path}/mnt/*", f"{tmp_path}/media/*/*")
    media = removable_media(patterns)
    assert [m.mount for m in media] == [stick, spaced, udisks]
    first = media[0]
    assert first.total == 4 * 1024 * 1024 and first.free == first.total and first.fstype == "tmpfs"
    assert first.label == "stick" and not first.read_only  # tmpfs has no label: the folder's name
    (stick / "fill").write_bytes(os.urandom(1024 * 1024))
    assert removable_media(patterns)[0].free == 3 * 1024 * 1024
    assert media[1].describe() == f"my stick ({spaced}): 2.0 MiB free of 2.0 MiB"
    assert removable_media((f"{tmp_path}/nowhere/*",)) == []
    assert removable_media(patterns, tmp_path / "no-such-mounts-file") == []


def test_a_read_only_stick_says_so(mount: Callable[..., Path], tmp_path: Path) -> None:
    mount("mnt/locked", size="1m", read_only=True)
    [medium] = removable_media((f"{tmp_path}/mnt/*",))
    assert medium.read_only and medium.describe().endswith(", read-only")


def test_copy_to_a_stick_then_unmount_it(mount: Callable[..., Path], tmp_path: Path, settings: Settings) -> None:
    backup = create_backup(settings, "site").path
    stick = mount("mnt/usb")
    [medium] = removable_media((f"{tmp_path}/mnt/*",))
    result = copy_recorded(settings, backup, stick)
    assert medium_of(result.path, [medium]) == medium and medium_of(tmp_path, [medium]) is None
    assert "safe to unplug once unmounted" in after_copy(medium)
    assert sync_medium(medium) == "usb is synced: everything written to it is on the stick"
    busy = subprocess.Popen(["sleep", "30"], cwd=stick)  # a shell left in the folder keeps it busy
    try:
        with pytest.raises(CopyError, match=r"could not be unmounted \(.*\); close what uses it"):
            unmount(medium)
    finally:
        busy.kill()
        busy.wait(10)
    assert unmount(medium) == "usb is unmounted: safe to unplug"
    assert str(stick) not in MOUNTS.read_text()
    assert removable_media((f"{tmp_path}/mnt/*",)) == []


def test_a_copy_is_recorded_in_the_audit_log(mount: Callable[..., Path], settings: Settings) -> None:
    from mftui.history.audit import read_log

    backup = create_backup(settings, "site").path
    stick = mount("mnt/usb")
    result = copy_recorded(settings, backup, stick)
    with pytest.raises(CopyError):
        copy_recorded(settings, backup, stick / "missing")
    log, problems = read_log(settings)
    entries = [e for e in log if e.action == "copy"]
    assert problems == []
    assert [(e.outcome, e.archive) for e in entries] == [("ok", backup.name), ("failed", backup.name)]
    assert entries[0].sha256 == result.sha256 and entries[0].detail == f"to {result.path}"
    assert entries[1].detail is not None and entries[1].detail.startswith(f"to {stick / 'missing'}: the folder")
