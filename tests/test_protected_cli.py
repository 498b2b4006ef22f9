"""Protected backups through the real command line: encrypted (passphrase, recipients), signed, and the hostile cases.

Every refusal is exit 1 (2 for a settings mistake), one sentence on stderr,
one JSON object with --json, and the live configuration byte for byte as it
was (tests/trees.snapshot). Keys are made by the real ``age-keygen`` and
``ssh-keygen``; hostile archives are rewritten with zipfile (one planted
defect each) next to a control that is accepted.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from trees import snapshot

TOOLS = shutil.which("age-keygen") and shutil.which("ssh-keygen")
pytestmark = pytest.mark.skipif(not TOOLS, reason="needs age-keygen and ssh-keygen (.ci/run installs them)")


def run(config: Path, *args: str) -> subprocess.CompletedProcess[str]:
    cmd = [sys.executable, "-m", "mftui", "--config", str(config), *args]
    return subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=120)


class Site:
    """A demo instance, its settings file (extra sections appended), and keys made by the real tools."""

    def __init__(self, tmp: Path, root: Path) -> None:
        self.tmp, self.root = tmp, root
        self.backups = tmp / "backups"
        self.passfile = tmp / "pass.txt"
        self.passfile.write_text("correct horse battery staple\n")
        subprocess.run(["age-keygen", "-o", str(tmp / "age.key")], check=True, capture_output=True)
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(tmp / "office")], check=True)
        public = subprocess.run(["age-keygen", "-y", str(tmp / "age.key")], check=True, capture_output=True,
                                text=True).stdout
        (tmp / "recipients.txt").write_text(f"# office\n{public}{(tmp / 'office.pub').read_text()}")

    def config(self, extra: str = "", name: str = "config.toml") -> Path:
        path = self.tmp / name
        path.write_text(f'[instance]\nroot = "{self.root}"\n[backups]\ndir = "{self.backups}"\n'
                        f'[reboot]\nbackend = "demo"\n{extra}')
        return path

    def backup(self, config: Path, *args: str) -> Path:
        done = run(config, "backup", "--json", *args)
        assert done.returncode == 0, done.stderr
        return Path(json.loads(done.stdout)["path"])


@pytest.fixture
def site(tmp_path: Path, instance_root: Path) -> Site:
    return Site(tmp_path, instance_root)


def refused(site: Site, config: Path, *args: str, words: str, code: int = 1) -> str:
    """Run a command that must be refused: exit code, one line, one JSON object, nothing changed."""
    before = snapshot(site.root)
    done = run(config, *args, "--json")
    assert done.returncode == code, (done.stdout, done.stderr)
    assert json.loads(done.stdout)["ok"] is False
    assert words in done.stderr, done.stderr
    assert done.stderr.count("\n") == 1, done.stderr
    assert snapshot(site.root) == before
    return done.stderr


def rebuild(src: Path, dest: Path, *, payload: bytes | None = None, metadata: bytes | None = None,
            signature: bytes | None = None, drop_signature: bool = False, pin: bool = False) -> Path:
    """A copy of a protected backup with one entry replaced; ``pin``: backup.json updated to the new payload."""
    with zipfile.ZipFile(src) as zf:
        entries = {name: zf.read(name) for name in zf.namelist()}
    names = list(entries)
    if payload is not None:
        entries[names[0]] = payload
    if pin:
        meta = json.loads(entries["backup.json"])
        meta["protection"]["payload"].update(size=len(entries[names[0]]),
                                             sha256=hashlib.sha256(entries[names[0]]).hexdigest())
        entries["backup.json"] = (json.dumps(meta, indent=1) + "\n").encode()
    if metadata is not None:
        entries["backup.json"] = metadata
    if signature is not None:
        entries["backup.json.sig"] = signature
    with zipfile.ZipFile(dest, "w", zipfile.ZIP_STORED) as zf:
        for name in names:
            if not (drop_signature and name == "backup.json.sig"):
                zf.writestr(name, entries[name])
    return dest


def test_passphrase_backup_inspect_verify_restore(site: Site) -> None:
    config = site.config()
    path = site.backup(config, "--encrypt", "passphrase", "--passphrase-file", str(site.passfile))
    assert path.stat().st_mode & 0o777 == 0o600
    with zipfile.ZipFile(path) as zf:
        assert zf.namelist() == ["config.zip.age", "backup.json"]
        public = zf.read("backup.json").decode()
    assert "hub/psk.json" not in public and "sha256" in public  # the payload's, no file's
    assert not [p for p in site.backups.iterdir() if p.name.startswith(".partial-")]

    shown = run(config, "inspect", str(path))
    assert shown.returncode == 0 and "Encrypted (passphrase)" in shown.stdout and "Not signed" in shown.stdout
    data = json.loads(run(config, "inspect", str(path), "--json").stdout)
    assert data["encrypted"] == {"method": "passphrase", "recipients": []} and data["signature"]["state"] == "unsigned"
    listed = run(config, "list")
    assert "Encrypted (passphrase)" in listed.stdout

    keyless = run(config, "verify", str(path), "--json")
    assert keyless.returncode == 0 and json.loads(keyless.stdout)["complete"] is False
    assert "could not be checked" in json.loads(keyless.stdout)["unchecked"]
    full = run(config, "verify", str(path), "--passphrase-file", str(site.passfile), "--json")
    assert full.returncode == 0 and json.loads(full.stdout)["complete"] is True

    (site.root / "flows" / "flows.json").write_text("[]")
    done = run(config, "restore", str(path), "--yes", "--no-trial", "--no-reboot", "--passphrase-file",
               str(site.passfile), "--json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["path"] == str(path)
    assert (site.root / "flows" / "flows.json").read_text() != "[]"


def test_wrong_or_missing_passphrase_changes_nothing(site: Site) -> None:
    config = site.config()
    path = site.backup(config, "--encrypt", "passphrase", "--passphrase-file", str(site.passfile))
    (site.root / "flows" / "flows.json").write_text("[]")
    wrong = site.tmp / "wrong.txt"
    wrong.write_text("Correct horse battery staple\n")
    for args in (["restore", str(path), "--yes", "--no-trial"], ["verify", str(path)], ["inspect", str(path),
                                                                                         "--changes"]):
        refused(site, config, *args, "--passphrase-file", str(wrong), words="the passphrase is wrong")
    refused(site, config, "restore", str(path), "--yes", "--no-trial", words="encrypted with a passphrase: give it")
    assert not [p for p in site.backups.iterdir() if p.name.startswith(".partial-")]


def test_empty_passphrase_is_refused_at_backup(site: Site) -> None:
    config = site.config()
    empty = site.tmp / "empty.txt"
    empty.write_text("\n")
    refused(site, config, "backup", "--encrypt", "passphrase", "--passphrase-file", str(empty),
            words="the passphrase is empty")
    assert not site.backups.exists() or not list(site.backups.iterdir())
    refused(site, config, "backup", "--encrypt", "passphrase", words="no terminal to ask on", code=2)


@pytest.mark.parametrize("key", ["age.key", "office"])
def test_recipients_open_with_either_key(site: Site, key: str) -> None:
    config = site.config('[protection]\nencrypt = "recipients"\nrecipients_file = "recipients.txt"\n')
    path = site.backup(config)
    data = json.loads(run(config, "inspect", str(path), "--json").stdout)
    assert data["encrypted"]["method"] == "recipients"
    assert data["encrypted"]["recipients"][0].startswith("age1")
    assert data["encrypted"]["recipients"][1].startswith("SHA256:")
    done = run(config, "verify", str(path), "--identity", str(site.tmp / key), "--json")
    assert done.returncode == 0 and json.loads(done.stdout)["complete"] is True, done.stderr


def test_key_file_problems(site: Site) -> None:
    config = site.config('[protection]\nencrypt = "recipients"\nrecipients_file = "recipients.txt"\n')
    path = site.backup(config)
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(site.tmp / "other")], check=True)
    restore = ["restore", str(path), "--yes", "--no-trial"]
    refused(site, config, *restore, "--identity", str(site.tmp / "other"), words="does not open this backup")
    refused(site, config, *restore, "--identity", str(site.tmp / "gone"), words="does not exist")
    refused(site, config, *restore, "--identity", str(site.tmp / "recipients.txt"), words="is not an age identity")
    refused(site, config, *restore, "--identity", str(site.tmp), words="not a file")
    refused(site, config, *restore, words="give the matching private key with --identity")


def test_malformed_recipients_line(site: Site) -> None:
    bad = site.tmp / "bad.txt"
    bad.write_text("# office\nage1notakey\n")
    config = site.config()
    refused(site, config, "backup", "--encrypt", "recipients", "--recipients-file", str(bad),
            words="line 2 of the recipients file")
    config = site.config('[protection]\nencrypt = "recipients"\nrecipients_file = "bad.txt"\n')
    refused(site, config, "backup", words="line 2 of the recipients file", code=2)


def _signed_site(site: Site, *, require: bool = True, encrypt: str = "passphrase") -> tuple[Path, Path]:
    sign = site.tmp / "sign"
    assert run(site.config(name="keygen.toml"), "keygen", str(sign)).returncode == 0
    assert sign.stat().st_mode & 0o777 == 0o600
    (site.tmp / "allowed_signers").write_text(f"office@example {(site.tmp / 'sign.pub').read_text()}")
    config = site.config(f'[protection]\nencrypt = "{encrypt}"\npassphrase_file = "pass.txt"\nsign_key = "sign"\n'
                         'recipients_file = "recipients.txt"\n'
                         f'[trust]\nallowed_signers = "allowed_signers"\nrequire_signature = {str(require).lower()}\n')
    return config, site.backup(config)


def test_signed_backup_is_shown_and_accepted(site: Site) -> None:
    config, path = _signed_site(site)
    shown = run(config, "inspect", str(path))
    assert "Signed by office@example (SHA256:" in shown.stdout
    done = run(config, "restore", str(path), "--yes", "--no-trial", "--no-reboot", "--json")
    assert done.returncode == 0, done.stderr
    safety = Path(json.loads(done.stdout)["safety_archive"])
    with zipfile.ZipFile(safety) as zf:  # the safety archive is protected like the unit's backups
        assert zf.namelist() == ["config.zip.age", "backup.json.sig", "backup.json"]


def test_signature_refusals(site: Site) -> None:
    config, path = _signed_site(site)
    restore = ["restore", "--yes", "--no-trial"]
    stripped = rebuild(path, site.tmp / "stripped.zip", drop_signature=True)
    refused(site, config, *restore, str(stripped), words="this backup is not signed")
    refused(site, config, "verify", str(stripped), words="this backup is not signed")
    meta = json.loads(zipfile.ZipFile(path).read("backup.json"))
    meta["instance"]["hostname"] = "forged"
    forged = rebuild(path, site.tmp / "forged.zip", metadata=(json.dumps(meta, indent=1) + "\n").encode())
    refused(site, config, *restore, str(forged), words="signature does not verify")
    other_key = site.tmp / "intruder"
    run(site.config(name="keygen.toml"), "keygen", str(other_key))
    intruder = site.config('[protection]\nencrypt = "passphrase"\npassphrase_file = "pass.txt"\n'
                           'sign_key = "intruder"\n', name="intruder.toml")
    foreign = site.backup(intruder)
    words = refused(site, config, *restore, str(foreign), words="signed by a key that is not in")
    fingerprint = subprocess.run(["ssh-keygen", "-l", "-f", f"{other_key}.pub"], capture_output=True, text=True,
                                 check=True).stdout.split()[1]
    assert fingerprint in words
    plain = site.backup(site.config(name="plain.toml"))
    refused(site, config, *restore, str(plain), words="this backup is not signed")
    control = rebuild(path, site.tmp / "control.zip")
    assert run(config, "verify", str(control)).returncode == 0


def test_require_encryption_refuses_plain(site: Site) -> None:
    plain = site.backup(site.config())
    config = site.config("[trust]\nrequire_encryption = true\n")
    refused(site, config, "restore", str(plain), "--yes", "--no-trial", words="this backup is not encrypted")
    refused(site, config, "verify", str(plain), words="this backup is not encrypted")


def test_damaged_payloads_are_refused(site: Site) -> None:
    config = site.config()
    path = site.backup(config, "--encrypt", "passphrase", "--passphrase-file", str(site.passfile))
    other = site.backup(config, "--name", "other", "--encrypt", "passphrase", "--passphrase-file",
                        str(site.passfile))
    payload = zipfile.ZipFile(path).read("config.zip.age")
    flipped = bytearray(payload)
    flipped[-100] ^= 0x01
    restore = ["restore", "--yes", "--no-trial", "--passphrase-file", str(site.passfile)]
    cases = {
        "cut.zip": (dict(payload=payload[:-1000], pin=True), "cut short"),
        "bit.zip": (dict(payload=bytes(flipped), pin=True), "fails its authentication"),
        "bit-unpinned.zip": (dict(payload=bytes(flipped)), "does not match the SHA-256"),
        "swapped.zip": (dict(payload=zipfile.ZipFile(other).read("config.zip.age"), pin=True), "disagrees"),
    }
    for name, (change, words) in cases.items():
        refused(site, config, *restore, str(rebuild(path, site.tmp / name, **change)), words=words)  # type: ignore[arg-type]
    meta = json.loads(zipfile.ZipFile(path).read("backup.json"))
    meta["instance"]["hostname"] = "another-unit"
    lying = rebuild(path, site.tmp / "lying.zip", metadata=(json.dumps(meta, indent=1) + "\n").encode())
    refused(site, config, *restore, str(lying), words="public information disagrees with its encrypted manifest")
    assert run(config, *restore, str(rebuild(path, site.tmp / "control.zip")), "--no-reboot").returncode == 0


def test_readme_lines_work_as_printed(site: Site) -> None:
    """The README's laptop lines, run by bash as printed (B.zip, key.txt, allowed_signers, the principal)."""
    _signed_site(site, encrypt="recipients")
    config = site.config('[protection]\nencrypt = "recipients"\nrecipients_file = "recipients.txt"\n'
                         'sign_key = "sign"\n', name="office.toml")
    path = site.backup(config)
    shutil.copy(path, site.tmp / "B.zip")
    shutil.copy(site.tmp / "age.key", site.tmp / "key.txt")
    readme = (Path(__file__).parent.parent / "README.md").read_text()
    block = readme.split("On a laptop, with standard tools only", 1)[1].split("```sh\n", 1)[1].split("```", 1)[0]
    lines = [line for line in block.splitlines() if "key.txt" in line or "ssh-keygen -Y verify" in line]
    assert len(lines) == 2, block
    if not (shutil.which("age") and shutil.which("unzip")):
        pytest.skip("needs age and unzip")
    for line in lines:
        done = subprocess.run(["bash", "-c", line], cwd=site.tmp, capture_output=True, text=True)
        assert done.returncode == 0, (line, done.stderr)
    assert run(config, "verify", str(site.tmp / "plain.zip")).returncode == 0  # the plain backup inside


