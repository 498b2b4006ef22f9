"""``mftui diff`` and history/diff.py: what changed between backups, or a backup and the live configuration.

Real backups made by mftui on a demo instance in tmp, the real
``.venv/bin/mftui`` run as a subprocess. Secrets are checked by their
values: the value must be absent from stdout, text and --json alike.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest

from mftui.history.diff import MAX_SHOWN, diff_backups, is_secret
from mftui.settings import Settings

MFTUI = Path(sys.executable).with_name("mftui")
PSK = "f5b165224a58b791df6af1d8303e61cdc4bb86c3d1c427103c344c4189eb2f1e"  # the demo's first pre-shared key
NEW_PSK = "0" * 64
HASH = "9a451da1305317feed6740b9bd7425dc"  # the salt of the demo admin's password hash
PRIVATE = "MIIEvQIBADANBgkqhkiG9w0BAQEFAASC"  # a private key's body, in a file named like a certificate


def mftui(config: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(MFTUI), "--config", str(config), *args], stdin=subprocess.DEVNULL,
                          capture_output=True, text=True, timeout=120)


def peak_rss(config: Path, *args: str) -> int:
    """The peak RSS (bytes) of one mftui run, the only child of a fresh small process (test_memory.peak_rss):
    a child forked by pytest itself starts at pytest's own RSS, which grows over a whole run."""
    from test_memory import peak_rss as measured

    code, _out, err, mib = measured("--config", str(config), *args)
    assert code == 0, err
    return int(mib * 2**20)


def backup(config: Path, name: str, *args: str) -> Path:
    done = mftui(config, "backup", "--name", name, "--json", *args)
    assert done.returncode == 0, done.stderr
    return Path(json.loads(done.stdout)["path"])


def edit(root: Path) -> None:
    """Between the two backups: a flow edited, a service added and one removed, secrets and a certificate changed,
    the licence made binary."""
    flows = root / "flows" / "flows.json"
    flows.write_text(flows.read_text().replace("HVAC schedule", "HVAC schedule (winter)"))
    (root / "services" / "0ff.json").write_text('{"id": "0ff", "name": "Modbus"}\n')
    (root / "services" / "00a.json").unlink()
    psk = root / "hub" / "psk.json"
    psk.write_text(psk.read_text().replace(PSK, NEW_PSK))
    users = root / "users" / "users.json"
    users.write_text(users.read_text().replace('"tech"', '"technician"'))
    pem = root / "certs" / "hub.pem"
    lines = pem.read_text().splitlines()
    pem.write_text("\n".join([lines[0], "CHANGEDCERTLINE", *lines[2:]]) + "\n")
    (root / "certs" / "extra.pem").write_text(f"-----BEGIN PRIVATE KEY-----\n{PRIVATE}\n-----END PRIVATE KEY-----\n")
    (root / "licence" / "licence.lic").write_bytes(b"\x00\x01\x02binary licence")


@pytest.fixture
def pair(config_file: Path, instance_root: Path) -> tuple[Path, Path, Path]:
    """(config, A, B): two backups with edit() between them."""
    a = backup(config_file, "before")
    edit(instance_root)
    b = backup(config_file, "after")
    return config_file, a, b


def test_added_changed_removed_by_component(pair: tuple[Path, Path, Path]) -> None:
    config, a, b = pair
    done = mftui(config, "diff", str(a), str(b))
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert f"What changed from {a.name} to {b.name}: 2 added, 5 changed, 1 removed" in out
    for line in ("services:", "  + services/0ff.json  added", "  - services/00a.json  removed",
                 "  ~ flows/flows.json  changed", "  + certs/extra.pem  added"):
        assert line in out, out
    assert '-    "label": "HVAC schedule"' in out and '+    "label": "HVAC schedule (winter)"' in out
    assert f"--- {a.name}/flows/flows.json" in out and f"+++ {b.name}/flows/flows.json" in out
    assert '+{"id": "0ff", "name": "Modbus"}' in out
    assert "== licence/licence.lic: changed (binary, 245 bytes -> 17 bytes)" in out
    # Unchanged files are not listed.
    assert "profiles/object-profiles.json" not in out


def test_json_list(pair: tuple[Path, Path, Path]) -> None:
    config, a, b = pair
    done = mftui(config, "diff", str(a), str(b), "--json")
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert (data["ok"], data["added"], data["changed"], data["removed"], data["live"]) == (True, 2, 5, 1, False)
    assert data["by_component"]["services"] == {"added": 1, "changed": 0, "removed": 1}
    files = {f["path"]: f for f in data["files"]}
    flow = files["flows/flows.json"]
    assert flow["change"] == "changed" and not (flow["secret"] or flow["binary"] or flow["cut"])
    assert len(flow["sha256_a"]) == len(flow["sha256_b"]) == 64 and flow["sha256_a"] != flow["sha256_b"]
    assert '+    "label": "HVAC schedule (winter)"' in flow["diff"]
    assert files["services/0ff.json"]["size_a"] is None and files["services/00a.json"]["size_b"] is None
    assert files["licence/licence.lic"]["binary"] is True and "diff" not in files["licence/licence.lic"]
    schema = json.loads((Path(__file__).parents[1] / "docs" / "schemas" / "diff.json").read_text())
    jsonschema.validate(data, schema, cls=jsonschema.Draft202012Validator)
    for broken in ({**data, "added": -1}, {**data, "files": [{**flow, "secret": True}]}):
        with pytest.raises(jsonschema.ValidationError):  # the schema is not vacuous: a secret never has a diff
            jsonschema.validate(broken, schema, cls=jsonschema.Draft202012Validator)


