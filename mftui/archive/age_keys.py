"""age recipients and identities: passphrase (scrypt), X25519 (``age1…``), ``ssh-ed25519`` and ``ssh-rsa``.

Each is the stanza age writes and reads (age's own ``scrypt.go``,
``x25519.go`` and ``agessh``), on ``cryptography``'s primitives.
"""

from __future__ import annotations

import hashlib
import os
import re
import threading
from collections.abc import Sequence
from concurrent.futures import Future
from dataclasses import dataclass

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, padding, rsa, x25519
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

from . import bech32
from .age import AgeError, Stanza, aead_open, aead_seal, b64decode, b64encode, hkdf
from .background import in_thread

SCRYPT_LABEL = b"age-encryption.org/v1/scrypt"
X25519_LABEL = b"age-encryption.org/v1/X25519"
ED25519_LABEL = b"age-encryption.org/v1/ssh-ed25519"
RSA_LABEL = b"age-encryption.org/v1/ssh-rsa"
# scrypt's work factor: 2**15 needs 32 MiB, so that a backup or restore stays within 100 MiB on an appliance
# (age's own default, 2**18, needs 256 MiB, and a tenth of a second becomes a second on a small ARM core).
SCRYPT_LOG_N = 15
# The most a payload may ask for when it is opened: age's default (files made by hand with ``age -p``).
MAX_SCRYPT_LOG_N = 18
_DECIMAL = re.compile(r"[1-9][0-9]?\Z")
_P = 2**255 - 19


# --- passphrase ---------------------------------------------------------------------


_derived: dict[tuple[bytes, bytes, int], Future[bytes]] = {}  # the last derivation, done or under way
_derived_lock = threading.Lock()


def _scrypt_key(passphrase: bytes, salt: bytes, log_n: int) -> bytes:
    """scrypt, its last result kept: the proof right after a backup reads back the header it wrote, and
    ``ScryptIdentity.derive_ahead`` may have started it on a thread already; neither pays for it twice."""
    return _derivation(passphrase, salt, log_n).result()


def _derivation(passphrase: bytes, salt: bytes, log_n: int, *, ahead: bool = False) -> Future[bytes]:
    key = (passphrase, salt, log_n)
    with _derived_lock:
        known = _derived.get(key)
        if known is not None:
            return known
        future: Future[bytes] = Future()
        _derived.clear()
        _derived[key] = future

    def derive() -> bytes:
        return Scrypt(salt=SCRYPT_LABEL + salt, length=32, n=2**log_n, r=8, p=1).derive(passphrase)

    if ahead:  # scrypt lets other threads run: the caller goes on reading meanwhile
        return in_thread(derive, future, name="mftui-scrypt")
    try:
        future.set_result(derive())
    except BaseException as exc:  # given to whoever waits for it too
        future.set_exception(exc)
    return future


@dataclass(frozen=True)
class ScryptRecipient:
    passphrase: bytes
    log_n: int = SCRYPT_LOG_N

    def wrap(self, file_key: bytes) -> list[Stanza]:
        salt = os.urandom(16)
        body = aead_seal(_scrypt_key(self.passphrase, salt, self.log_n), file_key)
        return [Stanza("scrypt", (b64encode(salt), str(self.log_n)), body)]