def test_keygen_never_overwrites(site: Site) -> None:
    config = site.config()
    first = run(config, "keygen", str(site.tmp / "k"), "--json")
    assert first.returncode == 0 and json.loads(first.stdout)["public_key"].startswith("ssh-ed25519 ")
    before = (site.tmp / "k").read_bytes()
    refused(site, config, "keygen", str(site.tmp / "k"), words="never overwrites a key")
    assert (site.tmp / "k").read_bytes() == before


def test_readme_passphrase_line_works_as_printed(site: Site) -> None:
    """The README's passphrase line, run by bash on a terminal (age asks there), typed the passphrase."""
    import os
    import pty

    if not (shutil.which("age") and shutil.which("unzip")):
        pytest.skip("needs age and unzip")
    config = site.config()
    shutil.copy(site.backup(config, "--encrypt", "passphrase", "--passphrase-file", str(site.passfile)),
                site.tmp / "B.zip")
    readme = (Path(__file__).parent.parent / "README.md").read_text()
    block = readme.split("On a laptop, with standard tools only", 1)[1].split("```sh\n", 1)[1].split("```", 1)[0]
    (line,) = [line for line in block.splitlines() if "# passphrase" in line]
    pid, fd = pty.fork()
    if pid == 0:
        os.chdir(site.tmp)
        os.execvp("bash", ["bash", "-c", line])
    shown = b""
    while True:
        try:
            chunk = os.read(fd, 1024)
        except OSError:
            break
        if not chunk:
            break
        shown += chunk
        if b"passphrase" in chunk.lower():
            os.write(fd, b"correct horse battery staple\r")
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0, shown
    assert run(config, "verify", str(site.tmp / "plain.zip")).returncode == 0


