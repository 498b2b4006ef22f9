"""Scheduled backups: `mftui backup --scheduled [--if-changed]`, retention after every backup, the audit line,
and the timer units of `mftui install-units` (checked by systemd-analyze when it is there)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import jsonschema
import pytest

from mftui.archive.reader import read_info
from mftui.archive.writer import create_backup
from mftui.history import audit
from mftui.settings import Settings

SCHEMA = Path(__file__).resolve().parents[1] / "docs" / "schemas" / "backup.json"


def run(config: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "mftui", "--config", str(config), *args], capture_output=True,
                          text=True, timeout=60, stdin=subprocess.DEVNULL)


def backup_json(config: Path, *args: str) -> dict[str, object]:
    proc = run(config, "backup", "--json", *args)
    assert proc.returncode == 0, proc.stderr
    data: dict[str, object] = json.loads(proc.stdout)
    jsonschema.validate(data, json.loads(SCHEMA.read_text()), cls=jsonschema.Draft202012Validator)
    return data


def zips(settings: Settings) -> list[Path]:
    return sorted(settings.backups_dir.glob("*.zip"))


def test_a_scheduled_backup_is_of_kind_scheduled(settings: Settings, config_file: Path) -> None:
    data = backup_json(config_file, "--scheduled")
    assert data["made"] is True and data["kind"] == "scheduled"
    assert read_info(Path(str(data["path"]))).kind == "scheduled"
    manual = backup_json(config_file)
    assert manual["made"] is True and manual["kind"] == "manual"


def test_if_changed_makes_none_when_the_configuration_is_the_newest_backups(settings: Settings,
                                                                            config_file: Path) -> None:
    first = backup_json(config_file, "--scheduled", "--if-changed")
    assert first["made"] is True
    again = backup_json(config_file, "--scheduled", "--if-changed")
    assert again["made"] is False and again["path"] == first["path"]
    assert "byte for byte" in str(again["reason"])
    assert len(zips(settings)) == 1
    text = run(config_file, "backup", "--scheduled", "--if-changed")
    assert text.returncode == 0 and text.stdout.startswith("no backup made: the configuration is byte for byte")
    entries, _ = audit.read_log(settings)
    assert [e.outcome for e in entries if e.action == "backup"] == ["ok", "unchanged", "unchanged"]


def test_if_changed_sees_a_change_of_the_same_size(settings: Settings, config_file: Path) -> None:
    backup_json(config_file, "--scheduled", "--if-changed")
    flows = settings.instance_root / "flows" / "flows.json"
    content = flows.read_bytes()
    flows.write_bytes(content[:-2] + (b"X" if content[-2:-1] != b"X" else b"Y") + content[-1:])
    assert len(flows.read_bytes()) == len(content)
    assert backup_json(config_file, "--scheduled", "--if-changed")["made"] is True
    assert len(zips(settings)) == 2


def test_if_changed_cannot_compare_with_an_encrypted_backup_and_makes_one(settings: Settings, config_file: Path,
                                                                          tmp_path: Path) -> None:
    secret = tmp_path / "passphrase"
    secret.write_text("correct horse battery staple\n")
    secret.chmod(0o600)
    backup_json(config_file, "--encrypt", "passphrase", "--passphrase-file", str(secret))
    proc = run(config_file, "backup", "--scheduled", "--if-changed", "--json")
    assert proc.returncode == 0 and json.loads(proc.stdout)["made"] is True
    assert "is encrypted or signed, so mftui cannot compare" in proc.stderr


def test_if_changed_compares_with_the_backup_written_last_in_the_same_second(settings: Settings,
                                                                           tmp_path: Path) -> None:
    """Two backups stamped with the same second: the newest is the one written last, not the first by name."""
    from mftui.archive.age_keys import ScryptIdentity, ScryptRecipient
    from mftui.archive.protector import Protector

    when = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)
    sealed = Protector("passphrase", (ScryptRecipient(b"pass phrase"),), proof=(ScryptIdentity(b"pass phrase"),))
    create_backup(settings, "a-sealed", now=when, protect=sealed)  # "a" sorts first by name
    plain = create_backup(settings, "b-plain", now=when, protect=Protector()).path
    os.utime(plain, ns=(plain.stat().st_atime_ns, plain.stat().st_mtime_ns + 10**9))  # written later, surely
    again = create_backup(settings, "c", now=when, kind="scheduled", if_changed=True)
    assert again.made is False and again.path == plain, again.reason
    assert len(again.sha256) == 64


def test_every_backup_is_logged_with_its_sha256(settings: Settings, config_file: Path) -> None:
    import hashlib

    data = backup_json(config_file, "--name", "site")
    path = Path(str(data["path"]))
    [entry] = audit.read_log(settings)[0]
    assert (entry.action, entry.outcome, entry.archive) == ("backup", "ok", path.name)
    assert entry.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()


def test_retention_is_applied_after_every_backup_and_said(settings: Settings, config_file: Path) -> None:
    made = [create_backup(settings, f"b{n}", now=datetime(2026, 1, 1 + n, tzinfo=UTC)).path for n in range(2)]
    config_file.write_text(config_file.read_text() + "[retention]\nkeep_last = 2\n")
    proc = run(config_file, "backup", "--name", "a", "--json")  # "a" sorts before b1 if made in the same second
    data = json.loads(proc.stdout)
    assert data["pruned"] == [made[0].name]
    assert f"removed the old backup {made[0].name} ([retention])" in proc.stderr
    assert {p.name for p in zips(settings)} == {made[1].name, Path(str(data["path"])).name}


@pytest.mark.parametrize("flag", [[], ["--scheduled"]])
def test_a_failed_backup_is_logged_as_failed(settings: Settings, config_file: Path, flag: list[str]) -> None:
    config_file.write_text(config_file.read_text().replace("[instance]\n", '[instance]\ninclude = ["nothing/*"]\n'))
    proc = run(config_file, "backup", *flag)
    assert proc.returncode == 1
    [entry] = audit.read_log(settings)[0]
    assert (entry.action, entry.outcome) == ("backup", "failed") and "no configuration file" in str(entry.detail)


# --- the timer units ---------------------------------------------------------------

ANALYZE = shutil.which("systemd-analyze")
needs_systemd = pytest.mark.skipif(ANALYZE is None, reason="systemd-analyze is not installed (Debian: systemd)")


def install(config: Path, directory: Path, *extra: str, env: dict[str, str] | None = None,
            ) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "mftui", "--config", str(config), "install-units", "--dir",
                           str(directory), *extra], capture_output=True, text=True, timeout=60, env=env)


@needs_systemd
def test_the_timer_units_pass_systemd_analyze_verify(config_file: Path, tmp_path: Path) -> None:
    assert ANALYZE is not None
    config_file.write_text(config_file.read_text() + '[schedule]\non_calendar = "*-*-* 03:00:00"\n'
                                                      'randomized_delay = "30m"\n')
    units = tmp_path / "units"
    units.mkdir()
    proc = install(config_file, units)
    assert proc.returncode == 0, proc.stderr
    names = ["mftui-recover.service", "mftui-watch.service", "mftui-backup.service", "mftui-backup.timer"]
    assert proc.stdout.splitlines()[:4] == [f"wrote {units / n}" for n in names]
    assert "systemctl enable mftui-recover.service mftui-watch.service mftui-backup.timer" in proc.stdout
    checked = subprocess.run([ANALYZE, "verify", "--man=no", *(str(units / n) for n in names)],
                             capture_output=True, text=True, timeout=60, cwd=units)
    assert checked.returncode == 0 and checked.stderr.strip() == "", checked.stderr
    timer = (units / "mftui-backup.timer").read_text()
    assert "OnCalendar=*-*-* 03:00:00\n" in timer and "Persistent=true\n" in timer
    assert "RandomizedDelaySec=1800s\n" in timer and "WantedBy=timers.target" in timer
    service = (units / "mftui-backup.service").read_text()
    assert f"-m mftui --config {config_file.resolve()} backup --scheduled --if-changed\n" in service


@needs_systemd
def test_verify_does_catch_a_broken_timer(tmp_path: Path) -> None:
    """The control: the check above would see a timer systemd refuses."""
    assert ANALYZE is not None
    (tmp_path / "x.service").write_text("[Service]\nType=oneshot\nExecStart=/bin/true\n")
    bad = tmp_path / "x.timer"
    bad.write_text("[Timer]\nOnCalendar=bogus\nPersistent=maybe\n")
    checked = subprocess.run([ANALYZE, "verify", "--man=no", str(bad)], capture_output=True, text=True,
                             timeout=60, cwd=tmp_path)
    assert checked.returncode != 0 and "Failed to parse calendar specification" in checked.stderr


def test_without_a_schedule_no_timer_is_written(config_file: Path, tmp_path: Path) -> None:
    proc = install(config_file, tmp_path, "--json")
    assert proc.returncode == 0, proc.stderr
    assert sorted(p.name for p in tmp_path.glob("mftui-*")) == ["mftui-recover.service", "mftui-watch.service"]


@needs_systemd
def test_an_on_calendar_systemd_does_not_understand_is_a_settings_error(config_file: Path, tmp_path: Path) -> None:
    config_file.write_text(config_file.read_text() + '[schedule]\non_calendar = "every tuesday-ish"\n')
    proc = install(config_file, tmp_path, "--json")
    assert proc.returncode == 2
    reason = json.loads(proc.stdout)["reason"]
    assert "schedule.on_calendar: 'every tuesday-ish' is not a time systemd understands" in reason
    assert not list(tmp_path.glob("mftui-*"))  # nothing written


def test_without_systemd_analyze_the_calendar_is_not_checked_and_it_says_so(config_file: Path,
                                                                           tmp_path: Path) -> None:
    config_file.write_text(config_file.read_text() + '[schedule]\non_calendar = "daily"\n')
    empty = tmp_path / "empty-path"
    empty.mkdir()
    units = tmp_path / "units"
    units.mkdir()
    proc = install(config_file, units, env={**os.environ, "PATH": str(empty)})
    assert proc.returncode == 0, proc.stderr
    assert "systemd-analyze is not installed, so [schedule] on_calendar 'daily' was not checked" in proc.stderr
    assert (units / "mftui-backup.timer").exists()


@pytest.mark.parametrize(("text", "words"), [
    ('on_calendar = ""', "schedule.on_calendar: must be a non-empty string"),
    ('on_calendar = "daily\\nExecStart=/bin/sh"', "schedule.on_calendar: must be one line of plain text"),
    ('randomized_delay = "soon"', "schedule.randomized_delay: 'soon' is not a duration"),
    ("hourly = true", "schedule.hourly: unknown key"),
])
def test_bad_schedule_settings_name_the_key(config_file: Path, text: str, words: str) -> None:
    from mftui.errors import SettingsError
    from mftui.settings import parse_settings_file

    config_file.write_text(config_file.read_text() + f"[schedule]\n{text}\n")
    with pytest.raises(SettingsError, match=words.replace("[", r"\[")):
        parse_settings_file(config_file)
