"""The fleet collection (ansible/, mftui.appliance), run by the real ansible-playbook against three local units.

Each unit is an inventory host with ``ansible_connection=local``, this venv's python and mftui, and its
own settings file, demo instance, state folder and backups folder; the controller verifies with its own
mftui settings. The collection is found through ANSIBLE_COLLECTIONS_PATH (a link to the repository's
ansible/), the way ``ansible-galaxy collection install ./ansible`` would place it.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from trees import snapshot

from mftui.demo import write_demo_tree

REPO = Path(__file__).resolve().parent.parent
COLLECTION = REPO / "ansible"
PLAYBOOKS = COLLECTION / "playbooks"
BIN = Path(sys.executable).parent
MFTUI = BIN / "mftui"
UNITS = ("unit1", "unit2", "unit3")


# ansible-core has no JSON stdout callback of its own (it is in ansible.posix): this one prints the
# results of every task by host, and the recap's stats, as one JSON object at the end.
JSON_CALLBACK = """
from __future__ import annotations
import json
from ansible.plugins.callback import CallbackBase

class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "stdout"
    CALLBACK_NAME = "mftui_test_json"

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.tasks = {}  # by name: with strategy free, the hosts' results of tasks come interleaved

    def _record(self, result, **extra):
        data = dict(result._result)
        data.update(extra)
        name = result._task.get_name()
        self.tasks.setdefault(name, {"task": {"name": name}, "hosts": {}})["hosts"][result._host.get_name()] = data

    def v2_runner_on_ok(self, result):
        self._record(result)

    def v2_runner_on_failed(self, result, ignore_errors=False):
        self._record(result, failed=True)

    def v2_runner_on_skipped(self, result):
        self._record(result, skipped=True)

    def v2_runner_on_unreachable(self, result):
        self._record(result, unreachable=True)

    def v2_playbook_on_stats(self, stats):
        hosts = sorted(stats.processed)
        out = {"plays": [{"tasks": list(self.tasks.values())}],
               "stats": {h: stats.summarize(h) for h in hosts}}
        self._display.display(json.dumps(out, default=str))
"""


def settings_text(root: Path, state: Path, backups: Path, extra: str = "") -> str:
    return (f'[instance]\nroot = "{root}"\nstate_dir = "{state}"\n[backups]\ndir = "{backups}"\n'
            f'[reboot]\nbackend = "demo"\n{extra}')


@dataclass
class Fleet:
    top: Path
    env: dict[str, str]

    def unit(self, name: str) -> Path:
        return self.top / name

    def root(self, name: str) -> Path:
        return self.unit(name) / "site" / "mobiusflow"

    def config(self, name: str) -> Path:
        return self.unit(name) / "config.toml"

    @property
    def controller_dir(self) -> Path:
        return self.top / "inventory" / "backups"

    def mftui(self, name: str, *args: str) -> Any:
        proc = subprocess.run([str(MFTUI), "--config", str(self.config(name)), *args, "--json"],
                              capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL, env=self.env)
        assert proc.returncode == 0, (proc.stdout, proc.stderr)
        return json.loads(proc.stdout)

    def playbook(self, name: str, *args: str, ok: bool = True) -> dict[str, Any]:
        """Run ansible-playbook with the JSON callback; its parsed output (plays, stats)."""
        playbook = str(PLAYBOOKS / name) if name.endswith(".yml") else name  # or mftui.appliance.restore
        cmd = [str(BIN / "ansible-playbook"), "-i", str(self.top / "inventory" / "hosts.ini"), playbook, *args]
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120, cwd=self.top,
                              stdin=subprocess.DEVNULL, env=self.env)
        assert (proc.returncode == 0) is ok, (proc.returncode, proc.stdout[-6000:], proc.stderr[-3000:])
        result: dict[str, Any] = json.loads(proc.stdout)
        return result

    def inventory(self, **host_vars: str) -> None:
        """The inventory: each unit local, with its own settings file; ``host_vars``: more, per host."""
        hosts = "".join(f"{name} mftui_config={self.config(name)} {host_vars.get(name, '')}\n" for name in UNITS)
        controller = self.top / "controller" / "config.toml"
        (self.top / "inventory" / "hosts.ini").write_text(
            f"[units]\n{hosts}\n[units:vars]\nansible_connection=local\nansible_python_interpreter={sys.executable}\n"
            f"mftui_command={MFTUI}\n\n[all:vars]\nmftui_local_command={MFTUI}\nmftui_local_config={controller}\n"
        )

    def change(self, name: str) -> None:
        (self.root(name) / "flows" / "flows.json").write_text('[{"id": "changed on the unit"}]\n')


@pytest.fixture
def fleet(tmp_path: Path) -> Fleet:
    """Three units and a controller, an inventory beside the controller's backups/, the collection linked."""
    for name in UNITS:
        unit = tmp_path / name
        root = unit / "site" / "mobiusflow"
        root.mkdir(parents=True)
        write_demo_tree(root)
        (unit / "config.toml").write_text(settings_text(root, unit / "state", unit / "backups"))
    controller = tmp_path / "controller"
    (controller / "site" / "mobiusflow").mkdir(parents=True)
    write_demo_tree(controller / "site" / "mobiusflow")
    (controller / "config.toml").write_text(settings_text(controller / "site" / "mobiusflow", controller / "state",
                                                          controller / "backups"))
    (tmp_path / "inventory").mkdir()
    collections = tmp_path / "collections" / "ansible_collections" / "mftui"
    collections.mkdir(parents=True)
    (collections / "appliance").symlink_to(COLLECTION)
    home = tmp_path / "home"
    home.mkdir()
    callbacks = tmp_path / "callbacks"
    callbacks.mkdir()
    (callbacks / "mftui_test_json.py").write_text(JSON_CALLBACK)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ANSIBLE_", "MFTUI_"))}
    env.update(HOME=str(home), ANSIBLE_COLLECTIONS_PATH=str(tmp_path / "collections"),
               ANSIBLE_STDOUT_CALLBACK="mftui_test_json",
               ANSIBLE_CALLBACK_PLUGINS=str(callbacks), ANSIBLE_NOCOLOR="1", ANSIBLE_RETRY_FILES_ENABLED="0",
               ANSIBLE_LOCAL_TEMP=str(tmp_path / "ansible-tmp"), ANSIBLE_HOST_KEY_CHECKING="0",
               PATH=f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}")
    fleet = Fleet(tmp_path, env)
    fleet.inventory()
    return fleet