def test_container_layout_is_strict(site: Site) -> None:
    """Data before the first entry or after the end record: refused like any archive mftui could not have made."""
    config = site.config()
    path = site.backup(config, "--encrypt", "passphrase", "--passphrase-file", str(site.passfile))
    data = path.read_bytes()
    restore = ["restore", "--yes", "--no-trial", "--passphrase-file", str(site.passfile)]
    before = site.tmp / "before.zip"
    before.write_bytes(b"\0" * 64 + data)  # zipfile alone reads this one, shifting every offset
    refused(site, config, *restore, str(before), words="is not where mftui writes it")
    after = site.tmp / "after.zip"
    after.write_bytes(data + b"\0" * 64)
    refused(site, config, "inspect", str(after), words="")
    assert run(config, "inspect", str(path)).returncode == 0


def test_the_core_backup_follows_the_settings(site: Site) -> None:
    """create_backup without a Protector (the TUI's call) encrypts as [protection] says, never plain by mistake."""
    from mftui.archive.writer import create_backup
    from mftui.errors import SettingsError
    from mftui.keys import KeyProblem
    from mftui.settings import parse_settings_file

    settings = parse_settings_file(site.config('[protection]\nencrypt = "recipients"\n'
                                               'recipients_file = "recipients.txt"\n'))
    with zipfile.ZipFile(create_backup(settings, "core").path) as zf:
        assert zf.namelist() == ["config.zip.age", "backup.json"]
    settings = parse_settings_file(site.config('[protection]\nencrypt = "passphrase"\n'))
    with pytest.raises(KeyProblem, match="encrypted with a passphrase here, and none was given"):
        create_backup(settings, "core")
    settings = parse_settings_file(site.config('[protection]\nsign_key = "missing"\n'))
    with pytest.raises(SettingsError, match="sign_key"):
        create_backup(settings, "core")


