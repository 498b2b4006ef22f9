"""Backups: names, the archive's contents checked independently, safety of the write."""

from __future__ import annotations

import hashlib
import json
import os
import resource
import signal
import socket
import stat
import subprocess
import sys
import tempfile
import zipfile
from datetime import UTC, datetime
from pathlib import Path

import pytest

from mftui.archive.names import backup_file_name, name_problem, safe_name
from mftui.archive.writer import create_backup
from mftui.errors import BackupError, LockBusy
from mftui.lock import instance_lock
from mftui.settings import Settings

NOW = datetime(2026, 11, 26, 14, 30, 5, tzinfo=UTC)


def config_files(root: Path) -> dict[str, bytes]:
    out = {}
    for p in sorted(root.rglob("*")):
        rel = p.relative_to(root).as_posix()
        if p.is_file() and rel.split("/")[0] not in ("logs", "cache", "historian"):
            out[rel] = p.read_bytes()
    return out


@pytest.mark.parametrize(
    ("typed", "safe"),
    [
        ("before firmware 4.3", "before-firmware-4.3"),
        ("Réseau été / bâtiment B", "Reseau-ete-batiment-B"),
        ("../../etc/passwd", "etc-passwd"),
        ("a\\b:c*d?e", "a-b-c-d-e"),
        ("   ", "backup"),
        ("", "backup"),
        ("日本語", "backup"),
        ("x" * 100, "x" * 64),
        ("-.hidden.-", "hidden"),
    ],
)
def test_names_are_made_safe_and_readable(typed: str, safe: str) -> None:
    assert safe_name(typed) == safe


def test_file_name_appends_sortable_utc_time() -> None:
    assert backup_file_name("site A", NOW) == "site-A_2026-11-26T143005Z.zip"
    assert backup_file_name("site A", NOW, 2) == "site-A_2026-11-26T143005Z-2.zip"
    assert name_problem("x" * 65) and "64" in name_problem("x" * 65)
    assert name_problem("tab\there")
    assert name_problem("ordinary name") is None


def test_round_trip_read_with_the_standard_library(settings: Settings) -> None:
    result = create_backup(settings, "before update", now=NOW)
    assert result.path.name == "before-update_2026-11-26T143005Z.zip"
    assert stat.S_IMODE(result.path.stat().st_mode) == 0o600
    live = config_files(settings.instance_root)
    with zipfile.ZipFile(result.path) as zf:
        assert zf.testzip() is None
        meta = json.loads(zf.read("backup.json"))
        names = set(zf.namelist())
        assert names == {"backup.json"} | {"config/" + p for p in live}
        for path, data in live.items():
            assert zf.read("config/" + path) == data
    assert meta["format"] == "mftui-backup" and meta["format_version"] == 1
    assert meta["name"] == "before-update"
    assert datetime.fromisoformat(meta["created_at"]) == NOW
    assert meta["instance"]["id"] == "3fa2c1" and meta["instance"]["product"] == "MobiusFlow"
    by_path = {f["path"]: f for f in meta["files"]}
    assert set(by_path) == set(live)
    for path, data in live.items():
        assert by_path[path]["size"] == len(data)
        assert by_path[path]["sha256"] == hashlib.sha256(data).hexdigest()
    assert by_path["certs/hub.key"]["mode"] == "0600"
    assert sum(meta["components"].values()) == len(live)
    assert result.info.total_bytes == sum(len(d) for d in live.values())
    assert not [p for p in result.path.parent.iterdir() if p.name.startswith(".")]


def test_two_backups_in_the_same_second_never_overwrite(settings: Settings) -> None:
    a = create_backup(settings, "same", now=NOW)
    b = create_backup(settings, "same", now=NOW)
    assert a.path != b.path and a.path.exists() and b.path.exists()
    assert b.path.name == "same_2026-11-26T143005Z-2.zip"


def test_empty_name_gets_a_default(settings: Settings) -> None:
    assert create_backup(settings, "  ", now=NOW).path.name == "backup_2026-11-26T143005Z.zip"


