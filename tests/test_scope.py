"""Restore scope: replace takes everything from the backup, clone keeps this unit's identity files
(byte for byte), through the real command line; inspect --changes shows what each mode changes.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from test_restore_cli import mftui
from trees import file_bytes, snapshot

from mftui.archive.writer import create_backup
from mftui.instance import Instance
from mftui.restore import plan_restore, restore_backup
from mftui.settings import Settings


@pytest.fixture
def other_unit(settings: Settings, tmp_path: Path) -> Path:
    """A backup of another unit: another hub id, hostname, network, licence and key, and other flows."""
    other = tmp_path / "other" / "mobiusflow"
    import shutil

    shutil.copytree(settings.instance_root, other)
    inst = json.loads((other / "instance.json").read_text())
    (other / "instance.json").write_text(json.dumps({**inst, "hub_id": "bad0bd", "hostname": "unit-b"}))
    (other / "network" / "network.json").write_text('{"address": "10.2.2.2"}\n')
    (other / "licence" / "licence.lic").write_text("licence of unit b\n")
    (other / "flows" / "flows.json").write_text('{"flows": ["from unit b"]}\n')
    (other / "network" / "vlan.json").write_text('{"vlan": 7}\n')  # an identity file this unit lacks
    return create_backup(Settings(instance_root=other, backups_dir=tmp_path / "theirs"), "unit-b").path


def identity_files(settings: Settings) -> dict[str, bytes]:
    inst = Instance(settings)
    return {p: b for p, b in file_bytes(settings.instance_root).items() if inst.is_identity(p) and inst.includes(p)}


def test_clone_keeps_this_units_identity_byte_for_byte(settings: Settings, config_file: Path,
                                                        other_unit: Path) -> None:
    ours = identity_files(settings)
    modes = {p: (settings.instance_root / p).stat().st_mode for p in ours}
    proc = mftui(config_file, "restore", str(other_unit), "--yes", "--no-reboot", "--no-trial", "--json")
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert out["scope"] == "clone"  # the default for another unit's backup
    assert identity_files(settings) == ours  # vlan.json, the backup's, is not there either
    assert {p: (settings.instance_root / p).stat().st_mode for p in ours} == modes
    assert json.loads((settings.instance_root / "flows" / "flows.json").read_text()) == {"flows": ["from unit b"]}
    assert out["changes"]["identity_changes"] == [] and out["changes"]["changed"] == ["flows/flows.json"]


def test_take_identity_replaces_everything(settings: Settings, config_file: Path, other_unit: Path) -> None:
    proc = mftui(config_file, "restore", str(other_unit), "--yes", "--no-reboot", "--no-trial", "--take-identity",
                 "--json")
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["scope"] == "replace"
    root = settings.instance_root
    assert json.loads((root / "instance.json").read_text())["hub_id"] == "bad0bd"
    assert (root / "network" / "vlan.json").is_file()


def test_keep_identity_on_a_backup_of_this_unit(settings: Settings, config_file: Path) -> None:
    backup = create_backup(settings, "ours").path
    net = settings.instance_root / "network" / "network.json"
    net.write_text('{"address": "10.7.7.7"}\n')
    proc = mftui(config_file, "restore", str(backup), "--yes", "--no-reboot", "--no-trial", "--keep-identity")
    assert proc.returncode == 0, proc.stderr
    assert net.read_text() == '{"address": "10.7.7.7"}\n'


def test_inspect_changes_shows_both_modes(settings: Settings, config_file: Path, other_unit: Path) -> None:
    proc = mftui(config_file, "inspect", str(other_unit), "--changes", "--json")
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert out["default_scope"] == "clone" and out["changes"]["scope"] == "clone"
    clone, replace = out["scopes"]["clone"], out["scopes"]["replace"]
    assert clone["identity_changes"] == [] and clone["network_changes"] == []
    assert {"instance.json", "licence/licence.lic", "network/network.json"} <= set(replace["identity_changes"])
    assert replace["added"] == ["network/vlan.json"] and "network/network.json" in replace["network_changes"]
    text = mftui(config_file, "inspect", str(other_unit), "--changes")
    assert "Default mode: clone" in text.stdout and "With --take-identity (replace):" in text.stdout


def test_the_confirmation_names_the_mode(settings: Settings, config_file: Path, other_unit: Path) -> None:
    before = snapshot(settings.instance_root)
    proc = mftui(config_file, "restore", str(other_unit), "--no-reboot", "--no-trial", answer="n\n")
    assert proc.returncode == 1 and snapshot(settings.instance_root) == before
    assert "Mode: clone: keeps this unit's identity" in proc.stdout
    assert "over the live configuration? (clone, no trial)" in proc.stderr
    assert "restored as a clone: this unit keeps its own identity" in " ".join(proc.stdout.split())


def test_core_plan_in_either_scope(settings: Settings, other_unit: Path) -> None:
    plan = plan_restore(settings, other_unit, scope=None)
    assert plan.scope == plan.default_scope == "clone"
    replace = plan.in_scope(settings, "replace")
    assert "instance.json" in replace.changes.identity_changes and not plan.changes.identity_changes
    ours = identity_files(settings)
    result = restore_backup(settings, plan)
    assert result.scope == "clone" and identity_files(settings) == ours