def changed(result: dict[str, Any], host: str) -> int:
    return int(result["stats"][host]["changed"])


def task_results(result: dict[str, Any], task: str) -> dict[str, Any]:
    """The hosts' results of the task named ``task`` (every play: serial batches are plays of their own)."""
    out: dict[str, Any] = {}
    for play in result["plays"]:
        for t in play["tasks"]:
            if t["task"]["name"] == task:
                out.update(t["hosts"])
    return out


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_backup_gives_verified_archives_and_a_rerun_changes_nothing(fleet: Fleet) -> None:
    result = fleet.playbook("backup.yml")
    made = task_results(result, "Make a backup on the unit")
    verified = task_results(result, "Verify the archive on the controller (structure and every checksum)")
    for name in UNITS:
        assert changed(result, name) > 0 and result["stats"][name]["failures"] == 0
        archives = list((fleet.controller_dir / name).glob("*.zip"))
        assert len(archives) == 1, archives
        fetched = archives[0]
        on_unit = Path(made[name]["path"])
        assert on_unit.parent == fleet.unit(name) / "backups"  # each unit's own settings were used
        assert sha256(fetched) == sha256(on_unit) == made[name]["sha256"]
        assert fetched.stat().st_mode & 0o777 == 0o600 and (fleet.controller_dir / name).stat().st_mode & 0o777 == 0o700
        assert verified[name]["verified"]["complete"] is True and verified[name]["verified"]["files"] == 17
        assert fleet.mftui(name, "verify", str(fetched))["complete"] is True  # checked again, independently
    assert not (Path(fleet.env["HOME"]) / ".local" / "share" / "mftui").exists()  # the controller's own settings

    again = fleet.playbook("backup.yml", "-e", "mftui_if_changed=true")
    for name in UNITS:
        assert changed(again, name) == 0, again["stats"]
        assert task_results(again, "Make a backup on the unit")[name]["made"] is False
        assert len(list((fleet.controller_dir / name).glob("*.zip"))) == 1

    fleet.change("unit2")  # one unit changed: only it gets a new archive; keep one per unit
    third = fleet.playbook("backup.yml", "--limit", "unit2", "-e", "mftui_if_changed=true", "-e", "mftui_keep=1")
    assert changed(third, "unit2") > 0
    kept = list((fleet.controller_dir / "unit2").glob("*.zip"))
    assert len(kept) == 1 and sha256(kept[0]) == task_results(third, "Make a backup on the unit")["unit2"]["sha256"]