def test_symlink_in_configuration_is_refused_by_name(settings: Settings) -> None:
    os.symlink("/etc/hostname", settings.instance_root / "hub" / "link.json")
    with pytest.raises(BackupError, match=r"hub/link\.json is a symbolic link") as err:
        create_backup(settings, "x", now=NOW)
    assert "exclude" in str(err.value)
    assert not settings.backups_dir.exists() or not list(settings.backups_dir.iterdir())


def test_socket_in_configuration_is_refused(settings: Settings) -> None:
    with tempfile.TemporaryDirectory(dir="/tmp") as short:  # AF_UNIX paths are short
        root = Path(short)
        (root / "services").mkdir()
        sock = socket.socket(socket.AF_UNIX)
        sock.bind(str(root / "services" / "s"))
        try:
            s = Settings(instance_root=root, backups_dir=settings.backups_dir)
            with pytest.raises(BackupError, match=r"services/s is a special file"):
                create_backup(s, "x", now=NOW)
        finally:
            sock.close()


def test_excluded_links_are_ignored(settings: Settings) -> None:
    os.symlink("/nowhere", settings.instance_root / "logs" / "current.log")
    assert create_backup(settings, "x", now=NOW).path.exists()


def test_file_changing_during_backup_is_reported(settings: Settings) -> None:
    victim = settings.instance_root / "users" / "users.json"  # last in path order
    calls = []

    def progress(done: int, total: int, what: str) -> None:
        if not calls:
            with victim.open("a") as fh:
                fh.write(" ")
        calls.append(what)

    with pytest.raises(BackupError, match=r"users/users\.json changed while it was being backed up"):
        create_backup(settings, "x", now=NOW, progress=progress)
    assert not list(settings.backups_dir.iterdir())


def test_lock_refuses_a_second_backup_clearly(settings: Settings, config_file: Path) -> None:
    with instance_lock(settings, "restore"):
        with pytest.raises(LockBusy, match="another restore .* is in progress"):
            create_backup(settings, "x", now=NOW)
    assert create_backup(settings, "x", now=NOW).path.exists()


def test_lock_is_shared_between_processes(settings: Settings, config_file: Path, instance_root: Path) -> None:
    s = Settings(instance_root=instance_root, backups_dir=settings.backups_dir)
    with instance_lock(s, "backup"):
        proc = subprocess.run(
            [sys.executable, "-m", "mftui", "--config", str(config_file), "backup"], capture_output=True, text=True
        )
    assert proc.returncode == 1
    assert "another backup" in proc.stderr and "in progress" in proc.stderr


def _backup_with_file_size_limit(config: str, limit: int) -> None:  # runs in a child process
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # make the write fail with EFBIG instead of killing
    resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
    from mftui.cli import main

    raise SystemExit(main(["--config", config, "backup", "--name", "big"]))