def test_secrets_never_printed(pair: tuple[Path, Path, Path]) -> None:
    config, a, b = pair
    for args in ((), ("--json",)):
        done = mftui(config, "diff", str(a), str(b), *args)
        assert done.returncode == 0, done.stderr
        for value in (PSK, NEW_PSK, HASH, PRIVATE, PSK[:16], NEW_PSK[:16]):
            assert value not in done.stdout and value not in done.stderr
    text = mftui(config, "diff", str(a), str(b)).stdout
    assert "== hub/psk.json: changed (secret, not shown)" in text
    assert "== users/users.json: changed (secret, not shown)" in text  # password hashes, found by content
    assert "== certs/extra.pem: added (secret, not shown)" in text  # a PEM private key, whatever its name
    files = {f["path"]: f for f in json.loads(mftui(config, "diff", str(a), str(b), "--json").stdout)["files"]}
    for path in ("hub/psk.json", "users/users.json", "certs/extra.pem"):
        assert files[path]["secret"] is True and "diff" not in files[path], path
        assert files[path]["summary"].endswith("(secret, not shown)")


def test_certificate_diffed_private_key_not(config_file: Path, instance_root: Path) -> None:
    a = backup(config_file, "before")
    certs = instance_root / "certs"
    for name in ("hub.pem", "hub.key"):
        lines = (certs / name).read_text().splitlines()
        (certs / name).write_text("\n".join([lines[0], "SECONDLINECHANGED", *lines[2:]]) + "\n")
    key_line = (certs / "hub.key").read_text().splitlines()[2]
    done = mftui(config_file, "diff", str(a))  # against the live configuration
    assert done.returncode == 0, done.stderr
    assert "What changed from" in done.stdout and "to the live configuration: 0 added, 2 changed" in done.stdout
    assert "+SECONDLINECHANGED" in done.stdout and "+++ live/certs/hub.pem" in done.stdout
    assert "== certs/hub.key: changed (secret, not shown)" in done.stdout
    assert done.stdout.count("SECONDLINECHANGED") == 1 and key_line not in done.stdout
    data = json.loads(mftui(config_file, "diff", str(a), "--json").stdout)
    key = next(f for f in data["files"] if f["path"] == "certs/hub.key")
    assert key["secret"] and len(key["sha256_b"]) == 64 and key_line not in json.dumps(data)


def test_large_text_file_is_cut(config_file: Path, instance_root: Path) -> None:
    big = instance_root / "flows" / "history.txt"
    with big.open("w") as fh:  # in pieces: this process stays small, so the child's peak RSS is its own
        for _ in range(512):
            fh.write(("x" * 99 + "\n") * 1024)
    a = backup(config_file, "before")
    with big.open("r+") as fh:
        fh.write("changed at the top\n")
    done = mftui(config_file, "diff", str(a), "--json")
    assert done.returncode == 0, done.stderr
    entry = next(f for f in json.loads(done.stdout)["files"] if f["path"] == "flows/history.txt")
    assert entry["cut"] is True and entry["size_a"] == entry["size_b"] == 52_428_800
    assert "+changed at the top" in entry["diff"] and "... cut:" in entry["diff"][-1]
    text = mftui(config_file, "diff", str(a)).stdout
    assert peak_rss(config_file, "diff", str(a), "--json") < 100 * 2**20  # streamed: the 50 MB never whole in memory
    assert len(text) < 3 * MAX_SHOWN and "cut: only the start compared, 2,000 lines or 128.0 KiB of each side" in text


def test_encrypted_backup_needs_its_key(config_file: Path, instance_root: Path, tmp_path: Path) -> None:
    passfile = tmp_path / "pass.txt"
    passfile.write_text("correct horse battery staple\n")
    a = backup(config_file, "sealed", "--encrypt", "passphrase", "--passphrase-file", str(passfile))
    edit(instance_root)
    done = mftui(config_file, "diff", str(a), "--json")
    assert done.returncode == 1
    assert json.loads(done.stdout) == {"ok": False, "reason": json.loads(done.stdout)["reason"]}
    assert "encrypted with a passphrase: give it (--passphrase-file FILE" in done.stderr
    assert done.stderr.count("\n") == 1
    done = mftui(config_file, "diff", str(a), "--passphrase-file", str(passfile))
    assert done.returncode == 0, done.stderr
    assert "~ hub/psk.json  changed" in done.stdout and NEW_PSK not in done.stdout and PSK not in done.stdout
    assert sorted(a.parent.iterdir()) == [a]  # the opened payload is removed


