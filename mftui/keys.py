"""Key files: recipients, identities, passphrase files and the signing key; ``mftui keygen``.

Every problem is one sentence naming the file (and the line) and saying what
to do. A key named in the settings that is wrong is a settings mistake
(SettingsError, exit 2); one given on the command line is a KeyProblem (exit 1).
"""

from __future__ import annotations

import os
import stat
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa

from .archive.age import Identity, Recipient
from .archive.age_keys import (
    ScryptIdentity,
    ScryptRecipient,
    SshEd25519Identity,
    SshEd25519Recipient,
    SshRsaIdentity,
    SshRsaRecipient,
    X25519Identity,
    X25519Recipient,
    ssh_fingerprint,
    ssh_wire,
)
from .key_errors import KeyProblem as KeyProblem  # re-exported: callers import it from here too
from .text import show

MAX_KEY_FILE = 1024 * 1024
MIN_RSA_BITS = 2048


@dataclass(frozen=True)
class Recipients:
    """Who a backup is encrypted for, and how the backup names them (age1… or SHA256:… fingerprints)."""

    recipients: tuple[Recipient, ...]
    names: tuple[str, ...]


def _read(path: Path, what: str) -> bytes:
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC | os.O_NONBLOCK)
        try:
            if not stat.S_ISREG(os.fstat(fd).st_mode):
                raise KeyProblem(f"the {what} {show(str(path))} is not a file; give the path of the file itself")
            data = os.read(fd, MAX_KEY_FILE + 1)
        finally:
            os.close(fd)
    except FileNotFoundError:
        raise KeyProblem(f"the {what} {show(str(path))} does not exist; check the path") from None
    except OSError as exc:
        raise KeyProblem(f"the {what} {show(str(path))} cannot be read ({exc.strerror}); check its owner "
                         "and permissions") from None
    if len(data) > MAX_KEY_FILE:
        raise KeyProblem(f"the {what} {show(str(path))} is larger than a key file; check the path")
    return data


def read_passphrase_file(path: Path) -> bytes:
    """The passphrase: the file's first line, without its line break. Empty is refused."""
    data = _read(path, "passphrase file")
    passphrase = data.split(b"\n", 1)[0].rstrip(b"\r")
    check_passphrase(passphrase)
    return passphrase


def check_passphrase(passphrase: bytes) -> None:
    if not passphrase:
        raise KeyProblem("the passphrase is empty, and an empty passphrase protects nothing; choose one")


def parse_recipient(line: str) -> tuple[Recipient, str]:
    """One public key as age reads it; ValueError when it is none."""
    if line.startswith("age1"):
        x = X25519Recipient.parse(line)
        return x, str(x)
    if line.startswith(("ssh-ed25519 ", "ssh-rsa ")):
        try:
            key = serialization.load_ssh_public_key(line.encode())
        except (ValueError, UnsupportedAlgorithm):
            raise ValueError("not an SSH public key") from None
        if isinstance(key, ed25519.Ed25519PublicKey):
            return SshEd25519Recipient(key), ssh_fingerprint(ssh_wire(key))
        if isinstance(key, rsa.RSAPublicKey) and key.key_size >= MIN_RSA_BITS:
            return SshRsaRecipient(key), ssh_fingerprint(ssh_wire(key))
    raise ValueError("not an age1 key, an ssh-ed25519 key or an ssh-rsa key of 2048 bits or more")


