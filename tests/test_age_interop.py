"""mftui's age and SSH signatures against the real programs: ``age``, ``age-keygen`` and ``ssh-keygen``.

What mftui encrypts, stock ``age -d`` opens, and what ``age`` encrypts mftui
opens: with an age key, an ssh-ed25519 key, an ssh-rsa key and a passphrase
(``age -p`` reads it from a terminal only, so the passphrase case runs it in
a pty). What mftui signs, ``ssh-keygen -Y verify`` accepts, and the reverse.
"""

from __future__ import annotations

import io
import os
import pty
import shutil
import subprocess
from pathlib import Path

import pytest

from mftui import keys
from mftui.archive import age, sshsig
from mftui.archive.age_keys import ScryptIdentity, ScryptRecipient

pytestmark = pytest.mark.skipif(
    not (shutil.which("age") and shutil.which("age-keygen") and shutil.which("ssh-keygen")),
    reason="needs age, age-keygen and ssh-keygen (Debian: age, openssh-client; .ci/run installs them)",
)

PLAIN = os.urandom(200_000) + b"x" * 70_000  # more than 4 chunks, the last one short


def _encrypt(recipients: keys.Recipients | list[age.Recipient], data: bytes = PLAIN) -> bytes:
    out = io.BytesIO()
    rs = recipients.recipients if isinstance(recipients, keys.Recipients) else recipients
    enc = age.Encryptor(out, rs)
    for at in range(0, len(data), 10_000):
        enc.write(data[at : at + 10_000])
    enc.close()
    return out.getvalue()


def _decrypt(data: bytes, identities: list[age.Identity]) -> bytes:
    return b"".join(age.decrypt(io.BytesIO(data), identities, size=len(data)))


def _ssh_key(tmp_path: Path, kind: str) -> Path:
    key = tmp_path / f"id_{kind}"
    extra = ["-b", "3072"] if kind == "rsa" else []
    subprocess.run(["ssh-keygen", "-q", "-t", kind, *extra, "-N", "", "-C", "tech@laptop", "-f", str(key)], check=True)
    return key


def test_age_keygen_key_both_ways(tmp_path: Path) -> None:
    key = tmp_path / "key.txt"
    subprocess.run(["age-keygen", "-o", str(key)], check=True, capture_output=True)
    public = subprocess.run(["age-keygen", "-y", str(key)], check=True, capture_output=True, text=True).stdout
    (tmp_path / "recipients.txt").write_text(f"# the office\n{public}\n")
    sealed = _encrypt(keys.read_recipients(tmp_path / "recipients.txt"))
    opened = subprocess.run(["age", "-d", "-i", str(key)], input=sealed, check=True, capture_output=True).stdout
    assert opened == PLAIN
    theirs = subprocess.run(["age", "-r", public.strip()], input=PLAIN, check=True, capture_output=True).stdout
    assert _decrypt(theirs, keys.read_identities(key)) == PLAIN


@pytest.mark.parametrize("pieces", [
    [age.CHUNK],  # one whole chunk: it is the last one
    [age.CHUNK, age.CHUNK],  # a chunk filled exactly, then a whole one
    [1, age.CHUNK - 1, 3 * age.CHUNK + 5, 0, age.CHUNK + 1],  # fill, whole chunks from the caller, a rest
    [5 * age.CHUNK],  # whole chunks straight from one large write; the last kept back
    [age.CHUNK - 7, 10, 2 * age.CHUNK - 3],  # a chunk completed across writes
])
def test_any_write_sizes_make_what_age_reads(tmp_path: Path, pieces: list[int]) -> None:
    """The encryptor seals whole chunks straight from a large write and buffers only the rest: whatever the
    sizes of the writes, stock ``age`` opens it to the same bytes (and the last chunk is never empty)."""
    key = tmp_path / "key.txt"
    subprocess.run(["age-keygen", "-o", str(key)], check=True, capture_output=True)
    data = os.urandom(sum(pieces))
    out = io.BytesIO()
    public = subprocess.run(["age-keygen", "-y", str(key)], check=True, capture_output=True, text=True).stdout
    enc = age.Encryptor(out, [keys.parse_recipient(public.strip())[0]])
    at = 0
    for n in pieces:
        enc.write(memoryview(data)[at : at + n])
        at += n
    enc.close()
    opened = subprocess.run(["age", "-d", "-i", str(key)], input=out.getvalue(), check=True,
                            capture_output=True).stdout
    assert opened == data