@pytest.mark.parametrize("what", ["missing", "not-a-zip"])
def test_bad_file_one_sentence(config_file: Path, tmp_path: Path, what: str) -> None:
    path = tmp_path / f"{what}.zip"
    if what == "not-a-zip":
        path.write_text("hello")
    for args in ((), ("--json",)):
        done = mftui(config_file, "diff", str(path), *args)
        assert done.returncode == 1
        assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr
        assert path.name in done.stderr
        if args:
            assert json.loads(done.stdout)["ok"] is False
            schema = json.loads((Path(__file__).parents[1] / "docs" / "schemas" / "diff.json").read_text())
            jsonschema.validate(json.loads(done.stdout), schema, cls=jsonschema.Draft202012Validator)
    done = mftui(config_file, "diff", "--json")
    assert done.returncode == 2 and json.loads(done.stdout)["ok"] is False


def test_unchanged_files_are_not_read(settings: Settings, tmp_path: Path) -> None:
    """Files whose SHA-256 match in both manifests are not inflated: a damaged unchanged entry goes unnoticed,
    where verify (which reads everything) refuses it."""
    from mftui.archive.writer import create_backup
    from mftui.restore import verify_backup

    a = create_backup(settings, "a").path
    (settings.instance_root / "services" / "001.json").write_text('{"id": "001"}\n')
    b = create_backup(settings, "b").path
    damaged = tmp_path / "damaged.zip"
    shutil.copy(b, damaged)
    data = bytearray(damaged.read_bytes())
    at = data.index(b"config/profiles/object-profiles.json") + len("config/profiles/object-profiles.json") + 5
    data[at] ^= 0xFF
    damaged.write_bytes(bytes(data))
    with pytest.raises(Exception, match="object-profiles.json"):
        verify_backup(settings, damaged)
    with diff_backups(settings, a, damaged) as diff:
        assert [c.path for c in diff.changes] == ["services/001.json"]
        assert diff.detail(diff.changes[0]).lines[-1] == '+{"id": "001"}'


@pytest.mark.parametrize(("path", "content", "secret"), [
    ("hub/psk.json", b"", True), ("certs/hub.key", b"", True), ("etc/shadow", b"", True),
    ("flows/flows_cred.json", b"", True), ("users/users.json", b'{"password": "scrypt$1"}', True),
    ("network/wifi.conf", b"ssid = x\npsk = hunter2\n", True), ("etc/passwd-hash", b"", True),
    ("certs/a.pem", b"-----BEGIN EC PRIVATE KEY-----\n", True),
    ("certs/a.pem", b"-----BEGIN CERTIFICATE-----\n", False), ("certs/a.pub", b"ssh-ed25519 AAAA", False),
    ("flows/flows.json", b'[{"id": "f00"}]', False), ("hub/hub.json", b'{"keyspace": 3}', False),
])
def test_is_secret(path: str, content: bytes, secret: bool) -> None:
    assert is_secret(path, content) is secret


def test_a_link_in_the_live_tree_is_said_not_followed(config_file: Path, instance_root: Path, tmp_path: Path) -> None:
    a = backup(config_file, "before")
    outside = tmp_path / "outside.json"
    outside.write_text('{"secret-looking": "OUTSIDE-THE-INSTANCE"}\n')
    flows = instance_root / "flows" / "flows.json"
    flows.unlink()
    flows.symlink_to(outside)
    done = mftui(config_file, "diff", str(a))
    assert done.returncode == 0, done.stderr
    assert "== flows/flows.json: changed (not shown: it is a symbolic link, which a restore replaces)" in done.stdout
    assert "OUTSIDE-THE-INSTANCE" not in done.stdout
    data = json.loads(mftui(config_file, "diff", str(a), "--json").stdout)
    entry = next(f for f in data["files"] if f["path"] == "flows/flows.json")
    assert entry["problem"].startswith("it is a symbolic link") and "diff" not in entry
    schema = json.loads((Path(__file__).parents[1] / "docs" / "schemas" / "diff.json").read_text())
    jsonschema.validate(data, schema, cls=jsonschema.Draft202012Validator)


def test_untrusted_text_is_escaped(config_file: Path, instance_root: Path) -> None:
    a = backup(config_file, "before")
    (instance_root / "services" / "0ff.json").write_text('{"name": "\x1b]0;owned\x07\x1b[2J"}\n')
    done = mftui(config_file, "diff", str(a))
    assert done.returncode == 0, done.stderr
    assert "\x1b" not in done.stdout and "\x07" not in done.stdout
    assert '+{"name": "\\x1b]0;owned\\x07\\x1b[2J"}' in done.stdout
    data = json.loads(mftui(config_file, "diff", str(a), "--json").stdout)
    assert data["files"][0]["diff"][-1] == '+{"name": "\\x1b]0;owned\\x07\\x1b[2J"}'
