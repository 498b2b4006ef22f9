"""The embedded demo: realistic, seeded once, never clobbered."""

from __future__ import annotations

import json
import stat
from pathlib import Path

from mftui.demo import ensure_demo
from mftui.instance import Instance
from mftui.settings import Settings


def test_demo_is_a_realistic_instance(tmp_path: Path) -> None:
    root = tmp_path / "inst"
    assert ensure_demo(root)
    meta = json.loads((root / "instance.json").read_text())
    assert len(meta["hub_id"]) == 6 and int(meta["hub_id"], 16) >= 0
    services = sorted(p.stem for p in (root / "services").glob("*.json"))
    assert len(services) >= 3 and all(len(s) == 3 and int(s, 16) >= 0 for s in services)
    for rel in ("hub/psk.json", "flows/flows_cred.json", "users/users.json", "certs/hub.key",
                "licence/licence.lic", "network/network.json", "profiles/object-profiles.json"):
        assert (root / rel).is_file(), rel
    users = json.loads((root / "users/users.json").read_text())["users"]
    assert all(u["password"].startswith("scrypt$") for u in users)  # hashed, never plain
    assert stat.S_IMODE((root / "certs/hub.key").stat().st_mode) == 0o600


def test_logs_cache_historian_are_not_configuration(tmp_path: Path) -> None:
    root = tmp_path / "inst"
    ensure_demo(root)
    assert (root / "logs/hub.log").is_file() and (root / "cache").is_dir() and (root / "historian").is_dir()
    inst = Instance(Settings(instance_root=root, backups_dir=tmp_path / "b"))
    paths = [f.path for f in inst.scan()]
    assert paths and not [p for p in paths if p.split("/")[0] in ("logs", "cache", "historian")]
    assert {inst.component_of(p) for p in paths} == {
        "hub", "services", "profiles", "flows", "users", "certs", "licence", "network"
    }


def test_seeding_twice_keeps_the_users_changes(tmp_path: Path) -> None:
    root = tmp_path / "inst"
    assert ensure_demo(root)
    (root / "hub/hub.json").write_text('{"changed": true}\n')
    (root / "services/0ff.json").write_text("{}\n")
    assert not ensure_demo(root)
    assert (root / "hub/hub.json").read_text() == '{"changed": true}\n'
    assert (root / "services/0ff.json").exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".seeding-")]
