"""Pins, deleting a backup, and pruning as [retention] says: real archives in a real backups folder."""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from mftui.archive.writer import create_backup, write_backup
from mftui.errors import LockBusy, SettingsError, StateError, UsageError
from mftui.history import audit
from mftui.history.pins import pinned, set_pin
from mftui.history.retention import delete_backup, plan_prune, prune
from mftui.instance import Instance
from mftui.lock import instance_lock
from mftui.retention_settings import RetentionSettings
from mftui.settings import Settings, parse_settings_file

NOW = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)


def make(settings: Settings, name: str, days_ago: float, kind: str = "manual") -> Path:
    """A real backup made ``days_ago`` before NOW (its created_at says so)."""
    when = NOW - timedelta(days=days_ago)
    if kind == "manual":
        return create_backup(settings, name, now=when).path
    with instance_lock(settings, "backup"):
        return write_backup(Instance(settings), settings.backups_dir, name, kind=kind, now=when).path


def with_rules(settings: Settings, **rules: int) -> Settings:
    return dataclasses.replace(settings, retention=RetentionSettings(**rules))


def names(paths: list[Path]) -> set[str]:
    return {p.name for p in paths}


def test_pins_are_kept_in_the_state_folder_and_logged(settings: Settings) -> None:
    a = make(settings, "a", 3)
    assert pinned(settings) == frozenset()
    set_pin(settings, a.name, True)
    assert pinned(settings) == {a.name}
    set_pin(settings, a.name, False)
    assert pinned(settings) == frozenset()
    entries, _ = audit.read_log(settings)
    assert [(e.action, e.archive) for e in entries if e.action in ("pin", "unpin")] == [("pin", a.name),
                                                                                        ("unpin", a.name)]


@pytest.mark.parametrize("name", ["../x.zip", "sub/x.zip", "..", ".", "", "missing.zip", "notes.txt"])
def test_a_name_that_is_not_a_backup_is_refused(settings: Settings, name: str) -> None:
    make(settings, "a", 1)
    (settings.backups_dir / "notes.txt").write_text("hi")
    with pytest.raises(UsageError, match="backup"):
        delete_backup(settings, name)
    with pytest.raises(UsageError, match="backup"):
        set_pin(settings, name, True)


def test_a_link_in_the_backups_folder_is_never_followed(settings: Settings, tmp_path: Path) -> None:
    a = make(settings, "a", 1)
    (settings.backups_dir / "link.zip").symlink_to(a)
    with pytest.raises(UsageError, match="not a plain file"):
        delete_backup(settings, "link.zip")
    assert a.exists() and (settings.backups_dir / "link.zip").is_symlink()


def test_delete_removes_one_backup_and_logs_it(settings: Settings) -> None:
    a, b = make(settings, "a", 2), make(settings, "b", 1)
    delete_backup(settings, a.name)
    assert names(list(settings.backups_dir.iterdir())) == {b.name}
    entries, _ = audit.read_log(settings)
    assert (entries[-1].action, entries[-1].outcome, entries[-1].archive) == ("delete", "ok", a.name)


def test_delete_waits_for_nobody_while_a_restore_holds_the_lock(settings: Settings) -> None:
    a = make(settings, "a", 1)
    with instance_lock(settings, "restore"), pytest.raises(LockBusy, match="another restore .* is in progress"):
        delete_backup(settings, a.name)
    assert a.exists()


def test_a_pinned_backup_is_not_deleted(settings: Settings) -> None:
    a = make(settings, "a", 1)
    set_pin(settings, a.name, True)
    with pytest.raises(UsageError, match="pinned; unpin it first"):
        delete_backup(settings, a.name)
    assert a.exists()


def test_without_rules_prune_keeps_everything(settings: Settings) -> None:
    for n in range(4):
        make(settings, f"b{n}", 100 + n)
    result = prune(settings, now=NOW)
    assert result.removed == () and len(result.kept) == 4 and result.ok


