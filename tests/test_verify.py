"""verify: every damaged archive fails with a reason that names what is wrong."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import zipfile
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from mftui.archive.reader import read_info, verify
from mftui.archive.writer import create_backup
from mftui.errors import ArchiveError
from mftui.settings import Settings

NOW = datetime(2026, 11, 26, 9, 0, 0, tzinfo=UTC)


@pytest.fixture
def good(settings: Settings) -> Path:
    return create_backup(settings, "good", now=NOW).path


def rewrite(src: Path, dst: Path, edit_meta: Callable[[dict[str, Any]], None] | None = None,
            drop: str | None = None, add: tuple[str, bytes] | None = None) -> Path:
    """Copy an archive entry by entry, optionally editing backup.json, dropping or adding an entry.

    An added entry goes before backup.json, which stays last as the writer puts it.
    """
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zout:
        for item in zin.infolist():
            if item.filename == drop:
                continue
            data = zin.read(item)
            if item.filename == "backup.json":
                if add:
                    zout.writestr(add[0], add[1])
                if edit_meta:
                    meta = json.loads(data)
                    edit_meta(meta)
                    data = json.dumps(meta).encode()
            zout.writestr(item, data)
    return dst


def data_offset(path: Path, name: str) -> tuple[int, int]:
    """(offset, length) of an entry's stored bytes, read from its local header."""
    with zipfile.ZipFile(path) as zf:
        info = zf.getinfo(name)
    raw = path.read_bytes()
    off = info.header_offset
    name_len = int.from_bytes(raw[off + 26 : off + 28], "little")
    extra_len = int.from_bytes(raw[off + 28 : off + 30], "little")
    return off + 30 + name_len + extra_len, info.compress_size


def test_good_archive_verifies(good: Path) -> None:
    info = verify(good)
    assert info.name == "good" and len(info.files) > 10


@pytest.mark.parametrize("entry", ["config/hub/psk.json", "config/certs/ca.pem"])
def test_one_flipped_byte_names_the_entry(good: Path, entry: str) -> None:
    raw = bytearray(good.read_bytes())
    off, length = data_offset(good, entry)
    raw[off + length // 2] ^= 0x01
    good.write_bytes(bytes(raw))
    with pytest.raises(ArchiveError) as err:
        verify(good)
    assert entry in str(err.value)


def test_truncated_archive_is_refused(good: Path) -> None:
    raw = good.read_bytes()
    good.write_bytes(raw[: len(raw) // 2])
    with pytest.raises(ArchiveError, match="truncated|damaged"):
        verify(good)


def test_not_a_zip_is_refused(tmp_path: Path) -> None:
    p = tmp_path / "notes.zip"
    p.write_text("this is not a zip\n")
    with pytest.raises(ArchiveError, match="not a readable zip|not a zip"):
        verify(p)


def test_checksum_in_manifest_disagrees(good: Path, tmp_path: Path) -> None:
    def edit(meta: dict[str, Any]) -> None:
        entry = next(f for f in meta["files"] if f["path"] == "hub/hub.json")
        entry["sha256"] = "0" * 64

    bad = rewrite(good, tmp_path / "bad.zip", edit)
    with pytest.raises(ArchiveError, match=r"hub/hub\.json.*checksum"):
        verify(bad)


def test_size_in_manifest_disagrees(good: Path, tmp_path: Path) -> None:
    def edit(meta: dict[str, Any]) -> None:
        next(f for f in meta["files"] if f["path"] == "network/network.json")["size"] += 1

    with pytest.raises(ArchiveError, match=r"network/network\.json"):
        verify(rewrite(good, tmp_path / "bad.zip", edit))


def test_entry_missing_from_archive(good: Path, tmp_path: Path) -> None:
    with pytest.raises(ArchiveError, match=r"config/users/users\.json"):
        verify(rewrite(good, tmp_path / "bad.zip", drop="config/users/users.json"))


def test_entry_missing_from_manifest(good: Path, tmp_path: Path) -> None:
    with pytest.raises(ArchiveError, match=r"config/hub/extra\.json"):
        verify(rewrite(good, tmp_path / "bad.zip", add=("config/hub/extra.json", b"{}")))


def test_newer_format_is_refused_with_the_version(good: Path, tmp_path: Path) -> None:
    def edit(meta: dict[str, Any]) -> None:
        meta["format_version"] = 7
        meta["tool"]["version"] = "9.1.0"

    bad = rewrite(good, tmp_path / "future.zip", edit)
    with pytest.raises(ArchiveError, match=r"format version 7 \(made by mftui 9\.1\.0\).*Update mftui"):
        read_info(bad)


def test_cli_verify_exit_codes(good: Path, tmp_path: Path, config_file: Path) -> None:
    def run(path: Path) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "mftui", "--config", str(config_file), "verify", str(path)],
                              capture_output=True, text=True)

    ok = run(good)
    assert ok.returncode == 0 and "ok" in ok.stdout
    bad = rewrite(good, tmp_path / "bad.zip", drop="config/hub/psk.json")
    failed = run(bad)
    assert failed.returncode == 1
    assert "config/hub/psk.json" in failed.stderr and "Traceback" not in failed.stderr


def mftui(config_file: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "mftui", "--config", str(config_file), *args], capture_output=True,
                          text=True, timeout=60)


