"""`mftui restore` and `mftui inspect --changes`, run as real processes (a real pty where a terminal matters)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from hostile import backup_entries, layout, make_backup, read_tree
from test_restore import change_instance, config_only
from trees import snapshot

from mftui.archive.writer import create_backup
from mftui.settings import Settings


def mftui(config: Path, *args: str, answer: str | None = None) -> subprocess.CompletedProcess[str]:
    """Run mftui. ``answer`` given: stdin is a real terminal (a pty) with that typed into it."""
    cmd = [sys.executable, "-m", "mftui", "--config", str(config), *args]
    if answer is None:
        return subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=60)
    master, slave = os.openpty()
    try:
        os.write(master, answer.encode())
        return subprocess.run(cmd, stdin=slave, capture_output=True, text=True, timeout=60)
    finally:
        os.close(slave)
        os.close(master)


@pytest.fixture
def backup(settings: Settings) -> Path:
    path = create_backup(settings, "before").path
    change_instance(settings.instance_root)
    return path


def test_yes_no_reboot_json(settings: Settings, config_file: Path, backup: Path) -> None:
    proc = mftui(config_file, "restore", str(backup), "--yes", "--no-reboot", "--json")
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert out["ok"] and out["restored"] and out["name"] == "before" and out["reboot"] == {"requested": False}
    assert Path(out["safety_backup"]).is_file() and out["method"] == "exchange"
    assert out["changes"]["added"] == ["users/users.json"]
    assert not (settings.state_dir / "reboot-requests.jsonl").exists()
    assert (settings.instance_root / "users" / "users.json").is_file()


def test_yes_asks_the_reboot_service(settings: Settings, config_file: Path, backup: Path) -> None:
    proc = mftui(config_file, "restore", str(backup), "--yes")
    assert proc.returncode == 0, proc.stderr
    assert "Restored" in proc.stdout and "Demo instance" in proc.stdout
    record = json.loads((settings.state_dir / "reboot-requests.jsonl").read_text().splitlines()[-1])
    assert record["backend"] == "demo"


def test_no_terminal_and_no_yes_is_refused(settings: Settings, config_file: Path, backup: Path) -> None:
    before = snapshot(settings.instance_root)
    proc = mftui(config_file, "restore", str(backup))
    assert proc.returncode == 2 and "--yes" in proc.stderr and "Traceback" not in proc.stderr
    proc = mftui(config_file, "restore", str(backup), "--json")
    out = json.loads(proc.stdout)
    assert proc.returncode == 2 and out == {"ok": False, "restored": False, "reason": out["reason"]}
    assert "there is none: add --yes to restore from a script" in out["reason"]
    assert snapshot(settings.instance_root) == before


@pytest.mark.parametrize("answer", ["\n", "n\n", "no\n", "maybe\n", ""])
def test_prompt_defaults_to_no(settings: Settings, config_file: Path, backup: Path, answer: str) -> None:
    before = snapshot(settings.instance_root)
    proc = mftui(config_file, "restore", str(backup), "--no-reboot", answer=answer + ("\x04" if not answer else ""))
    assert proc.returncode == 1, proc.stderr
    assert "[y/N]" in proc.stderr and "cancelled; nothing was changed" in proc.stderr
    assert "1 added, 2 changed, 1 removed" in proc.stdout  # it showed what would change first
    assert snapshot(settings.instance_root) == before


def test_prompt_yes_restores(settings: Settings, config_file: Path, backup: Path) -> None:
    proc = mftui(config_file, "restore", str(backup), "--no-reboot", answer="y\n")
    assert proc.returncode == 0, proc.stderr
    assert "Restored 17 files" in proc.stdout
    assert (settings.instance_root / "users" / "users.json").is_file()


def test_a_clone_must_be_confirmed_by_typing_the_source_hub_id(settings: Settings, config_file: Path,
                                                              backup: Path) -> None:
    root = settings.instance_root
    inst = json.loads((root / "instance.json").read_text())
    inst["hub_id"] = "a1b2c3"
    (root / "instance.json").write_text(json.dumps(inst))
    before = snapshot(root)

    refused = mftui(config_file, "restore", str(backup), "--no-reboot", answer="y\n")
    assert refused.returncode == 1 and "type its hub id (3fa2c1)" in refused.stderr
    assert "another unit (hub 3fa2c1" in refused.stdout
    assert snapshot(root) == before

    # Replace takes that unit's identity (a clone, the default for another unit's backup, would keep ours).
    done = mftui(config_file, "restore", str(backup), "--no-reboot", "--take-identity", answer="3FA2C1\n")
    assert done.returncode == 0, done.stderr
    assert json.loads((root / "instance.json").read_text())["hub_id"] == "3fa2c1"


def test_failed_reboot_keeps_the_restore_and_exits_1(settings: Settings, tmp_path: Path, backup: Path) -> None:
    cfg = tmp_path / "failing.toml"
    cfg.write_text(f'[instance]\nroot = "{settings.instance_root}"\n[backups]\ndir = "{settings.backups_dir}"\n'
                   '[reboot]\nbackend = "command"\ncommand = ["false"]\n')
    proc = mftui(cfg, "restore", str(backup), "--yes", "--json")
    assert proc.returncode == 1
    out = json.loads(proc.stdout)
    assert out["restored"] is True and out["ok"] is False and out["reboot"]["ok"] is False
    assert "committed" in out["reboot"]["message"]
    assert "the restore is committed, but the reboot request failed" in proc.stderr
    assert (settings.instance_root / "users" / "users.json").is_file()


def test_hostile_archive_is_refused_with_one_line(settings: Settings, config_file: Path, tmp_path: Path) -> None:
    files = read_tree(settings.instance_root)
    files["../../etc/cron.d/evil"] = (b"* * * * * root sh\n", 0o644)
    bad = tmp_path / "bad.zip"
    bad.write_bytes(make_backup(files))
    before = snapshot(settings.instance_root)
    proc = mftui(config_file, "restore", str(bad), "--yes")
    assert proc.returncode == 1
    assert proc.stderr.startswith("mftui: the archive is refused: entry config/../../etc/cron.d/evil climbs out")
    assert "Traceback" not in proc.stderr and proc.stderr.count("\n") == 1
    as_json = mftui(config_file, "restore", str(bad), "--yes", "--json")
    assert as_json.returncode == 1 and "climbs out" in json.loads(as_json.stdout)["reason"]
    verified = mftui(config_file, "verify", str(bad))
    assert verified.returncode == 1 and "climbs out" in verified.stderr
    assert snapshot(settings.instance_root) == before


def test_inspect_changes(settings: Settings, config_file: Path, backup: Path) -> None:
    proc = mftui(config_file, "inspect", str(backup), "--changes", "--json")
    assert proc.returncode == 0, proc.stderr
    changes = json.loads(proc.stdout)["changes"]
    assert changes["added"] == ["users/users.json"] and changes["removed"] == ["services/0ff.json"]
    assert changes["by_component"]["users"] == {"added": 1, "changed": 0, "removed": 0}
    assert changes["other_unit"] is False and "warnings" in changes
    text = mftui(config_file, "inspect", str(backup), "--changes")
    assert "What the restore changes" in text.stdout and "R services/0ff.json" in text.stdout


def test_previous_via_the_command_line(settings: Settings, config_file: Path, backup: Path) -> None:
    changed = config_only(snapshot(settings.instance_root))
    assert mftui(config_file, "restore", str(backup), "--yes", "--no-reboot").returncode == 0
    proc = mftui(config_file, "restore", "--previous", "--no-reboot", answer="y\n")
    assert proc.returncode == 0, proc.stderr
    assert "previous configuration (replaced" in proc.stdout
    assert config_only(snapshot(settings.instance_root)) == changed


def test_file_or_previous_not_both_nor_neither(config_file: Path, backup: Path) -> None:
    neither = mftui(config_file, "restore", "--yes")
    assert neither.returncode == 2 and "not both" not in neither.stderr
    assert "restore needs the backup FILE to restore, or --previous" in neither.stderr
    both = mftui(config_file, "restore", str(backup), "--previous", "--yes")
    assert both.returncode == 2 and "restore takes a backup FILE or --previous, not both" in both.stderr
    as_json = mftui(config_file, "restore", "--yes", "--json")
    assert as_json.returncode == 2 and "restore needs the backup FILE" in json.loads(as_json.stdout)["reason"]


EVIL = "\x1b]0;pwned\x07\x1b[2J\u202eevil"
ODD = "\u2028\u00a0\u2029"  # not printable, not control characters: backup.json may hold them


def confirm_restore_of(settings: Settings, config_file: Path, path: Path,
                       text: str) -> subprocess.CompletedProcess[str]:
    def edit(meta: dict[str, Any]) -> None:
        meta["name"] = "n" + text
        meta["instance"].update(id="i" + text, hostname="h" + text)

    files = read_tree(settings.instance_root)
    ident = json.loads(files["instance.json"][0])  # the archive's own instance.json says the same (checked)
    ident.update(hub_id="i" + text, hostname="h" + text)
    files["instance.json"] = (json.dumps(ident).encode(), files["instance.json"][1])
    path.write_bytes(layout(backup_entries(files, edit=edit)))
    before = snapshot(settings.instance_root)
    proc = mftui(config_file, "restore", str(path), "--no-reboot", answer="n\n")
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    for stream in (proc.stdout, proc.stderr):
        assert not any(ch in stream for ch in "\x1b\x07\u202e\u2028\u2029\u00a0"), stream
    assert snapshot(settings.instance_root) == before
    return proc


def test_the_confirmation_shows_what_the_archive_says_escaped(settings: Settings, config_file: Path,
                                                              tmp_path: Path) -> None:
    """Name, hostname and hub id from backup.json are shown escaped, the hub id to type included."""
    proc = confirm_restore_of(settings, config_file, tmp_path / "odd.zip", ODD)
    shown = "\\u2028\\xa0\\u2029"
    assert f"Restore backup 'n{shown}' over the live configuration?" in proc.stderr
    assert f"type its hub id (i{shown})" in proc.stderr and f"h{shown}" in proc.stdout


def test_control_characters_in_the_archive_never_reach_the_terminal(settings: Settings, config_file: Path,
                                                                     tmp_path: Path) -> None:
    proc = confirm_restore_of(settings, config_file, tmp_path / "evil.zip", EVIL)
    if "over the live configuration?" in proc.stderr:  # shown (escaped) where backup.json's parser allows it
        assert "Restore backup 'n\\x1b]0;pwned\\x07\\x1b[2J\\u202eevil'" in proc.stderr
    else:  # refused by the parser: one sentence
        assert proc.stderr.startswith("mftui: ") and proc.stderr.count("\n") == 1, proc.stderr


def test_what_could_not_be_carried_over_is_reported(settings: Settings, tmp_path: Path) -> None:
    """Only *.json is configuration here, so a plain file 'users' is unit data; the backup has a folder there."""
    cfg = tmp_path / "json-only.toml"
    cfg.write_text(f'[instance]\nroot = "{settings.instance_root}"\ninclude = ["**/*.json"]\n'
                   f'[backups]\ndir = "{settings.backups_dir}"\n[reboot]\nbackend = "demo"\n')
    made = mftui(cfg, "backup", "--json")
    assert made.returncode == 0, made.stderr
    archive = json.loads(made.stdout)["path"]
    users = settings.instance_root / "users"

    def unit_data_where_the_backup_has_a_folder() -> None:
        shutil.rmtree(users)
        users.write_text("unit notes\n")

    unit_data_where_the_backup_has_a_folder()
    text = mftui(cfg, "restore", archive, "--yes", "--no-reboot")
    assert text.returncode == 0, text.stderr
    assert "Not carried over (1): not configuration, but the backup has a file or folder" in text.stdout
    assert "\n  users\n" in text.stdout and (users / "users.json").is_file()

    unit_data_where_the_backup_has_a_folder()
    as_json = mftui(cfg, "restore", archive, "--yes", "--no-reboot", "--json")
    assert as_json.returncode == 0, as_json.stderr
    out = json.loads(as_json.stdout)
    assert out["left_behind"] == ["users"] and (Path(out["previous"]) / "users").read_text() == "unit notes\n"
    assert "users" not in json.loads(mftui(cfg, "restore", archive, "--yes", "--no-reboot", "--json").stdout)[
        "left_behind"]


def test_lock_busy_is_exit_1(settings: Settings, config_file: Path, backup: Path) -> None:
    from test_restore import HOLD_LOCK, _child

    holder = _child(HOLD_LOCK, str(settings.instance_root), str(settings.backups_dir), "backup")
    try:
        proc = mftui(config_file, "restore", str(backup), "--yes", "--no-reboot")
    finally:
        holder.communicate("\n", timeout=30)
    assert proc.returncode == 1 and "another backup" in proc.stderr