def test_keep_last_removes_the_oldest_and_says_why(settings: Settings) -> None:
    made = [make(settings, f"b{n}", n) for n in range(5)]  # b0 newest
    s = with_rules(settings, keep_last=2)
    plan = plan_prune(s, now=NOW)
    assert [i.name for i in plan.remove] == [made[2].name, made[3].name, made[4].name]
    assert plan.remove[0].reason == "not one of the 2 newest"
    assert {i.name: i.reason for i in plan.keep} == {made[0].name: "the newest backup",
                                                     made[1].name: "one of the 2 newest (keep_last)"}
    assert len(list(settings.backups_dir.iterdir())) == 5  # a plan changes nothing
    result = prune(s, now=NOW)
    assert [i.name for i in result.removed] == [p.name for p in made[2:]]
    assert names(list(settings.backups_dir.iterdir())) == names(made[:2])
    entry = audit.read_log(settings)[0][-1]
    assert entry.action == "prune" and entry.changes == {"removed": [p.name for p in made[2:]], "kept": 2}


def test_keep_days_and_keep_last_keep_what_either_keeps(settings: Settings) -> None:
    made = [make(settings, f"b{n}", d) for n, d in enumerate((1, 5, 10, 40, 50))]
    result = prune(with_rules(settings, keep_last=2, keep_days=30), now=NOW)
    assert [i.name for i in result.removed] == [made[3].name, made[4].name]
    assert [i.reason for i in result.kept][2] == "younger than 30 days (keep_days)"


def test_pinned_newest_previous_and_only_of_its_kind_are_never_pruned(settings: Settings) -> None:
    old_safety = make(settings, "pre-restore", 90, kind="safety")
    safety = make(settings, "pre-restore", 80, kind="safety")
    pin = make(settings, "pinned", 70)
    old = make(settings, "old", 60)
    newest = make(settings, "new", 1)
    set_pin(settings, pin.name, True)
    plan = plan_prune(with_rules(settings, keep_last=1), now=NOW)
    assert [i.name for i in plan.remove] == [old.name, old_safety.name]
    reasons = {i.name: i.reason for i in plan.keep}
    assert reasons == {newest.name: "the newest backup", pin.name: "pinned",
                       safety.name: "the previous configuration (the newest pre-restore backup)"}


def test_an_unreadable_backup_is_left_alone(settings: Settings) -> None:
    make(settings, "a", 1)
    junk = settings.backups_dir / "junk.zip"
    junk.write_bytes(b"not a zip")
    os.utime(junk, (0, 0))
    result = prune(with_rules(settings, keep_last=1), now=NOW)
    assert result.removed == () and junk.exists()
    assert any(i.name == "junk.zip" and i.reason.startswith("it cannot be read") for i in result.kept)


def test_damaged_pins_stop_a_prune(settings: Settings) -> None:
    make(settings, "a", 2)
    make(settings, "b", 1)
    (settings.state_dir / "pins.json").write_text("{broken")
    with pytest.raises(StateError, match="nothing is pruned until it is fixed"):
        prune(with_rules(settings, keep_last=1), now=NOW)
    assert len(list(settings.backups_dir.iterdir())) == 2


def test_dry_run_json_says_what_would_go(settings: Settings) -> None:
    made = [make(settings, f"b{n}", n) for n in range(3)]
    result = prune(with_rules(settings, keep_last=2), dry_run=True, now=NOW)
    data = json.loads(json.dumps(result.to_json()))
    assert data["dry_run"] is True and data["ok"] is True
    assert [r["name"] for r in data["removed"]] == [made[2].name]
    assert all(p.exists() for p in made)


@pytest.mark.parametrize(("text", "words"), [
    ("keep_last = 0", "retention.keep_last: must be 1 or more, not 0"),
    ("keep_last = -3", "retention.keep_last: must be 1 or more, not -3"),
    ("keep_days = 1.5", "retention.keep_days: must be a whole number of days, not float"),
    ('keep_last = "10"', "retention.keep_last: must be a whole number of backups, not str"),
    ("keep_everything = true", "retention.keep_everything: unknown key"),
])
def test_bad_retention_settings_name_the_key(config_file: Path, text: str, words: str) -> None:
    config_file.write_text(config_file.read_text() + f"[retention]\n{text}\n")
    with pytest.raises(SettingsError, match=words):
        parse_settings_file(config_file)