def test_write_failure_leaves_no_partial_archive(config_file: Path, instance_root: Path, tmp_path: Path) -> None:
    (instance_root / "flows" / "big.bin").write_bytes(os.urandom(300_000))
    code = (
        "import sys; sys.path.insert(0, sys.argv[3]); from test_backup import _backup_with_file_size_limit as f;"
        "f(sys.argv[1], int(sys.argv[2]))"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code, str(config_file), "100000", str(Path(__file__).parent)],
        capture_output=True, text=True,
    )
    assert proc.returncode == 1, proc.stderr
    assert "no archive was left behind" in proc.stderr or "full" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert list((tmp_path / "backups").iterdir()) == []


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to drop to another user")
def test_unreadable_file_is_named() -> None:
    # As root every file is readable, so the backup runs as 'nobody' in a child.
    with tempfile.TemporaryDirectory(dir="/tmp") as top:
        top_path = Path(top)
        os.chown(top, 65534, 65534)  # nobody's own folder: the state folder beside the root is made in it
        root = top_path / "inst"
        (root / "hub").mkdir(parents=True)
        (root / "hub" / "hub.json").write_text("{}")
        (root / "hub" / "psk.json").write_text("{}")
        os.chmod(root / "hub" / "psk.json", 0o000)
        for d in (root, root / "hub"):
            os.chmod(d, 0o777)
        (top_path / "backups").mkdir(mode=0o777)
        os.chmod(top_path / "backups", 0o777)
        code = (
            # import first: the interpreter's own files may not be readable by 'nobody'
            "import os, sys; from pathlib import Path; from mftui.settings import Settings;"
            "from mftui.archive.writer import create_backup; from mftui.errors import BackupError\n"
            "os.setgid(65534); os.setuid(65534)\n"
            "try:\n create_backup(Settings(instance_root=Path(sys.argv[1]), backups_dir=Path(sys.argv[2])), 'x')\n"
            "except BackupError as e:\n print(e); raise SystemExit(3)\n"
        )
        env = dict(os.environ, PYTHONPATH=str(Path(__file__).parents[1]))
        proc = subprocess.run(
            [sys.executable, "-c", code, str(root), str(top_path / "backups")],
            capture_output=True, text=True, env=env,
        )
        assert proc.returncode == 3, proc.stderr
        assert "hub/psk.json cannot be read" in proc.stdout
        assert [p.name for p in (top_path / "backups").iterdir()] == []


def test_file_removed_during_backup_says_so(settings: Settings) -> None:
    victim = settings.instance_root / "users" / "users.json"  # last in path order

    def progress(done: int, total: int, what: str) -> None:
        if victim.exists():
            victim.unlink()

    with pytest.raises(BackupError) as err:
        create_backup(settings, "x", now=NOW, progress=progress)
    assert "users/users.json was removed during the backup" in str(err.value)
    assert "permissions" not in str(err.value)
    assert not list(settings.backups_dir.iterdir())


def test_unreadable_folder_is_a_permissions_problem_not_a_file_to_replace(settings: Settings) -> None:
    blocked = settings.instance_root / "flows"
    os.chmod(blocked, 0)
    try:
        # As root a folder with no permission bits is still readable: make it unreadable for real.
        code = (
            "import sys; from pathlib import Path; from mftui.instance import Instance;"
            "from mftui.settings import Settings; from mftui.errors import BackupError\n"
            "import os; os.setgid(65534); os.setuid(65534)\n"
            "try:\n Instance(Settings(instance_root=Path(sys.argv[1]), backups_dir=Path('/nonexistent'))).scan()\n"
            "except BackupError as e:\n print(e)\n"
        )
        os.chmod(settings.instance_root, 0o755)
        for p in settings.instance_root.parents:
            if p == Path("/"):
                break
            os.chmod(p, os.stat(p).st_mode | 0o005)
        proc = subprocess.run([sys.executable, "-c", code, str(settings.instance_root)], capture_output=True,
                              text=True, env=dict(os.environ, PYTHONPATH=str(Path(__file__).parents[1])))
    finally:
        os.chmod(blocked, 0o755)
    assert "flows/ cannot be read" in proc.stdout, proc.stderr
    assert "fix the folder's permissions" in proc.stdout.lower() and "regular file" not in proc.stdout


def test_a_full_backups_folder_says_how_much_is_needed(settings: Settings, tmp_path: Path) -> None:
    disk = tmp_path / "stick"
    disk.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", str(disk)],
                      capture_output=True).returncode != 0:
        pytest.skip("needs root to mount a tmpfs")
    try:
        (settings.instance_root / "flows" / "big.bin").write_bytes(os.urandom(600_000))
        small = Settings(instance_root=settings.instance_root, backups_dir=disk)
        with pytest.raises(BackupError) as err:
            create_backup(small, "x", now=NOW)
        message = str(err.value)
        assert "not enough space in the backups folder" in message and "needs about" in message, message
        assert "free" in message and list(disk.iterdir()) == []
    finally:
        subprocess.run(["umount", str(disk)], check=True)