def archive_of(fleet: Fleet, name: str) -> Path:
    """A backup made on ``name``, copied to the controller as backup.yml would."""
    made = fleet.mftui(name, "backup", "--name", "golden")
    target = fleet.controller_dir / name / Path(made["path"]).name
    target.parent.mkdir(parents=True)
    shutil.copy2(made["path"], target)
    return target.relative_to(fleet.top)  # relative to where ansible-playbook runs, as a person types it


def test_restore_check_reports_changes_and_touches_nothing(fleet: Fleet) -> None:
    archive = archive_of(fleet, "unit1")
    fleet.change("unit2")
    before = {name: snapshot(fleet.unit(name)) for name in UNITS}
    result = fleet.playbook("mftui.appliance.restore", "--check", "-e", f"mftui_archive={archive}",
                            "-e", "mftui_serial=3")
    would = task_results(result, "Restore it on trial (check mode - what it would change)")
    assert would["unit2"]["changed"] is True and would["unit2"]["changes"]["changed"] == ["flows/flows.json"]
    assert would["unit1"]["changed"] is False and would["unit3"]["changed"] is False
    assert [changed(result, n) for n in UNITS] == [0, 1, 0]
    assert {name: snapshot(fleet.unit(name)) for name in UNITS} == before  # trees, state, backups: untouched
    assert all(fleet.mftui(name, "status")["state"] == "normal" for name in UNITS)


def test_restore_on_trial_one_kept_one_left_to_revert(fleet: Fleet) -> None:
    archive = archive_of(fleet, "unit1")
    fleet.change("unit2")
    fleet.change("unit3")
    changed_flows = (fleet.root("unit3") / "flows" / "flows.json").read_bytes()
    fleet.inventory(unit3="mftui_keep_trial=false mftui_trial=2s mftui_reboot=false")
    result = fleet.playbook("restore.yml", "--limit", "unit2,unit3", "-e", f"mftui_archive={archive}",
                            "-e", "mftui_serial=2")
    restored = task_results(result, "Restore it on trial (check mode - what it would change)")
    assert restored["unit2"]["trial"]["timeout_seconds"] == 600 and restored["unit2"]["reboot"]["requested"] is True
    assert restored["unit3"]["trial"]["timeout_seconds"] == 2 and restored["unit3"]["reboot"]["requested"] is False
    assert restored["unit2"]["changes"]["changed"] == ["flows/flows.json"]
    kept = task_results(result, "Keep it (mftui keep; the unit's health checks must pass)")
    assert kept["unit2"]["changed"] is True and kept["unit2"]["status"]["state"] == "kept"
    assert kept["unit3"].get("skipped")
    status = fleet.mftui("unit2", "status")
    assert status["state"] == "kept" and status["backup"] == "golden"
    golden = (fleet.root("unit1") / "flows" / "flows.json").read_bytes()
    assert (fleet.root("unit2") / "flows" / "flows.json").read_bytes() == golden
    assert fleet.mftui("unit1", "status")["state"] == "normal"  # --limit: the others untouched
    pushed = task_results(result, "Push the archive to the unit")
    assert not any(Path(pushed[n]["dest"]).exists() for n in ("unit2", "unit3"))  # removed again

    # unit3 was left on trial: mftui watch (mftui-watch.service on a unit) puts it back at the deadline
    assert fleet.mftui("unit3", "status")["state"] == "on-trial"
    assert (fleet.root("unit3") / "flows" / "flows.json").read_bytes() == golden
    deadline = datetime.fromisoformat(restored["unit3"]["trial"]["deadline"]).timestamp()
    time.sleep(max(0.0, deadline + 0.3 - time.time()))
    watched = fleet.mftui("unit3", "watch")
    assert watched["state"] == "reverted"
    assert (fleet.root("unit3") / "flows" / "flows.json").read_bytes() == changed_flows