def test_retention_settings_are_read(config_file: Path) -> None:
    config_file.write_text(config_file.read_text() + "[retention]\nkeep_last = 10\nkeep_days = 30\n")
    assert parse_settings_file(config_file).retention == RetentionSettings(keep_last=10, keep_days=30)


def run_mftui(config: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "mftui", "--config", str(config), *args],
                          capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)


def test_the_prune_command_says_what_it_would_remove_then_removes_it(settings: Settings, config_file: Path) -> None:
    made = [make(settings, f"b{n}", n) for n in range(3)]
    config_file.write_text(config_file.read_text() + "[retention]\nkeep_last = 2\n")
    dry = run_mftui(config_file, "prune", "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert f"would remove 1 backup(s):\n  {made[2].name}  (not one of the 2 newest)" in dry.stdout
    assert f"  {made[0].name}  (the newest backup)" in dry.stdout
    assert all(p.exists() for p in made)
    done = run_mftui(config_file, "prune", "--json")
    data = json.loads(done.stdout)
    assert done.returncode == 0 and data["ok"] is True and data["dry_run"] is False
    assert [r["name"] for r in data["removed"]] == [made[2].name] and len(data["kept"]) == 2
    assert data["rules"] == {"keep_last": 2, "keep_days": None}
    assert not made[2].exists()


def test_the_prune_command_without_rules_keeps_everything_and_says_so(settings: Settings, config_file: Path) -> None:
    make(settings, "a", 1)
    make(settings, "b", 2)
    out = run_mftui(config_file, "prune")
    assert out.returncode == 0
    assert "no [retention] rule is set" in out.stdout and "removed nothing" in out.stdout


def test_a_bad_keep_last_is_a_settings_error_exit_2_with_json(config_file: Path) -> None:
    config_file.write_text(config_file.read_text() + "[retention]\nkeep_last = 0\n")
    out = run_mftui(config_file, "prune", "--json")
    assert out.returncode == 2
    assert json.loads(out.stdout)["ok"] is False and "retention.keep_last" in json.loads(out.stdout)["reason"]


def test_prune_while_a_restore_holds_the_lock_is_exit_1(settings: Settings, config_file: Path) -> None:
    make(settings, "a", 1)
    make(settings, "b", 2)
    config_file.write_text(config_file.read_text() + "[retention]\nkeep_last = 1\n")
    with instance_lock(settings, "restore"):
        out = run_mftui(config_file, "prune", "--json")
    assert out.returncode == 1 and "another restore" in json.loads(out.stdout)["reason"]
    assert len(list(settings.backups_dir.iterdir())) == 2


def test_prune_json_validates_against_its_schema(settings: Settings, config_file: Path) -> None:
    import jsonschema

    schema = json.loads((Path(__file__).parents[1] / "docs" / "schemas" / "prune.json").read_text())
    make(settings, "a", 2)
    make(settings, "b", 1)
    config_file.write_text(config_file.read_text() + "[retention]\nkeep_last = 1\n")
    for args in (("--dry-run",), ()):
        data = json.loads(run_mftui(config_file, "prune", "--json", *args).stdout)
        jsonschema.validate(data, schema, cls=jsonschema.Draft202012Validator)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({**data, "removed": [{"name": "x"}]}, schema, cls=jsonschema.Draft202012Validator)


def test_the_backup_just_made_is_never_pruned_even_in_the_same_second(settings: Settings) -> None:
    first = create_backup(settings, "z", now=NOW).path
    result = create_backup(with_rules(settings, keep_last=1), "a", now=NOW)  # "a" sorts first by name in a tie
    assert result.path.exists() and "a_" in result.path.name
    assert result.pruned is not None and [i.name for i in result.pruned.removed] == [first.name]
    assert not first.exists()  # in a tie the one written last is the newest: "z" is the older one here