def test_plain_commands_never_import_cryptography(site: Site) -> None:
    """A unit without protection pays nothing for it: backup, inspect, verify and restore of plain backups."""
    config = site.config()
    path = site.backup(config)
    for args in (["backup"], ["inspect", str(path)], ["verify", str(path)], ["list"],
                 ["restore", str(path), "--yes", "--no-trial", "--no-reboot"]):
        code = ("import sys\nfrom mftui.cli import main\n"
                f"code = main(['--config', {str(config)!r}, *{args!r}])\n"
                "assert 'cryptography' not in sys.modules, 'cryptography imported'\nsys.exit(code)\n")
        done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                              stdin=subprocess.DEVNULL)
        assert done.returncode == 0, (args, done.stderr)


def test_the_core_refuses_a_protected_backup_given_as_plain(site: Site) -> None:
    """plan_restore, verify_backup and compare on a protected file (a face that did not open it): KeyNeeded."""
    from mftui.protection import KeyNeeded, open_backup
    from mftui.restore import plan_restore, verify_backup
    from mftui.restore.transaction import compare
    from mftui.settings import parse_settings_file

    config = site.config()
    path = site.backup(config, "--encrypt", "passphrase", "--passphrase-file", str(site.passfile))
    settings = parse_settings_file(config)
    for call in (plan_restore, verify_backup, compare):
        with pytest.raises(KeyNeeded, match=r"Encrypted \(passphrase\)") as caught:
            call(settings, path)
        assert caught.value.encryption == "passphrase"
    with open_backup(settings, path, passphrase=b"correct horse battery staple") as found:
        assert verify_backup(settings, found.plain).name == found.described.info.name
        plan = plan_restore(settings, found.plain)
    assert not found.plain.exists()  # the opened payload is removed at close
    assert plan.info.name == found.described.info.name