@dataclass(frozen=True)
class ScryptIdentity:
    passphrase: bytes
    max_log_n: int = MAX_SCRYPT_LOG_N

    def unwrap(self, stanzas: Sequence[Stanza]) -> bytes | None:
        found = self._stanza(stanzas)
        if found is None:
            return None
        stanza, salt, log_n = found
        return aead_open(_scrypt_key(self.passphrase, salt, log_n), stanza.body)

    def derive_ahead(self, stanzas: Sequence[Stanza]) -> None:
        """Start the scrypt that :meth:`unwrap` of these stanzas needs, on a thread (a tenth of a second that
        the caller spends on its other work); a stanza unwrap would refuse starts nothing."""
        try:
            found = self._stanza(stanzas)
        except AgeError:
            return  # unwrap says so, in its turn
        if found is not None:
            _derivation(self.passphrase, found[1], found[2], ahead=True)

    def _stanza(self, stanzas: Sequence[Stanza]) -> tuple[Stanza, bytes, int] | None:
        """The passphrase stanza, its salt and work factor, checked; None when there is none."""
        for s in stanzas:
            if s.type != "scrypt":
                continue
            if len(s.args) != 2 or not _DECIMAL.match(s.args[1]):
                raise AgeError("the encrypted payload's passphrase stanza is malformed")
            salt, log_n = b64decode(s.args[0]), int(s.args[1])
            if len(salt) != 16 or len(s.body) != 32:
                raise AgeError("the encrypted payload's passphrase stanza is malformed")
            if log_n > self.max_log_n:
                raise AgeError(f"the encrypted payload asks for a scrypt work factor of 2^{log_n}, more memory "
                               f"than this unit gives it (at most 2^{self.max_log_n}); open it on a computer")
            return s, salt, log_n
        return None


# --- X25519: age1… / AGE-SECRET-KEY-1… ----------------------------------------------


def _x25519_wrap(share_label: bytes, their: bytes, shared: bytes, ours: bytes, file_key: bytes) -> bytes:
    return aead_seal(hkdf(shared, ours + their, share_label), file_key)


def _exchange(secret: bytes, public: bytes) -> bytes:
    try:
        return x25519.X25519PrivateKey.from_private_bytes(secret).exchange(
            x25519.X25519PublicKey.from_public_bytes(public))
    except ValueError:  # an all-zero shared secret: a low-order point
        raise AgeError("a recipient stanza of the encrypted payload holds an invalid public key") from None


@dataclass(frozen=True)
class X25519Recipient:
    public: bytes

    @classmethod
    def parse(cls, text: str) -> X25519Recipient:
        hrp, data = bech32.decode(text)
        if hrp != "age" or len(data) != 32 or text != text.lower():
            raise ValueError("not an age1 public key")
        return cls(data)

    def __str__(self) -> str:
        return bech32.encode("age", self.public)

    def wrap(self, file_key: bytes) -> list[Stanza]:
        eph = os.urandom(32)
        ours = x25519.X25519PrivateKey.from_private_bytes(eph).public_key().public_bytes_raw()
        shared = _exchange(eph, self.public)
        return [Stanza("X25519", (b64encode(ours),), _x25519_wrap(X25519_LABEL, self.public, shared, ours, file_key))]


@dataclass(frozen=True)
class X25519Identity:
    secret: bytes

    @classmethod
    def parse(cls, text: str) -> X25519Identity:
        hrp, data = bech32.decode(text)
        if hrp != "age-secret-key-" or len(data) != 32 or text != text.upper():
            raise ValueError("not an AGE-SECRET-KEY-1 identity")
        return cls(data)

    @classmethod
    def generate(cls) -> X25519Identity:
        return cls(os.urandom(32))

    def __str__(self) -> str:
        return bech32.encode("age-secret-key-", self.secret).upper()

    def recipient(self) -> X25519Recipient:
        return X25519Recipient(x25519.X25519PrivateKey.from_private_bytes(self.secret).public_key().public_bytes_raw())

    def unwrap(self, stanzas: Sequence[Stanza]) -> bytes | None:
        public = self.recipient().public
        for s in stanzas:
            if s.type != "X25519":
                continue
            if len(s.args) != 1:
                raise AgeError("an X25519 stanza of the encrypted payload is malformed")
            share = b64decode(s.args[0])
            if len(share) != 32 or len(s.body) != 32:
                raise AgeError("an X25519 stanza of the encrypted payload is malformed")
            key = aead_open(hkdf(_exchange(self.secret, share), share + public, X25519_LABEL), s.body)
            if key is not None:
                return key
        return None


# --- OpenSSH keys -------------------------------------------------------------------