def test_a_failed_trial_stops_the_rollout(fleet: Fleet) -> None:
    archive = archive_of(fleet, "unit2")
    config = fleet.config("unit1")
    config.write_text(config.read_text() + '[trial]\nchecks = [["false"]]\n')  # its health check fails
    for name in UNITS:
        fleet.change(name)
    # Batches of two: unit1 fails in the first, unit2 beside it does not; 1 of 2 is over 0%, so the
    # second batch (unit3) never starts. (A batch of one that fails stops a play even without the setting.)
    result = fleet.playbook("restore.yml", "-e", f"mftui_archive={archive}", "-e", "mftui_serial=2", ok=False)
    assert result["stats"]["unit1"]["failures"] == 1 and result["stats"]["unit2"]["failures"] == 0
    keep = task_results(result, "Keep it (mftui keep; the unit's health checks must pass)")
    assert keep["unit1"]["failed"] and "false" in keep["unit1"]["msg"]
    assert "unit3" not in result["stats"]  # the next batch never started
    assert fleet.mftui("unit1", "status")["state"] == "on-trial"  # left on trial: it is put back at its deadline
    assert fleet.mftui("unit2", "status")["state"] in ("kept", "on-trial")
    assert fleet.mftui("unit3", "status")["state"] == "normal"


def test_a_restore_refused_by_mftui_fails_with_its_reason(fleet: Fleet) -> None:
    broken = fleet.top / "broken.zip"
    broken.write_bytes(b"PK\x05\x06" + b"\0" * 18)
    result = fleet.playbook("restore.yml", "--limit", "unit1", "-e", f"mftui_archive={broken}", ok=False)
    verify = task_results(result, "Verify the archive on the unit (structure and every checksum)")["unit1"]
    assert verify["failed"] and verify["msg"] == verify["mftui"]["reason"] and verify["msg"]
    assert fleet.mftui("unit1", "status")["state"] == "normal"


MODULES_PLAY = """
- hosts: unit1
  gather_facts: false
  module_defaults:
    group/mftui.appliance.mftui: {command: "{{ mftui_command }}", config: "{{ mftui_config }}"}
  tasks:
    - {name: backup in check mode, mftui.appliance.mftui_backup: {name: x}, check_mode: true}
    - {name: backup, mftui.appliance.mftui_backup: {name: mine}, register: made}
    - {name: info, mftui.appliance.mftui_info: {}}
    - {name: facts, ansible.builtin.debug: {msg: "{{ mftui.backups | length }} {{ mftui.status.state }}"}}
    - {name: changes, mftui.appliance.mftui_info: {path: "{{ made.path }}", changes: true}}
    - {name: restore, mftui.appliance.mftui_restore: {path: "{{ made.path }}", no_trial: true, reboot: false}}
    - {name: previous in check mode, mftui.appliance.mftui_restore: {action: previous}, check_mode: true}
    - {name: previous, mftui.appliance.mftui_restore: {action: previous, reboot: false}}
    - {name: keep with nothing on trial, mftui.appliance.mftui_restore: {action: keep}}
    - name: no mftui
      mftui.appliance.mftui_info: {command: no-such-mftui}
      ignore_errors: true
"""


def test_the_modules_in_a_playbook_of_ones_own(fleet: Fleet) -> None:
    (fleet.top / "mine.yml").write_text(MODULES_PLAY)
    fleet.change("unit1")
    result = fleet.playbook(str(fleet.top / "mine.yml"))
    out = {name: task_results(result, name)["unit1"] for name in (
        "backup in check mode", "backup", "info", "facts", "changes", "restore", "previous in check mode",
        "previous", "keep with nothing on trial", "no mftui")}
    assert out["backup in check mode"]["changed"] and not out["backup in check mode"]["made"]
    made = out["backup"]
    assert made["changed"] and made["made"] and made["sha256"] == sha256(Path(made["path"]))
    assert [Path(b["path"]).name for b in out["info"]["backups"]] == [Path(made["path"]).name]
    assert out["info"]["status"]["state"] == "normal" and out["facts"]["msg"] == "1 normal"
    assert out["changes"]["backup"]["changes"]["unchanged"] == 17
    assert out["restore"]["changed"] and out["restore"]["trial"] is None
    assert out["restore"]["reboot"] == {"requested": False}
    assert out["previous in check mode"]["changed"] and out["previous in check mode"]["previous"]["files"] == 17
    assert out["previous"]["changed"] and out["previous"]["restore"]["name"] == "previous configuration"
    assert not out["keep with nothing on trial"]["changed"]
    assert out["no mftui"]["failed"] and "not installed" in out["no mftui"]["msg"]
    assert fleet.mftui("unit1", "status")["state"] == "normal"