def test_signed_only_backup_needs_no_key(site: Site) -> None:
    """Signed, not encrypted: config.zip inside, verified and restored without any key; standard unzip reads it."""
    run(site.config(name="keygen.toml"), "keygen", str(site.tmp / "sign"))
    config = site.config('[protection]\nsign_key = "sign"\n')
    path = site.backup(config)
    with zipfile.ZipFile(path) as zf:
        assert zf.namelist() == ["config.zip", "backup.json.sig", "backup.json"]
    shown = json.loads(run(config, "inspect", str(path), "--json").stdout)
    assert shown["encrypted"] is False and shown["signature"]["state"] == "unknown"  # no allowed_signers here
    done = run(config, "verify", str(path), "--json")
    assert done.returncode == 0 and json.loads(done.stdout)["complete"] is True


def test_identity_file_from_the_settings_is_a_settings_mistake(site: Site) -> None:
    config = site.config('[protection]\nencrypt = "recipients"\nrecipients_file = "recipients.txt"\n'
                         'identity_file = "missing.key"\n')
    path = site.backup(config)
    refused(site, config, "verify", str(path), words="[protection] identity_file", code=2)


def test_verify_with_key_refuses_every_damage_restore_refuses(site: Site) -> None:
    """verify reads the plain backup inside where it lies: each damage still gets its own sentence."""
    config = site.config()
    (site.root / "flows" / "firmware-notes.bin").write_bytes(os.urandom(200_000))  # several age chunks
    path = site.backup(config, "--encrypt", "passphrase", "--passphrase-file", str(site.passfile))
    other = site.backup(config, "--name", "other", "--encrypt", "passphrase", "--passphrase-file",
                        str(site.passfile))
    payload = zipfile.ZipFile(path).read("config.zip.age")
    flipped = bytearray(payload)
    flipped[-100] ^= 0x01
    header = payload.index(b"\n---") + 1
    header = payload.index(b"\n", header) + 1 + 16  # header, MAC line, nonce: the chunks start here
    whole = header + 65536 + 16  # one whole chunk, sealed as "not the last"
    verify = ["verify", "--passphrase-file", str(site.passfile)]
    cases = {
        "cut.zip": (dict(payload=payload[:-1000], pin=True), "cut short"),
        "boundary.zip": (dict(payload=payload[:whole], pin=True), "fails its authentication"),
        "bit.zip": (dict(payload=bytes(flipped), pin=True), "fails its authentication"),
        "bit-unpinned.zip": (dict(payload=bytes(flipped)), "does not match the SHA-256"),
        "swapped.zip": (dict(payload=zipfile.ZipFile(other).read("config.zip.age"), pin=True), "disagrees"),
        "swapped-unpinned.zip": (dict(payload=zipfile.ZipFile(other).read("config.zip.age")),
                                 "does not describe the payload it holds"),
    }
    assert len(payload) > whole + 1000, "the demo backup must span more than one age chunk"
    for name, (change, words) in cases.items():
        refused(site, config, *verify, str(rebuild(path, site.tmp / name, **change)), words=words)  # type: ignore[arg-type]
    wrong = site.tmp / "wrong.txt"
    wrong.write_text("not the passphrase\n")
    refused(site, config, "verify", "--passphrase-file", str(wrong), str(path), words="passphrase is wrong")
    assert run(config, *verify, str(rebuild(path, site.tmp / "control.zip"))).returncode == 0


