"""Download Zip's core: the scp line and the verified copy to a folder."""

from __future__ import annotations

import errno
import os
import tempfile
from pathlib import Path

import pytest

from mftui.tui import download
from mftui.tui.download import CopyError, copy_verified, scp_line


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


def test_read_only_folder(archive: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    usb = tmp_path / "usb"
    usb.mkdir()
    monkeypatch.setattr(download.os, "access", lambda *_args: False)  # root ignores mode bits
    with pytest.raises(CopyError, match="cannot be written"):
        copy_verified(archive, usb)


def test_read_only_medium(archive: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    usb = tmp_path / "usb"
    usb.mkdir()

    def read_only(*_args: object, **_kwargs: object) -> tuple[int, str]:
        raise OSError(errno.EROFS, "Read-only file system")

    monkeypatch.setattr(tempfile, "mkstemp", read_only)
    with pytest.raises(CopyError, match="read-only medium"):
        copy_verified(archive, usb)


def test_a_full_medium_leaves_nothing_behind(archive: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    usb = tmp_path / "usb"
    usb.mkdir()
    real_fsync = os.fsync

    def full(fd: int) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(download.os, "fsync", full)
    with pytest.raises(CopyError, match="is full"):
        copy_verified(archive, usb)
    monkeypatch.setattr(download.os, "fsync", real_fsync)
    assert list(usb.iterdir()) == []


def test_a_copy_that_reads_back_wrong_is_removed(
    archive: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    usb = tmp_path / "usb"
    usb.mkdir()
    real = download.sha256_of
    monkeypatch.setattr(download, "sha256_of", lambda path: "0" * 64 if path.parent == usb else real(path))
    with pytest.raises(CopyError, match="does not match the original"):
        copy_verified(archive, usb)
    assert list(usb.iterdir()) == []