def test_galaxy_installs_the_collection_and_ansible_doc_renders_each_module(fleet: Fleet) -> None:
    installed = fleet.top / "installed"
    proc = subprocess.run([str(BIN / "ansible-galaxy"), "collection", "install", "--force", str(COLLECTION), "-p",
                           str(installed)],
                          capture_output=True, text=True, timeout=60, env=fleet.env, stdin=subprocess.DEVNULL)
    assert proc.returncode == 0, proc.stderr
    assert (installed / "ansible_collections" / "mftui" / "appliance" / "playbooks" / "restore.yml").is_file()
    modules = ["mftui.appliance.mftui_backup", "mftui.appliance.mftui_info", "mftui.appliance.mftui_restore"]
    proc = subprocess.run([str(BIN / "ansible-doc"), *modules], capture_output=True, text=True, timeout=60,
                          env={**fleet.env, "ANSIBLE_COLLECTIONS_PATH": str(installed)}, stdin=subprocess.DEVNULL)
    assert proc.returncode == 0 and not proc.stderr.strip(), proc.stderr
    for module in modules:
        assert f"MODULE {module}" in proc.stdout
    assert proc.stdout.count("OPTIONS") == 3 and proc.stdout.count("RETURN VALUES") == 3
    for option in ("if_changed", "gather", "no_trial", "action", "command", "config"):
        assert option in proc.stdout


def test_ansible_lint_and_ruff_pass_on_the_collection(fleet: Fleet) -> None:
    proc = subprocess.run([str(BIN / "ruff"), "check", "--no-cache", "."], capture_output=True, text=True, timeout=60,
                          cwd=COLLECTION, stdin=subprocess.DEVNULL)  # the modules' Python (ansible/ruff.toml)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    lint = BIN / "ansible-lint"
    proc = subprocess.run([str(lint), "--offline", "--nocolor", "-q"],  # settings: ansible/.ansible-lint
                          capture_output=True, text=True, timeout=120, env=fleet.env, cwd=COLLECTION,
                          stdin=subprocess.DEVNULL)
    assert proc.returncode == 0, (proc.stdout[-4000:], proc.stderr[-4000:])


def test_encrypted_backups_are_verified_whole_with_the_office_key(fleet: Fleet) -> None:
    """Units that encrypt for the office's age key: the controller verifies every file with that key, and a
    restore --check on a unit opens the archive with a key file there."""
    office = fleet.top / "office.key"
    subprocess.run(["age-keygen", "-o", str(office)], check=True, capture_output=True)
    public = subprocess.run(["age-keygen", "-y", str(office)], check=True, capture_output=True, text=True).stdout
    (fleet.top / "recipients.txt").write_text(public)
    for name in UNITS:
        unit = fleet.unit(name)
        fleet.config(name).write_text(settings_text(
            fleet.root(name), unit / "state", unit / "backups",
            f'[protection]\nencrypt = "recipients"\nrecipients_file = "{fleet.top / "recipients.txt"}"\n'))
    result = fleet.playbook("backup.yml", "--limit", "unit1", "-e", f"mftui_local_identity={office}")
    verified = task_results(result, "Verify the archive on the controller (structure and every checksum)")
    assert verified["unit1"]["verified"]["complete"] is True, verified["unit1"]
    assert verified["unit1"]["verified"]["encrypted"]["method"] == "recipients"
    archive = next((fleet.controller_dir / "unit1").glob("*.zip")).relative_to(fleet.top)
    fleet.change("unit2")
    before = snapshot(fleet.unit("unit2"))
    checked = fleet.playbook("mftui.appliance.restore", "--check", "--limit", "unit2", "-e",
                             f"mftui_archive={archive}", "-e", f"mftui_identity={office}")
    would = task_results(checked, "Restore it on trial (check mode - what it would change)")
    assert would["unit2"]["changes"]["changed"] == ["flows/flows.json"]
    assert snapshot(fleet.unit("unit2")) == before
    without = fleet.playbook("mftui.appliance.restore", "--check", "--limit", "unit2", "-e",
                             f"mftui_archive={archive}", ok=False)
    assert without["stats"]["unit2"]["failures"] == 1