def read_recipients(path: Path) -> Recipients:
    """The recipients file: one public key a line; ``#`` comments and blank lines are skipped."""
    text = _read(path, "recipients file").decode("utf-8", errors="replace")
    recipients: list[Recipient] = []
    names: list[str] = []
    for number, line in enumerate(text.splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        try:
            recipient, name = parse_recipient(line)
        except ValueError as exc:
            raise KeyProblem(f"line {number} of the recipients file {show(str(path))} is {exc}; correct or "
                             "remove it") from None
        recipients.append(recipient)
        names.append(name)
    if not recipients:
        raise KeyProblem(f"the recipients file {show(str(path))} names no public key; add one a line "
                         "(age1… or ssh-ed25519 …)")
    return Recipients(tuple(recipients), tuple(names))


def read_identities(path: Path) -> list[Identity]:
    """An age identity file (``AGE-SECRET-KEY-1…`` lines) or an OpenSSH private key (Ed25519 or RSA)."""
    data = _read(path, "key file")
    if b"-----BEGIN OPENSSH PRIVATE KEY-----" in data or b"-----BEGIN" in data:
        return [_ssh_identity(path, data)]
    identities: list[Identity] = []
    for number, line in enumerate(data.decode("utf-8", errors="replace").splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        try:
            identities.append(X25519Identity.parse(line))
        except ValueError:
            raise KeyProblem(f"line {number} of the key file {show(str(path))} is not an age identity "
                             "(AGE-SECRET-KEY-1…); give an age key file or an OpenSSH private key") from None
    if not identities:
        raise KeyProblem(f"the key file {show(str(path))} holds no key; give an age key file or an OpenSSH "
                         "private key")
    return identities


def _ssh_identity(path: Path, data: bytes) -> Identity:
    key = load_ssh_private_key(path, data)
    if isinstance(key, ed25519.Ed25519PrivateKey):
        return SshEd25519Identity(key)
    if isinstance(key, rsa.RSAPrivateKey):
        return SshRsaIdentity(key)
    raise KeyProblem(f"the key file {show(str(path))} is an SSH key of a kind age cannot use; give an "
                     "Ed25519 or RSA key")


def load_ssh_private_key(path: Path, data: bytes | None = None) -> object:
    data = _read(path, "key file") if data is None else data
    try:
        return serialization.load_ssh_private_key(data, password=None)
    except TypeError:
        raise KeyProblem(f"the key file {show(str(path))} is protected by a passphrase, which mftui cannot ask "
                         "for; use a copy without one (ssh-keygen -p) kept where only root reads it") from None
    except (ValueError, UnsupportedAlgorithm):
        raise KeyProblem(f"the key file {show(str(path))} is not an OpenSSH private key; give one "
                         "(mftui keygen makes one)") from None


def load_sign_key(path: Path) -> ed25519.Ed25519PrivateKey:
    """The signing key: an OpenSSH Ed25519 private key."""
    key = load_ssh_private_key(path)
    if not isinstance(key, ed25519.Ed25519PrivateKey):
        raise KeyProblem(f"the signing key {show(str(path))} is not an Ed25519 key; make one with mftui keygen")
    return key


def public_line(key: ed25519.Ed25519PrivateKey, comment: str = "mftui-backup") -> str:
    line = key.public_key().public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH)
    return f"{line.decode()} {comment}"


def keygen(path: Path) -> ed25519.Ed25519PrivateKey:
    """A new Ed25519 signing key at ``path`` (mode 0600, never over an existing file) and ``path.pub``."""
    key = ed25519.Ed25519PrivateKey.generate()
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.OpenSSH,
                            serialization.NoEncryption())
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
    except FileExistsError:
        raise KeyProblem(f"{show(str(path))} already exists; mftui keygen never overwrites a key, "
                         "choose another path") from None
    except OSError as exc:
        raise KeyProblem(f"cannot write {show(str(path))} ({exc.strerror})") from None
    with os.fdopen(fd, "wb") as fh:
        fh.write(pem)
        fh.flush()
        os.fsync(fh.fileno())
    Path(f"{path}.pub").write_text(public_line(key) + "\n")
    return key


def passphrase_identity(passphrase: bytes) -> Sequence[Identity]:
    return [ScryptIdentity(passphrase)]


def passphrase_recipient(passphrase: bytes) -> Recipients:
    check_passphrase(passphrase)
    return Recipients((ScryptRecipient(passphrase),), ())
