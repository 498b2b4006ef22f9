"""The JSON contract (docs/JSON.md): every ``--json`` output of the real CLI validates against its schema.

One JSON Schema (draft 2020-12) per command in docs/schemas/<command>.json, success and failure forms.
Each case below runs ``python -m mftui`` as a real process on a real demo instance and checks: the exit
code, that stdout is exactly one JSON value, that it validates, and which form it is (success or failure:
a failure's reason is the sentence on stderr). Every schema file found there is checked as a schema and
against a settings error, including the ones written for commands this file has no case for.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from mftui.cli import build_parser
from mftui.settings import Settings

SCHEMAS = Path(__file__).resolve().parent.parent / "docs" / "schemas"


def schema_for(command: str) -> dict[str, Any]:
    return json.loads((SCHEMAS / f"{command}.json").read_text())


def validator(command: str) -> jsonschema.Draft202012Validator:
    return jsonschema.Draft202012Validator(schema_for(command))


@dataclass
class Unit:
    """A demo instance with its own settings file, backups folder and spare folder."""

    root: Path
    config: Path
    backups: Path
    tmp: Path

    def run(self, *args: str, config: Path | None = None) -> subprocess.CompletedProcess[str]:
        cmd = [sys.executable, "-m", "mftui", "--config", str(config or self.config), *args]
        return subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=60)

    def backup(self, *extra: str) -> Path:
        proc = self.run("backup", "--name", "contract", "--json", *extra)
        assert proc.returncode == 0, proc.stderr
        return Path(json.loads(proc.stdout)["path"])

    def settings_with(self, text: str) -> Path:
        """Another settings file for this instance, with ``text`` appended."""
        path = self.tmp / f"config-{time.monotonic_ns()}.toml"
        path.write_text(self.config.read_text() + text)
        return path

    def change(self) -> None:
        (self.root / "flows" / "flows.json").write_text('[{"id": "changed"}]\n')
        (self.root / "services" / "0ff.json").write_text('{"added": true}\n')


@pytest.fixture
def unit(settings: Settings, config_file: Path, instance_root: Path, tmp_path: Path) -> Unit:
    return Unit(root=instance_root, config=config_file, backups=settings.backups_dir, tmp=tmp_path)


def passphrase(unit: Unit) -> Path:
    path = unit.tmp / "passphrase"
    path.write_text("correct horse battery staple\n")
    path.chmod(0o600)
    return path


def encrypted_backup(unit: Unit) -> Path:
    return unit.backup("--encrypt", "passphrase", "--passphrase-file", str(passphrase(unit)))


def trial_restore(unit: Unit, duration: str = "5m") -> None:
    backup = unit.backup()
    unit.change()
    proc = unit.run("restore", str(backup), "--yes", "--trial", duration, "--no-reboot", "--json")
    assert proc.returncode == 0, proc.stderr


# --- the cases: (schema, what, exit code, how) -------------------------------------------------------------

def backup_plain(u: Unit) -> subprocess.CompletedProcess[str]:
    return u.run("backup", "--name", "plain", "--json")


def backup_encrypted(u: Unit) -> subprocess.CompletedProcess[str]:
    return u.run("backup", "--encrypt", "passphrase", "--passphrase-file", str(passphrase(u)), "--json")


def backup_unchanged(u: Unit) -> subprocess.CompletedProcess[str]:
    u.backup()
    return u.run("backup", "--scheduled", "--if-changed", "--json")


def backup_refused(u: Unit) -> subprocess.CompletedProcess[str]:
    (u.root / "flows" / "link.json").symlink_to(u.root / "flows" / "flows.json")  # links are refused
    return u.run("backup", "--json")


def _backups_at(u: Unit, folder: Path) -> Path:
    path = u.tmp / f"config-backups-{time.monotonic_ns()}.toml"
    path.write_text(u.config.read_text().replace(str(u.backups), str(folder)))
    return path


def inspect_plain(u: Unit) -> subprocess.CompletedProcess[str]:
    return u.run("inspect", str(u.backup()), "--json")


def inspect_changes(u: Unit) -> subprocess.CompletedProcess[str]:
    backup = u.backup()
    u.change()
    return u.run("inspect", str(backup), "--changes", "--json")


def inspect_encrypted(u: Unit) -> subprocess.CompletedProcess[str]:
    return u.run("inspect", str(encrypted_backup(u)), "--json")


def inspect_missing(u: Unit) -> subprocess.CompletedProcess[str]:
    return u.run("inspect", str(u.tmp / "nothing.zip"), "--json")


def verify_plain(u: Unit) -> subprocess.CompletedProcess[str]:
    return u.run("verify", str(u.backup()), "--json")


def verify_without_key(u: Unit) -> subprocess.CompletedProcess[str]:
    return u.run("verify", str(encrypted_backup(u)), "--json")


def verify_damaged(u: Unit) -> subprocess.CompletedProcess[str]:
    backup = u.backup()
    data = bytearray(backup.read_bytes())
    data[100] ^= 0xFF  # inside the first entry's data
    backup.write_bytes(bytes(data))
    return u.run("verify", str(backup), "--json")


def list_everything(u: Unit) -> subprocess.CompletedProcess[str]:
    trial_restore(u)  # a backup, a safety copy and the previous configuration
    encrypted_backup(u)
    (u.backups / "junk.zip").write_bytes(b"junk")
    return u.run("list", "--json")


def list_bad_settings(u: Unit) -> subprocess.CompletedProcess[str]:
    return u.run("list", "--json", config=u.settings_with("[nonsense]\nkey = 1\n"))


def copy_ok(u: Unit) -> subprocess.CompletedProcess[str]:
    (u.tmp / "usb").mkdir()
    return u.run("copy", str(u.backup()), str(u.tmp / "usb"), "--json")


def copy_missing(u: Unit) -> subprocess.CompletedProcess[str]:
    return u.run("copy", str(u.tmp / "nothing.zip"), str(u.tmp), "--json")


def restore_trial(u: Unit) -> subprocess.CompletedProcess[str]:
    backup = u.backup()
    u.change()
    return u.run("restore", str(backup), "--yes", "--trial", "5m", "--json")


def restore_no_trial(u: Unit) -> subprocess.CompletedProcess[str]:
    backup = u.backup()
    u.change()
    return u.run("restore", str(backup), "--yes", "--no-trial", "--no-reboot", "--json")


def restore_previous(u: Unit) -> subprocess.CompletedProcess[str]:
    restore_no_trial(u)
    return u.run("restore", "--previous", "--yes", "--no-reboot", "--json")


def restore_reboot_fails(u: Unit) -> subprocess.CompletedProcess[str]:
    backup = u.backup()
    u.change()
    config = _backups_at(u, u.backups)
    config.write_text(config.read_text().replace('backend = "demo"', 'backend = "command"\ncommand = ["false"]'))
    return u.run("restore", str(backup), "--yes", "--no-trial", "--json", config=config)


def restore_missing(u: Unit) -> subprocess.CompletedProcess[str]:
    return u.run("restore", str(u.tmp / "nothing.zip"), "--yes", "--json")


def restore_damaged(u: Unit) -> subprocess.CompletedProcess[str]:
    verify_damaged(u)
    return u.run("restore", str(next(u.backups.glob("contract_*.zip"))), "--yes", "--json")


def keep_ok(u: Unit) -> subprocess.CompletedProcess[str]:
    trial_restore(u)
    return u.run("keep", "--json")


def keep_nothing(u: Unit) -> subprocess.CompletedProcess[str]:
    return u.run("keep", "--json")


def keep_failing_check(u: Unit) -> subprocess.CompletedProcess[str]:
    trial_restore(u)
    return u.run("keep", "--json", config=u.settings_with('[trial]\nchecks = [["false"]]\n'))


def status_normal(u: Unit) -> subprocess.CompletedProcess[str]:
    return u.run("status", "--json")


def status_on_trial(u: Unit) -> subprocess.CompletedProcess[str]:
    trial_restore(u)
    return u.run("status", "--json")


def watch_reverts(u: Unit) -> subprocess.CompletedProcess[str]:
    trial_restore(u, "1s")
    time.sleep(1.1)
    return u.run("watch", "--json")


def install_units_ok(u: Unit) -> subprocess.CompletedProcess[str]:
    (u.tmp / "units").mkdir()
    return u.run("install-units", "--dir", str(u.tmp / "units"), "--json")


def install_units_no_dir(u: Unit) -> subprocess.CompletedProcess[str]:
    return u.run("install-units", "--dir", str(u.tmp / "no" / "such"), "--json")


def keygen_ok(u: Unit) -> subprocess.CompletedProcess[str]:
    return u.run("keygen", str(u.tmp / "sign_ed25519"), "--json")


def keygen_exists(u: Unit) -> subprocess.CompletedProcess[str]:
    (u.tmp / "sign_ed25519").write_text("already here\n")
    return u.run("keygen", str(u.tmp / "sign_ed25519"), "--json")


Case = tuple[str, Callable[[Unit], subprocess.CompletedProcess[str]], int, bool]
CASES: list[Case] = [
    ("backup", backup_plain, 0, True),
    ("backup", backup_encrypted, 0, True),
    ("backup", backup_unchanged, 0, True),
    ("backup", backup_refused, 1, False),
    ("inspect", inspect_plain, 0, True),
    ("inspect", inspect_changes, 0, True),
    ("inspect", inspect_encrypted, 0, True),
    ("inspect", inspect_missing, 1, False),
    ("verify", verify_plain, 0, True),
    ("verify", verify_without_key, 0, True),
    ("verify", verify_damaged, 1, False),
    ("list", list_everything, 0, True),
    ("list", list_bad_settings, 2, False),
    ("copy", copy_ok, 0, True),
    ("copy", copy_missing, 1, False),
    ("restore", restore_trial, 0, True),
    ("restore", restore_no_trial, 0, True),
    ("restore", restore_previous, 0, True),
    ("restore", restore_reboot_fails, 1, True),  # committed: the success form with "ok": false
    ("restore", restore_missing, 1, False),
    ("restore", restore_damaged, 1, False),
    ("keep", keep_ok, 0, True),
    ("keep", keep_nothing, 1, False),
    ("keep", keep_failing_check, 1, False),
    ("status", status_normal, 0, True),
    ("status", status_on_trial, 0, True),
    ("watch", watch_reverts, 0, True),
    ("install-units", install_units_ok, 0, True),
    ("install-units", install_units_no_dir, 1, False),
    ("keygen", keygen_ok, 0, True),
    ("keygen", keygen_exists, 1, False),
]


def one_json_value(proc: subprocess.CompletedProcess[str]) -> Any:
    """stdout holds exactly one JSON value (json.loads refuses anything after it)."""
    assert proc.stdout.strip(), f"nothing on stdout; stderr: {proc.stderr}"
    return json.loads(proc.stdout)


@pytest.mark.parametrize(("command", "case", "code", "success"), CASES,
                         ids=[f"{c[0]}-{c[1].__name__}" for c in CASES])
def test_output_validates(unit: Unit, command: str, case: Callable[[Unit], subprocess.CompletedProcess[str]],
                          code: int, success: bool) -> None:
    proc = case(unit)
    assert proc.returncode == code, (proc.stdout, proc.stderr)
    data = one_json_value(proc)
    errors = sorted(validator(command).iter_errors(data), key=lambda e: list(e.absolute_path))
    assert not errors, "\n".join(f"{list(e.absolute_path)}: {e.message}" for e in errors)
    if isinstance(data, list):
        assert success and data
        return
    if success:
        assert data.get("restored", True) is True and ("ok" in data)
        assert data["ok"] is (code == 0)
    else:
        assert data["ok"] is False
        assert f"mftui: {data['reason']}" in proc.stderr or data["reason"] in proc.stderr


def test_each_case_shows_what_it_should(unit: Unit) -> None:
    """A few outputs checked beyond their shape, so that a case that silently tests the wrong thing fails."""
    data = one_json_value(backup_unchanged(unit))
    assert data["made"] is False and Path(data["path"]).name.startswith("contract_")
    data = one_json_value(list_everything(unit))
    assert {row.get("kind") for row in data} >= {"manual", "safety", "previous"}
    assert any(row["ok"] is False and "junk.zip" in row["path"] for row in data)
    assert any(isinstance(row.get("encrypted"), dict) for row in data)
    data = one_json_value(watch_reverts(unit))
    assert data["state"] == "reverted" and data["said"]
    data = one_json_value(restore_reboot_fails(unit))
    assert data["restored"] is True and data["reboot"]["ok"] is False


def schema_files() -> list[Path]:
    return sorted(SCHEMAS.glob("*.json"))


@pytest.mark.parametrize("path", schema_files(), ids=lambda p: p.stem)
def test_every_schema_file_is_a_schema_and_takes_the_failure_form(path: Path, unit: Unit) -> None:
    """Every file in docs/schemas/ (those for commands added later too): a valid draft 2020-12 schema, named
    after a command, and the settings error that any command gives with --json validates against it."""
    schema = json.loads(path.read_text())
    assert schema.get("$schema") == "https://json-schema.org/draft/2020-12/schema"
    jsonschema.Draft202012Validator.check_schema(schema)
    assert path.stem in commands(), f"{path.name} is not named after a command of mftui"
    broken = unit.tmp / "broken.toml"
    broken.write_text("[instance\n")
    proc = unit.run(path.stem, "--json", config=broken)
    assert proc.returncode == 2, (proc.stdout, proc.stderr)
    data = one_json_value(proc)
    jsonschema.validate(data, schema, cls=jsonschema.Draft202012Validator)
    assert data["ok"] is False and data["reason"]


def commands() -> set[str]:
    sub = next(a for a in build_parser()._actions if a.dest == "command")
    return set(sub.choices or ())


def test_every_command_with_json_has_a_schema() -> None:
    """A command that takes --json has its docs/schemas/<command>.json: the contract covers all of them."""
    sub = next(a for a in build_parser()._actions if a.dest == "command")
    with_json = {name for name, parser in (sub.choices or {}).items()
                 if any("--json" in action.option_strings for action in parser._actions)}
    assert with_json >= {"backup", "inspect", "verify", "list", "restore", "status"}
    missing = sorted(name for name in with_json if not (SCHEMAS / f"{name}.json").is_file())
    assert not missing, f"no schema in docs/schemas/ for: {', '.join(missing)}"


def test_documented_commands_have_cases() -> None:
    """docs/JSON.md names each schema file, and this file has success and failure cases for the commands
    it documents (the other schema files are checked against their failure form above)."""
    doc = (SCHEMAS.parent / "JSON.md").read_text()
    for path in schema_files():
        assert f"schemas/{path.name}" in doc, f"docs/JSON.md does not mention {path.name}"
    covered = {c[0] for c in CASES}
    for command in covered:
        forms = {c[3] for c in CASES if c[0] == command}
        # status and watch: their failure is the settings error, checked for every schema below
        assert forms == {True, False} or command in ("status", "watch"), command
        assert (SCHEMAS / f"{command}.json").is_file(), command


def test_schemas_reject_what_breaks_the_contract(unit: Unit) -> None:
    """The schemas are not vacuous: real outputs with a field taken away or of the wrong type are refused."""
    backup = one_json_value(backup_plain(unit))
    for broken in ({k: v for k, v in backup.items() if k != "path"}, {**backup, "files": "17"},
                   {**backup, "ok": "yes"}, {"ok": False}, {"ok": False, "reason": ""}):
        assert not validator("backup").is_valid(broken), broken
    status = one_json_value(status_normal(unit))
    assert not validator("status").is_valid({**status, "state": "sleeping"})
    assert not validator("status").is_valid({**status, "surprise": 1})
    restored = one_json_value(restore_no_trial(unit))
    assert not validator("restore").is_valid({**restored, "ok": False})  # ok false only for a failed reboot
    assert not validator("restore").is_valid({"ok": False, "reason": "x"})  # "restored" is always said
