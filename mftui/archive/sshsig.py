"""SSH signatures (OpenSSH PROTOCOL.sshsig), what ``ssh-keygen -Y sign`` writes and ``-Y verify`` checks.

A signed backup carries ``backup.json.sig``: such a signature, namespace
``mftui-backup``, over the exact bytes of ``backup.json``. Signing is with
an Ed25519 key; checking accepts Ed25519 and RSA (``rsa-sha2-256/512``)
signers. Who may sign is an OpenSSH ``allowed_signers`` file.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import struct
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, padding, rsa

from .age_keys import ssh_fingerprint

NAMESPACE = "mftui-backup"
MAGIC = b"SSHSIG"
BEGIN = "-----BEGIN SSH SIGNATURE-----"
END = "-----END SSH SIGNATURE-----"
MAX_SIGNATURE_BYTES = 16 * 1024


class SignatureProblem(ValueError):
    """A signature that cannot be read (not an SSH signature, another namespace, an unknown algorithm)."""


def _string(data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + data


class _Reader:
    def __init__(self, data: bytes) -> None:
        self.data, self.at = data, 0

    def raw(self, n: int) -> bytes:
        if self.at + n > len(self.data):
            raise SignatureProblem("the signature is cut short")
        out = self.data[self.at : self.at + n]
        self.at += n
        return out

    def string(self) -> bytes:
        (n,) = struct.unpack(">I", self.raw(4))
        return self.raw(n)

    def end(self) -> None:
        if self.at != len(self.data):
            raise SignatureProblem("the signature has data after its end")


def _signed_data(namespace: str, hash_alg: str, digest: bytes) -> bytes:
    return MAGIC + _string(namespace.encode()) + _string(b"") + _string(hash_alg.encode()) + _string(digest)


def _wire(public: ed25519.Ed25519PublicKey | rsa.RSAPublicKey) -> bytes:
    line = public.public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH)
    return base64.b64decode(line.split(b" ")[1])


def sign(key: ed25519.Ed25519PrivateKey, message: bytes, namespace: str = NAMESPACE) -> str:
    """The armoured signature of ``message`` (SHA-512), as ``ssh-keygen -Y sign`` writes it."""
    digest = hashlib.sha512(message).digest()
    signature = _string(b"ssh-ed25519") + _string(key.sign(_signed_data(namespace, "sha512", digest)))
    blob = (MAGIC + struct.pack(">I", 1) + _string(_wire(key.public_key())) + _string(namespace.encode())
            + _string(b"") + _string(b"sha512") + _string(signature))
    text = base64.b64encode(blob).decode()
    return "\n".join([BEGIN, *(text[i : i + 70] for i in range(0, len(text), 70)), END]) + "\n"


@dataclass(frozen=True)
class Signed:
    """What a readable signature says: the signer's key (SSH wire format) and whether it matches the message."""

    key_wire: bytes
    valid: bool

    @property
    def fingerprint(self) -> str:
        return ssh_fingerprint(self.key_wire)


def check(armoured: bytes, message: bytes, namespace: str = NAMESPACE) -> Signed:
    """Read the signature and check it against ``message``; SignatureProblem when it cannot be read."""
    try:
        text = armoured.decode("ascii").strip()
    except UnicodeDecodeError:
        raise SignatureProblem("the signature is not text") from None
    lines = text.splitlines()
    if len(armoured) > MAX_SIGNATURE_BYTES or len(lines) < 3 or lines[0] != BEGIN or lines[-1] != END:
        raise SignatureProblem("it is not an SSH signature")
    try:
        blob = base64.b64decode("".join(line.strip() for line in lines[1:-1]), validate=True)
    except (binascii.Error, ValueError):
        raise SignatureProblem("the signature's base64 is damaged") from None
    r = _Reader(blob)
    if r.raw(6) != MAGIC or struct.unpack(">I", r.raw(4))[0] != 1:
        raise SignatureProblem("it is not an SSH signature of version 1")
    key_wire, ns, _reserved, hash_alg, sig = r.string(), r.string(), r.string(), r.string(), r.string()
    r.end()
    if ns.decode(errors="replace") != namespace:
        raise SignatureProblem(f"the signature is for another use (namespace {ns.decode(errors='replace')!r})")
    if hash_alg not in (b"sha256", b"sha512"):
        raise SignatureProblem("the signature uses a hash this mftui does not know")
    digest = hashlib.new(hash_alg.decode(), message).digest()
    return Signed(key_wire, _verify(key_wire, sig, _signed_data(namespace, hash_alg.decode(), digest)))


def _verify(key_wire: bytes, sig: bytes, data: bytes) -> bool:
    s = _Reader(sig)
    algorithm, raw = s.string(), s.string()
    kind = _Reader(key_wire).string()
    try:
        key = serialization.load_ssh_public_key(kind + b" " + base64.b64encode(key_wire))
    except (ValueError, UnsupportedAlgorithm):
        raise SignatureProblem("the signature's key is of a kind this mftui does not check") from None
    try:
        if isinstance(key, ed25519.Ed25519PublicKey) and algorithm == b"ssh-ed25519":
            key.verify(raw, data)
        elif isinstance(key, rsa.RSAPublicKey) and algorithm in (b"rsa-sha2-256", b"rsa-sha2-512"):
            alg = hashes.SHA256() if algorithm == b"rsa-sha2-256" else hashes.SHA512()
            key.verify(raw, data, padding.PKCS1v15(), alg)
        else:
            raise SignatureProblem("the signature's algorithm is one this mftui does not check")
    except InvalidSignature:
        return False
    return True


# --- allowed_signers ----------------------------------------------------------------------


@dataclass(frozen=True)
class Signer:
    principals: str
    key_wire: bytes


def read_allowed_signers(path: Path) -> list[Signer]:
    """The signers of an OpenSSH allowed_signers file that may sign for ``mftui-backup``.

    A line is ``principals [options] keytype base64 [comment]``; lines with
    ``cert-authority`` (certificates are not checked here) or a
    ``namespaces=`` list without ``mftui-backup`` are left out.
    OSError when the file cannot be read; ValueError naming the line when one is malformed.
    """
    signers = []
    for number, line in enumerate(path.read_text(encoding="utf-8", errors="replace").splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        fields = line.split()
        at = next((i for i, f in enumerate(fields[1:], 1) if f.startswith(("ssh-", "ecdsa-", "sk-"))), None)
        if at is None or at + 1 >= len(fields):
            raise ValueError(f"line {number} of {path} is not principals, a key type and a key")
        options = ",".join(fields[1:at]).lower()
        if "cert-authority" in options:
            continue
        if "namespaces=" in options and NAMESPACE not in options:
            continue
        try:
            wire = base64.b64decode(fields[at + 1], validate=True)
        except (binascii.Error, ValueError):
            raise ValueError(f"line {number} of {path} holds a key that is not base64") from None
        signers.append(Signer(fields[0], wire))
    return signers


def signer_of(signers: list[Signer], key_wire: bytes) -> str | None:
    """The principals of the key, when allowed_signers lists it."""
    return next((s.principals for s in signers if s.key_wire == key_wire), None)
