"""The audit log: one fsync'ed JSON line per action, 0600, rotated at 1 MiB keeping 5, never fatal."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from mftui.history import audit
from mftui.settings import Settings
from mftui.state import checked_state_dir


def log_lines(settings: Settings, name: str = "audit.log") -> list[dict[str, object]]:
    return [json.loads(line) for line in (settings.state_dir / name).read_text().splitlines()]


def test_a_line_says_what_who_and_where(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SUDO_USER", "tech1")
    monkeypatch.setenv("SSH_CONNECTION", "10.1.2.3 51000 10.0.0.5 22")
    archive = settings.backups_dir / "site_20261129T120000Z.zip"
    assert audit.record(settings, "restore", "ok", archive=archive, sha256="ab" * 32,
                        changes={"added": 1, "changed": 2, "removed": 0}) is None
    [line] = log_lines(settings)
    assert line["action"] == "restore" and line["outcome"] == "ok"
    assert line["archive"] == "site_20261129T120000Z.zip" and line["sha256"] == "ab" * 32
    assert line["changes"] == {"added": 1, "changed": 2, "removed": 0}
    assert line["user"] == "tech1" and line["where"] == "ssh from 10.1.2.3"
    assert str(line["time"]).endswith("Z")
    assert stat.S_IMODE((settings.state_dir / "audit.log").stat().st_mode) == 0o600


def test_without_ssh_or_sudo_it_names_the_login_and_no_terminal(settings: Settings,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SUDO_USER", raising=False)
    monkeypatch.delenv("SSH_CONNECTION", raising=False)
    code = ("import sys; from pathlib import Path; from mftui.settings import Settings;"
            "from mftui.history import audit;"
            f"s = Settings(instance_root=Path({str(settings.instance_root)!r}), backups_dir=Path('/nonexistent'));"
            "sys.exit(audit.record(s, 'backup', 'ok') is not None)")
    subprocess.run([sys.executable, "-c", code], check=True, stdin=subprocess.DEVNULL,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    [line] = log_lines(settings)
    assert line["where"] == "no terminal"
    assert line["user"]  # the effective user's name: there is no login terminal


def test_it_rotates_at_one_mebibyte_keeping_five(settings: Settings) -> None:
    state = checked_state_dir(settings, create=True)
    assert state is not None
    for n in range(1, 6):
        (state / f"audit.log.{n}").write_text(f'{{"rotated": {n}}}\n')
        (state / f"audit.log.{n}").chmod(0o600)
    (state / "audit.log").write_bytes(b"x" * (audit.ROTATE_AT - 10) + b"\n")
    (state / "audit.log").chmod(0o600)
    assert audit.record(settings, "prune", "ok") is None
    assert [line["action"] for line in log_lines(settings)] == ["prune"]
    assert (state / "audit.log.1").stat().st_size == audit.ROTATE_AT - 9  # the full one, whole
    assert (state / "audit.log.2").read_text() == '{"rotated": 1}\n'
    assert (state / "audit.log.5").read_text() == '{"rotated": 4}\n'  # the oldest (5) dropped
    assert not (state / "audit.log.6").exists()


def test_a_link_is_never_followed_and_the_caller_gets_one_sentence(settings: Settings, tmp_path: Path) -> None:
    state = checked_state_dir(settings, create=True)
    assert state is not None
    victim = tmp_path / "victim"
    victim.write_text("precious\n")
    (state / "audit.log").symlink_to(victim)
    problem = audit.record(settings, "restore", "ok")
    assert problem is not None and "audit log was not written" in problem and "symbolic link" in problem
    assert victim.read_text() == "precious\n"


def test_an_unusable_state_folder_does_not_raise(settings: Settings) -> None:
    settings.state_dir.write_text("not a folder")
    problem = audit.record(settings, "restore", "ok")
    assert problem is not None and problem.startswith("the audit log was not written")


def test_damaged_lines_are_skipped_and_reported_with_file_and_line(settings: Settings) -> None:
    assert audit.record(settings, "backup", "ok") is None
    with open(settings.state_dir / "audit.log", "a") as fh:
        fh.write('{"time": "2026-01-01T00:00:00Z", "act\n')  # cut by a kill -9
        fh.write("[1, 2]\n")
    assert audit.record(settings, "delete", "ok") is None
    entries, problems = audit.read_log(settings)
    assert [e.action for e in entries] == ["backup", "delete"]
    assert problems == ["audit.log line 2 is damaged and was skipped", "audit.log line 3 is damaged and was skipped"]


def test_entries_come_oldest_first_across_rotated_files_and_since_filters(settings: Settings) -> None:
    old = audit.make_entry("backup", "ok", now=datetime(2026, 1, 1, tzinfo=UTC))
    newer = audit.make_entry("prune", "ok", now=datetime(2026, 6, 1, tzinfo=UTC))
    audit.append_entry(settings, old)
    os.rename(settings.state_dir / "audit.log", settings.state_dir / "audit.log.2")
    audit.append_entry(settings, newer)
    assert audit.record(settings, "pin", "ok") is None
    entries, problems = audit.read_log(settings)
    assert [e.action for e in entries] == ["backup", "prune", "pin"] and problems == []
    entries, _ = audit.read_log(settings, since=datetime(2026, 3, 1))
    assert [e.action for e in entries] == ["prune", "pin"]
    assert entries[0].to_json()["time"] == "2026-06-01T00:00:00.000Z"


def test_writers_in_parallel_never_interleave(settings: Settings) -> None:
    code = ("from pathlib import Path; from mftui.settings import Settings; from mftui.history import audit;"
            f"s = Settings(instance_root=Path({str(settings.instance_root)!r}), backups_dir=Path('/nonexistent'));"
            "[audit.record(s, 'backup', 'ok', detail='d' * 3000) for _ in range(40)]")
    procs = [subprocess.Popen([sys.executable, "-c", code]) for _ in range(4)]
    assert [p.wait() for p in procs] == [0, 0, 0, 0]
    entries, problems = audit.read_log(settings)
    assert len(entries) == 160 and problems == []


def run_mftui(config: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "mftui", "--config", str(config), *args], capture_output=True,
                          text=True, timeout=60, stdin=subprocess.DEVNULL, env=env)


def test_the_log_command_shows_entries_and_reports_damaged_lines(settings: Settings, config_file: Path) -> None:
    audit.append_entry(settings, audit.make_entry("backup", "ok", archive=Path("a_1.zip"),
                                                  now=datetime(2026, 1, 1, tzinfo=UTC)))
    with open(settings.state_dir / "audit.log", "a") as fh:
        fh.write("garbage\n")
    audit.append_entry(settings, audit.make_entry("restore", "ok", archive=Path("b\x1b[31m.zip"),
                                                  changes={"added": 1, "changed": 2, "removed": 3},
                                                  now=datetime(2026, 6, 1, tzinfo=UTC)))
    out = run_mftui(config_file, "log")
    assert out.returncode == 0
    lines = out.stdout.splitlines()
    assert lines[0].startswith("2026-01-01 00:00:00.000Z  backup  ok  a_1.zip  by ")
    assert "restore  ok  b\\x1b[31m.zip  added 1, changed 2, removed 3  by " in lines[1]
    assert "\x1b" not in out.stdout
    assert "mftui: audit.log line 2 is damaged and was skipped" in out.stderr
    data = json.loads(run_mftui(config_file, "log", "--json", "--since", "2026-03-01").stdout)
    assert data["ok"] is True and [e["action"] for e in data["entries"]] == ["restore"]
    assert data["problems"] == ["audit.log line 2 is damaged and was skipped"]


def test_a_bad_since_is_a_usage_error_with_json(config_file: Path) -> None:
    out = run_mftui(config_file, "log", "--json", "--since", "last tuesday")
    assert out.returncode == 2
    assert "is not a date" in json.loads(out.stdout)["reason"]


def test_log_json_validates_against_its_schema(settings: Settings, config_file: Path) -> None:
    import jsonschema

    schema = json.loads((Path(__file__).parents[1] / "docs" / "schemas" / "log.json").read_text())
    assert audit.record(settings, "restore", "ok", archive=Path("a.zip"), sha256="00" * 32,
                        changes={"added": 1}) is None
    data = json.loads(run_mftui(config_file, "log", "--json").stdout)
    jsonschema.validate(data, schema, cls=jsonschema.Draft202012Validator)
    assert len(data["entries"]) == 1
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"ok": True, "entries": [{"time": "x"}], "problems": []}, schema,
                            cls=jsonschema.Draft202012Validator)


# --- the core logs every action, whoever calls it: here the real CLI ------------------------------------


def actions(settings: Settings) -> list[tuple[str, str]]:
    entries, problems = audit.read_log(settings)
    assert problems == []
    return [(e.action, e.outcome) for e in entries]


def test_restore_put_back_and_reboot_are_logged(settings: Settings, config_file: Path) -> None:
    import hashlib

    from test_restore import change_instance

    from mftui.archive.writer import create_backup

    path = create_backup(settings, "before").path
    change_instance(settings.instance_root)
    env = {**os.environ, "SUDO_USER": "tech7", "SSH_CONNECTION": "192.0.2.9 40000 192.0.2.1 22"}
    proc = run_mftui(config_file, "restore", str(path), "--yes", "--no-trial", env=env)
    assert proc.returncode == 0, proc.stderr
    assert run_mftui(config_file, "restore", "--previous", "--yes", "--no-reboot").returncode == 0
    assert actions(settings) == [("backup", "ok"), ("restore", "ok"), ("reboot-request", "ok"), ("put-back", "ok")]
    entries = audit.read_log(settings)[0]
    restore = entries[1]
    assert restore.archive == path.name and restore.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    assert restore.changes is not None and restore.changes["changed"] > 0 and restore.changes["scope"] == "replace"
    assert (restore.user, restore.where) == ("tech7", "ssh from 192.0.2.9")
    assert entries[2].detail is not None and entries[2].detail.startswith("demo: ")
    assert entries[3].changes == {"added": restore.changes["removed"], "changed": restore.changes["changed"],
                                  "removed": restore.changes["added"], "scope": "replace"}


def test_a_refused_restore_is_logged_as_refused(settings: Settings, config_file: Path, tmp_path: Path) -> None:
    from hostile import make_backup, read_tree

    files = read_tree(settings.instance_root)
    files["../../etc/cron.d/evil"] = (b"* * * * * root sh\n", 0o644)
    bad = tmp_path / "bad.zip"
    bad.write_bytes(make_backup(files))
    assert run_mftui(config_file, "restore", str(bad), "--yes", "--no-reboot").returncode == 1
    [entry] = audit.read_log(settings)[0]
    assert (entry.action, entry.outcome, entry.archive) == ("restore", "refused", "bad.zip")
    assert entry.detail is not None and "climbs out" in entry.detail


def test_trial_keep_and_revert_are_logged(settings: Settings, config_file: Path) -> None:
    from test_restore import change_instance

    from mftui.archive.writer import create_backup
    from mftui.restore.trial import revert_now

    path = create_backup(settings, "target").path
    change_instance(settings.instance_root)
    for _ in range(2):
        proc = run_mftui(config_file, "restore", str(path), "--yes", "--no-reboot", "--trial", "5m")
        assert proc.returncode == 0, proc.stderr
        if not any(a == "trial-keep" for a, _o in actions(settings)):
            assert run_mftui(config_file, "keep").returncode == 0
    revert_now(settings)
    assert actions(settings) == [("backup", "ok"), ("restore", "ok"), ("trial-keep", "ok"), ("restore", "ok"),
                                 ("trial-revert", "ok")]


def test_a_log_that_cannot_be_written_does_not_stop_a_restore_and_it_says_so(settings: Settings,
                                                                              config_file: Path) -> None:
    from test_restore import change_instance

    from mftui.archive.writer import create_backup

    path = create_backup(settings, "before").path
    change_instance(settings.instance_root)
    (settings.state_dir / "audit.log").unlink()
    (settings.state_dir / "audit.log").mkdir()  # not a file: every write fails
    proc = run_mftui(config_file, "restore", str(path), "--yes", "--no-reboot", "--no-trial")
    assert proc.returncode == 0, proc.stderr
    assert "Restored" in proc.stdout and "The audit log in" in proc.stdout and "was not written" in proc.stdout
    assert "the restore itself is not affected" in proc.stdout


def test_writers_in_parallel_across_rotations_lose_no_line_inside_the_kept_files(settings: Settings) -> None:
    code = ("from pathlib import Path; from mftui.settings import Settings; from mftui.history import audit;"
            "audit.ROTATE_AT = 20000;"
            f"s = Settings(instance_root=Path({str(settings.instance_root)!r}), backups_dir=Path('/nonexistent'));"
            "import sys; sys.exit(any(audit.record(s, 'backup', 'ok', detail='d' * 3000) for _ in range(40)))")
    procs = [subprocess.Popen([sys.executable, "-c", code]) for _ in range(4)]
    assert [p.wait() for p in procs] == [0, 0, 0, 0]
    entries, problems = audit.read_log(settings)
    assert problems == []
    files = sorted(p.name for p in settings.state_dir.glob("audit.log*"))
    assert files == ["audit.log", *[f"audit.log.{n}" for n in range(1, 6)]]
    sizes = [(settings.state_dir / f).stat().st_size for f in files]
    assert all(size <= 20000 for size in sizes), sizes
    assert sum(sizes) == sum(len(json.dumps(e.to_json(), separators=(",", ":"))) + 1 for e in entries)


def test_a_line_too_long_keeps_counts_instead_of_lists(settings: Settings) -> None:
    names = [f"nightly_{n:04d}.zip" for n in range(2000)]
    assert audit.record(settings, "prune", "ok", changes={"removed": names, "kept": 10}, detail="x" * 50000) is None
    [entry] = audit.read_log(settings)[0]
    assert entry.changes == {"removed": 2000, "kept": 10}
    assert entry.detail is not None and len(entry.detail) <= 2000 and entry.detail.startswith("xxx")
    assert (settings.state_dir / "audit.log").stat().st_size < audit.MAX_LINE


def test_mftui_copy_is_logged_like_download_zip(settings: Settings, config_file: Path, tmp_path: Path) -> None:
    made = run_mftui(config_file, "backup", "--json")
    archive = Path(json.loads(made.stdout)["path"])
    stick = tmp_path / "stick"
    stick.mkdir()
    assert run_mftui(config_file, "copy", str(archive), str(stick)).returncode == 0
    assert run_mftui(config_file, "copy", str(archive), str(tmp_path / "no-such-stick")).returncode == 1
    copies = [e for e in audit.read_log(settings)[0] if e.action == "copy"]
    assert [e.outcome for e in copies] == ["ok", "failed"]
    assert copies[0].archive == archive.name and copies[0].sha256 == json.loads(made.stdout)["sha256"]