def ssh_wire(public: ed25519.Ed25519PublicKey | rsa.RSAPublicKey) -> bytes:
    """The key in the SSH wire format (what the base64 of an ``authorized_keys`` line holds)."""
    line = public.public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH)
    return b64decode(line.split(b" ")[1].rstrip(b"="))


def ssh_fingerprint(wire: bytes) -> str:
    """``SHA256:…``, as ``ssh-keygen -l`` prints it."""
    return "SHA256:" + b64encode(hashlib.sha256(wire).digest())


def _tag(wire: bytes) -> str:
    return b64encode(hashlib.sha256(wire).digest()[:4])


def ed25519_to_x25519_public(raw: bytes) -> bytes:
    """The Montgomery form of an Ed25519 public key: u = (1 + y) / (1 - y) mod p (RFC 7748, section 4.1)."""
    y = int.from_bytes(raw, "little") & ((1 << 255) - 1)
    if y >= _P or (1 - y) % _P == 0:
        raise ValueError("not an Ed25519 public key")
    return ((1 + y) * pow(1 - y, _P - 2, _P) % _P).to_bytes(32, "little")


def ed25519_to_x25519_secret(seed: bytes) -> bytes:
    """The X25519 scalar of an Ed25519 private key (its seed's SHA-512, first half; X25519 clamps it)."""
    return hashlib.sha512(seed).digest()[:32]


@dataclass(frozen=True)
class SshEd25519Recipient:
    key: ed25519.Ed25519PublicKey

    def wrap(self, file_key: bytes) -> list[Stanza]:
        wire = ssh_wire(self.key)
        their = ed25519_to_x25519_public(self.key.public_bytes_raw())
        eph = os.urandom(32)
        ours = x25519.X25519PrivateKey.from_private_bytes(eph).public_key().public_bytes_raw()
        shared = _exchange(hkdf(b"", wire, ED25519_LABEL), _exchange(eph, their))
        return [Stanza("ssh-ed25519", (_tag(wire), b64encode(ours)),
                       _x25519_wrap(ED25519_LABEL, their, shared, ours, file_key))]


@dataclass(frozen=True)
class SshEd25519Identity:
    key: ed25519.Ed25519PrivateKey

    def unwrap(self, stanzas: Sequence[Stanza]) -> bytes | None:
        public = self.key.public_key()
        wire = ssh_wire(public)
        their = ed25519_to_x25519_public(public.public_bytes_raw())
        secret = ed25519_to_x25519_secret(self.key.private_bytes_raw())
        for s in stanzas:
            if s.type != "ssh-ed25519" or len(s.args) != 2 or s.args[0] != _tag(wire):
                continue
            share = b64decode(s.args[1])
            if len(share) != 32 or len(s.body) != 32:
                raise AgeError("an ssh-ed25519 stanza of the encrypted payload is malformed")
            shared = _exchange(hkdf(b"", wire, ED25519_LABEL), _exchange(secret, share))
            key = aead_open(hkdf(shared, share + their, ED25519_LABEL), s.body)
            if key is not None:
                return key
        return None


def _oaep() -> padding.OAEP:
    return padding.OAEP(mgf=padding.MGF1(hashes.SHA256()), algorithm=hashes.SHA256(), label=RSA_LABEL)


@dataclass(frozen=True)
class SshRsaRecipient:
    key: rsa.RSAPublicKey

    def wrap(self, file_key: bytes) -> list[Stanza]:
        return [Stanza("ssh-rsa", (_tag(ssh_wire(self.key)),), self.key.encrypt(file_key, _oaep()))]


@dataclass(frozen=True)
class SshRsaIdentity:
    key: rsa.RSAPrivateKey

    def unwrap(self, stanzas: Sequence[Stanza]) -> bytes | None:
        tag = _tag(ssh_wire(self.key.public_key()))
        for s in stanzas:
            if s.type == "ssh-rsa" and len(s.args) == 1 and s.args[0] == tag:
                try:
                    return self.key.decrypt(s.body, _oaep())
                except ValueError:
                    return None
        return None