def test_verify_with_key_writes_nothing(site: Site, tmp_path: Path) -> None:
    """A protected backup on a read-only medium (a write-protected stick) is verified with its key."""
    config = site.config()
    path = site.backup(config, "--recipients-file", str(site.tmp / "recipients.txt"), "--encrypt", "recipients")
    stick = tmp_path / "stick"
    stick.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(stick)],
                      capture_output=True).returncode != 0:
        pytest.skip("needs root to mount a tmpfs")
    try:
        shutil.copy(path, stick / path.name)
        subprocess.run(["mount", "-o", "remount,ro", str(stick)], check=True)
        on_stick = site.tmp / "stick.toml"  # the backups folder is the read-only stick
        on_stick.write_text(config.read_text().replace(str(site.backups), str(stick)))
        done = run(on_stick, "verify", "--identity", str(site.tmp / "age.key"), "--json",
                   str(stick / path.name))
        assert done.returncode == 0, done.stderr
        assert json.loads(done.stdout)["complete"] is True
    finally:
        subprocess.run(["umount", str(stick)], check=True)


def test_inspect_changes_of_an_encrypted_backup_writes_nothing(site: Site) -> None:
    """What a restore would change is read from the encrypted manifest where it lies: no partial file, not even
    the backups folder made (an Ansible --check run must leave the unit as it was)."""
    config = site.config()
    path = site.backup(config, "--encrypt", "passphrase", "--passphrase-file", str(site.passfile))
    moved = site.tmp / "elsewhere" / path.name
    moved.parent.mkdir()
    path.rename(moved)
    site.backups.rmdir()
    (site.root / "flows" / "flows.json").write_text('[{"id": "changed"}]\n')
    done = run(config, "inspect", str(moved), "--changes", "--passphrase-file", str(site.passfile), "--json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["changes"]["changed"] == ["flows/flows.json"]
    assert not site.backups.exists()
