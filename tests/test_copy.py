"""Download Zip's core: the scp line and the verified copy to a folder."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from mftui.errors import CopyError
from mftui.transfer import copy
from mftui.transfer.copy import copy_verified, scp_line


@pytest.fixture
def archive(tmp_path: Path) -> Path:
    path = tmp_path / "backups" / "site_2026-11-05T101500Z.zip"
    path.parent.mkdir()
    path.write_bytes(os.urandom(300_000))
    return path


def test_scp_line_uses_the_server_address_of_the_ssh_session(archive: Path) -> None:
    env = {"SSH_CONNECTION": "192.0.2.99 51234 192.0.2.20 22"}
    assert scp_line(archive, env, user="tech") == f"scp tech@192.0.2.20:{archive} ."


def test_scp_line_brackets_an_ipv6_address(archive: Path) -> None:
    env = {"SSH_CONNECTION": "2001:db8::99 51234 2001:db8::20 22"}
    assert scp_line(archive, env, user="tech") == f"scp 'tech@[2001:db8::20]:{archive}' ."


def test_scp_line_quotes_a_path_with_spaces(tmp_path: Path) -> None:
    env = {"SSH_CONNECTION": "192.0.2.99 51234 192.0.2.20 22"}
    line = scp_line(tmp_path / "my backups" / "a.zip", env, user="tech")
    assert line == f"scp 'tech@192.0.2.20:{tmp_path}/my backups/a.zip' ."


def test_no_scp_line_outside_ssh(archive: Path) -> None:
    assert scp_line(archive, {}, user="tech") is None


def test_copy_is_verified_and_atomic(archive: Path, tmp_path: Path) -> None:
    usb = tmp_path / "usb"
    usb.mkdir()
    result = copy_verified(archive, usb)
    assert result.path == usb / archive.name
    assert result.path.read_bytes() == archive.read_bytes()
    assert result.size == archive.stat().st_size
    assert not list(usb.glob(".partial-*"))
    again = copy_verified(archive, usb)  # copying twice is harmless
    assert again.already_there


def test_a_different_file_of_the_same_name_is_not_overwritten(archive: Path, tmp_path: Path) -> None:
    usb = tmp_path / "usb"
    usb.mkdir()
    (usb / archive.name).write_bytes(b"something else")
    with pytest.raises(CopyError, match="already exists and is a different file"):
        copy_verified(archive, usb)
    assert (usb / archive.name).read_bytes() == b"something else"


def test_missing_folder(archive: Path, tmp_path: Path) -> None:
    with pytest.raises(CopyError, match="does not exist; is the USB stick plugged in and mounted"):
        copy_verified(archive, tmp_path / "media" / "usb")


def test_a_file_is_not_a_folder(archive: Path, tmp_path: Path) -> None:
    with pytest.raises(CopyError, match="is not a folder"):
        copy_verified(archive, archive)


@pytest.fixture
def stick(tmp_path: Path) -> Iterator[Callable[..., Path]]:
    """Real small filesystems (tmpfs), mounted as asked: the kernel's own EROFS and ENOSPC."""
    mounted: list[Path] = []

    def mount(size: str = "1m", read_only: bool = False) -> Path:
        top = tmp_path / f"stick{len(mounted)}"
        top.mkdir()
        options = f"size={size}" + (",ro" if read_only else "")
        if subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(top)],
                          capture_output=True).returncode != 0:
            pytest.skip("needs root to mount a tmpfs")
        mounted.append(top)
        return top

    yield mount
    for top in mounted:
        subprocess.run(["umount", str(top)], check=True)


def test_read_only_medium(archive: Path, stick: Callable[..., Path]) -> None:
    usb = stick(read_only=True)
    with pytest.raises(CopyError, match="read-only medium"):
        copy_verified(archive, usb)


def test_a_full_medium_leaves_nothing_behind(archive: Path, stick: Callable[..., Path]) -> None:
    usb = stick(size="128k")  # the archive is 300,000 bytes
    with pytest.raises(CopyError, match="is full"):
        copy_verified(archive, usb)
    assert list(usb.iterdir()) == []


def test_a_copy_that_reads_back_wrong_is_removed(
    archive: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A medium that returns other bytes than were written (no real one here: the read-back is the seam)."""
    usb = tmp_path / "usb"
    usb.mkdir()
    real = copy._sha256
    monkeypatch.setattr(copy, "_sha256", lambda path: "0" * 64 if path.parent == usb else real(path))
    with pytest.raises(CopyError, match="does not match the original"):
        copy_verified(archive, usb)
    assert list(usb.iterdir()) == []


def test_the_command_line_copies_a_backup_to_a_stick(archive: Path, stick: Callable[..., Path],
                                                      tmp_path: Path) -> None:
    import json
    import sys

    usb = stick(size="2m")
    cfg = tmp_path / "c.toml"
    root = tmp_path / "inst"
    root.mkdir()
    (root / "instance.json").write_text("{}")
    cfg.write_text(f'[instance]\nroot = "{root}"\n[backups]\ndir = "{archive.parent}"\n')
    run = [sys.executable, "-m", "mftui", "--config", str(cfg), "copy", str(archive), str(usb), "--json"]
    done = subprocess.run(run, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    assert out["ok"] and (usb / archive.name).read_bytes() == archive.read_bytes() and not out["already_there"]
    full = stick(size="128k")
    refused = subprocess.run([*run[:-2], str(full), "--json"], capture_output=True, text=True, timeout=60)
    assert refused.returncode == 1 and "is full" in json.loads(refused.stdout)["reason"]
    assert list(full.iterdir()) == []