@pytest.mark.parametrize(
    ("edit", "reason"),
    [
        (lambda m: m.update(created_at="0001-01-01T00:00:00+01:00"), "created_at 0001-01-01T00:00:00+01:00 cannot"),
        (lambda m: m.update(created_at="9999-12-31T23:59:59-14:00"), "created_at 9999-12-31T23:59:59-14:00 cannot"),
        (lambda m: m.update(name="site\ud800"), "name holds a lone surrogate (U+D800)"),
        (lambda m: m["instance"].update(hostname="\x1b]0;owned\x07host"), "instance.hostname holds the control"),
        (lambda m: m.update(format_version="1"), 'format_version must be a whole number, not "1"'),
    ],
    ids=["created-before-year-1", "created-after-9999", "surrogate-name", "escape-in-hostname", "version-as-text"],
)
def test_unreadable_values_are_a_sentence_in_every_command(
    good: Path, settings: Settings, config_file: Path, edit: Callable[[dict[str, Any]], None], reason: str
) -> None:
    """inspect, verify and list --json of such a backup: the sentence, never a traceback (issue 8, item 10)."""
    bad = rewrite(good, settings.backups_dir / "bad.zip", edit)
    good.unlink()
    for args in (["inspect", str(bad)], ["verify", str(bad)], ["restore", str(bad), "--yes", "--no-reboot"]):
        done = mftui(config_file, *args)
        assert done.returncode == 1, (args, done.stdout, done.stderr)
        assert reason in done.stderr, (args, done.stderr)
        assert "Traceback" not in done.stderr and len(done.stderr.strip().splitlines()) == 1, done.stderr
    listed = mftui(config_file, "list", "--json")
    assert listed.returncode == 0 and "Traceback" not in listed.stderr, listed.stderr
    (row,) = [r for r in json.loads(listed.stdout) if r.get("path") == str(bad)]
    assert row["ok"] is False and reason in row["problem"]


@pytest.mark.parametrize(
    ("key", "value", "reason"),
    [
        ("hostname", "site\x1b[2J", "the hostname in instance.json holds the control character U+001B"),
        ("product", "Mobius\u202eFlow", "the product in instance.json holds the control character U+202E"),
        ("hub_id", "\ud8003fa2c1", "the hub_id in instance.json holds a lone surrogate (U+D800)"),
    ],
)
def test_an_identity_no_restore_accepts_is_not_backed_up(
    settings: Settings, config_file: Path, key: str, value: str, reason: str
) -> None:
    """The writer refuses what the reader refuses: a backup is never made that its restore would refuse."""
    identity = settings.instance_root / "instance.json"
    data = json.loads(identity.read_text())
    data[key] = value
    identity.write_text(json.dumps(data))
    done = mftui(config_file, "backup", "--name", "x")
    assert done.returncode == 1 and reason in done.stderr, done.stderr
    assert "Traceback" not in done.stderr
    assert not settings.backups_dir.exists() or not [p for p in settings.backups_dir.iterdir() if p.suffix == ".zip"]


@pytest.mark.skipif(shutil.which("zip") is None, reason="needs Info-ZIP's zip")
def test_a_zip_of_another_tool_is_not_an_mftui_backup_in_every_command(
    settings: Settings, config_file: Path, tmp_path: Path
) -> None:
    """`zip -r` of the instance: inspect, verify and restore all say first that it is no mftui backup."""
    plain = tmp_path / "plain.zip"
    subprocess.run(["zip", "-qr", str(plain), "."], cwd=settings.instance_root, check=True)
    subprocess.run(["zip", "-qz", str(plain)], input=b"a comment\n", check=True)
    for args in (["inspect", str(plain)], ["verify", str(plain)], ["restore", str(plain), "--yes", "--no-reboot"]):
        done = mftui(config_file, *args)
        assert done.returncode == 1, done.stderr
        assert "this zip is not an mftui backup: it has no backup.json" in done.stderr, (args, done.stderr)


def test_an_instance_json_too_large_to_compare_is_not_backed_up(settings: Settings, config_file: Path) -> None:
    identity = settings.instance_root / "instance.json"
    identity.write_text(identity.read_text().rstrip() + " " * 300_000 + "\n")
    done = mftui(config_file, "backup", "--name", "x")
    assert done.returncode == 1 and "instance.json is 300,1" in done.stderr and "no backup was made" in done.stderr
    assert "Traceback" not in done.stderr


def test_a_real_backup_restores_with_its_identity_checked(settings: Settings, config_file: Path) -> None:
    """The writer's backup.json identity is its config/instance.json's, also when instance.json names no product."""
    identity = settings.instance_root / "instance.json"
    for text in (identity.read_text(), '{"hub_id": 7, "hostname": ["a"]}', "not json", "[1, 2]"):
        identity.write_text(text)
        made = mftui(config_file, "backup", "--name", "x", "--json")
        assert made.returncode == 0, made.stderr
        path = json.loads(made.stdout)["path"]
        assert verify(Path(path)).name == "x"
        checked = mftui(config_file, "verify", path)
        assert checked.returncode == 0, checked.stderr