@pytest.mark.parametrize("kind", ["ed25519", "rsa"])
def test_ssh_key_both_ways(tmp_path: Path, kind: str) -> None:
    key = _ssh_key(tmp_path, kind)
    recipients = keys.read_recipients(Path(f"{key}.pub"))
    fingerprint = subprocess.run(["ssh-keygen", "-l", "-f", f"{key}.pub"], check=True, capture_output=True,
                                 text=True).stdout.split()[1]
    assert recipients.names == (fingerprint,)
    sealed = _encrypt(recipients)
    opened = subprocess.run(["age", "-d", "-i", str(key)], input=sealed, check=True, capture_output=True).stdout
    assert opened == PLAIN
    theirs = subprocess.run(["age", "-R", f"{key}.pub"], input=PLAIN, check=True, capture_output=True).stdout
    assert _decrypt(theirs, keys.read_identities(key)) == PLAIN


def _age_in_pty(args: list[str], passphrase: str, stdin: Path, stdout: Path) -> None:
    """Run age with a passphrase typed at its terminal prompt(s)."""
    pid, fd = pty.fork()
    if pid == 0:
        in_fd = os.open(stdin, os.O_RDONLY)
        out_fd = os.open(stdout, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        os.dup2(in_fd, 0)
        os.dup2(out_fd, 1)
        os.execvp("age", ["age", *args])
    seen = b""
    answered = 0
    while True:
        try:
            chunk = os.read(fd, 1024)
        except OSError:
            break
        if not chunk:
            break
        seen += chunk
        while seen.count(b"passphrase") > answered:
            os.write(fd, passphrase.encode() + b"\r")
            answered += 1
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0, seen


def test_passphrase_both_ways(tmp_path: Path) -> None:
    sealed = tmp_path / "mine.age"
    sealed.write_bytes(_encrypt([ScryptRecipient(b"correct horse battery")]))
    _age_in_pty(["-d", str(sealed)], "correct horse battery", Path(os.devnull), tmp_path / "opened")
    assert (tmp_path / "opened").read_bytes() == PLAIN
    (tmp_path / "plain").write_bytes(PLAIN)
    _age_in_pty(["-p", "-o", str(tmp_path / "theirs.age"), str(tmp_path / "plain")], "correct horse battery",
                Path(os.devnull), tmp_path / "unused")
    assert _decrypt((tmp_path / "theirs.age").read_bytes(), [ScryptIdentity(b"correct horse battery")]) == PLAIN
    with pytest.raises(age.NoMatchingKey):
        _decrypt((tmp_path / "theirs.age").read_bytes(), [ScryptIdentity(b"wrong")])


def test_signature_both_ways(tmp_path: Path) -> None:
    key_path = tmp_path / "sign"
    key = keys.keygen(key_path)
    assert key_path.stat().st_mode & 0o777 == 0o600
    message = b'{"format": "mftui-backup"}\n'
    (tmp_path / "backup.json").write_bytes(message)
    (tmp_path / "backup.json.sig").write_text(sshsig.sign(key, message))
    (tmp_path / "allowed_signers").write_text("office@example " + Path(f"{key_path}.pub").read_text())
    subprocess.run(["ssh-keygen", "-Y", "verify", "-f", str(tmp_path / "allowed_signers"), "-I", "office@example",
                    "-n", "mftui-backup", "-s", str(tmp_path / "backup.json.sig")],
                   input=message, check=True, capture_output=True)
    theirs = _ssh_key(tmp_path, "ed25519")
    (tmp_path / "backup.json.sig").unlink()
    subprocess.run(["ssh-keygen", "-Y", "sign", "-q", "-f", str(theirs), "-n", "mftui-backup",
                    str(tmp_path / "backup.json")], check=True, capture_output=True)
    signed = sshsig.check((tmp_path / "backup.json.sig").read_bytes(), message)
    assert signed.valid
    wire_fp = subprocess.run(["ssh-keygen", "-l", "-f", f"{theirs}.pub"], check=True, capture_output=True,
                             text=True).stdout.split()[1]
    assert signed.fingerprint == wire_fp
    assert not sshsig.check((tmp_path / "backup.json.sig").read_bytes(), message + b" ").valid
