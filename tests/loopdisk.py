"""A throwaway ext4 on a loop device, for power-cut tests (shared by test_power_cut and test_trial_power_cut).

Mounted ``commit=600,noauto_da_alloc``: no journal commit and no
rename-triggered flush but the ones the code under test asks for. Copying
the image file while the writer is paused gives what reached the "disk", not
what sat in the page cache: what a power cut leaves.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

OPTIONS = "loop,commit=600,noauto_da_alloc"


def run(*cmd: str) -> None:
    subprocess.run(cmd, check=True, capture_output=True)


def new_ext4(image: Path, mnt: Path, mb: int = 64) -> None:
    """Make an empty ext4 image and mount it at ``mnt``; skip the test where that cannot be done here."""
    if os.geteuid() != 0 or shutil.which("mkfs.ext4") is None:
        pytest.skip("needs root and mkfs.ext4 for a loop-mounted filesystem")
    mnt.mkdir(exist_ok=True)
    with open(image, "wb") as fh:
        fh.truncate(mb * 1024 * 1024)
    run("mkfs.ext4", "-q", "-F", str(image))
    try:
        mount(image, mnt)
    except subprocess.CalledProcessError:
        pytest.skip("cannot mount a loop device here")


def mount(image: Path, mnt: Path) -> None:
    run("mount", "-o", OPTIONS, str(image), str(mnt))


def umount(mnt: Path) -> None:
    run("umount", str(mnt))
