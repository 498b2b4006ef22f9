"""The age file format (age-encryption.org/v1), streaming, on the primitives of ``cryptography``.

What an encrypted backup's ``config.zip.age`` is, readable by stock ``age``:
a text header (one stanza per recipient that can unwrap the file key, and an
HMAC over the header), a 16-byte nonce, then the STREAM payload: 64 KiB
chunks, each sealed by ChaCha20-Poly1305, the last one marked. Memory is one
chunk, whatever the size of the payload.

Recipients and identities (keys.py reads their files): ``scrypt``
(passphrase), ``X25519`` (``age1…`` / ``AGE-SECRET-KEY-1…``),
``ssh-ed25519`` and ``ssh-rsa`` (OpenSSH public and private keys), each as
age's own implementation does it (checked by tests/test_age_vectors.py on
the C2SP CCTV vectors, and against the real ``age`` program).

No primitive is written here: X25519, HKDF-SHA-256, HMAC-SHA-256,
ChaCha20-Poly1305, scrypt and RSA-OAEP are ``cryptography``'s; the one piece
of arithmetic is the Ed25519-to-X25519 public key map (``u = (1+y)/(1-y)``),
for ``ssh-ed25519`` recipients, in sshkeys.py.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import os
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import BinaryIO, Protocol

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from ..errors import ArchiveError

VERSION_LINE = b"age-encryption.org/v1\n"
CHUNK = 64 * 1024
TAG = 16
NONCE = 16
FILE_KEY = 16
MAX_HEADER = 256 * 1024  # far above any header mftui or age writes (a few recipients)
_ARG = re.compile(rb"[\x21-\x7e]+\Z")


class AgeError(ArchiveError):
    """The encrypted payload is damaged, cut short, or not age."""


class NoMatchingKey(AgeError):
    """None of the given keys opens the payload (a wrong passphrase or key)."""


@dataclass(frozen=True)
class Stanza:
    """One recipient stanza of an age header."""

    type: str
    args: tuple[str, ...]
    body: bytes


class Sink(Protocol):
    """Where encrypted bytes go: a file, or a zip member being written."""

    def write(self, data: bytes, /) -> int: ...


class Recipient(Protocol):
    """Wraps a file key for one recipient (or a passphrase)."""

    def wrap(self, file_key: bytes) -> list[Stanza]: ...


class Identity(Protocol):
    """Unwraps a file key from a stanza meant for it; None when the stanza is not for it."""

    def unwrap(self, stanzas: Sequence[Stanza]) -> bytes | None: ...


# --- small helpers, shared with the recipient modules -------------------------------


def b64encode(data: bytes) -> str:
    """age's base64: standard alphabet, no padding."""
    return base64.b64encode(data).decode().rstrip("=")


def b64decode(text: str | bytes) -> bytes:
    """Strict: no padding, no other character, canonical (the unused bits zero)."""
    raw = text.encode() if isinstance(text, str) else text
    if b"=" in raw or b"\r" in raw or b"\n" in raw:
        raise AgeError("the encrypted payload's header holds base64 with padding or a line break")
    try:
        data = base64.b64decode(raw + b"=" * (-len(raw) % 4), validate=True)
    except (binascii.Error, ValueError):
        raise AgeError("the encrypted payload's header holds text that is not base64") from None
    if b64encode(data).encode() != raw:
        raise AgeError("the encrypted payload's header holds base64 that is not canonical")
    return data


def hkdf(ikm: bytes, salt: bytes, info: bytes, length: int = 32) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=length, salt=salt, info=info).derive(ikm)


def aead_seal(key: bytes, plain: bytes) -> bytes:
    return ChaCha20Poly1305(key).encrypt(b"\x00" * 12, plain, None)


def aead_open(key: bytes, sealed: bytes) -> bytes | None:
    """The file key, or None when the key does not open it (a wrong passphrase or key)."""
    if len(sealed) != FILE_KEY + TAG:
        raise AgeError("a recipient stanza of the encrypted payload holds a file key of the wrong length")
    try:
        return ChaCha20Poly1305(key).decrypt(b"\x00" * 12, sealed, None)
    except InvalidTag:
        return None


# --- the header ---------------------------------------------------------------------


def _mac(file_key: bytes, header_up_to_dashes: bytes) -> bytes:
    return hmac.digest(hkdf(file_key, b"", b"header"), header_up_to_dashes, "sha256")


def encode_header(stanzas: Sequence[Stanza], file_key: bytes) -> bytes:
    out = bytearray(VERSION_LINE)
    for s in stanzas:
        out += b"-> " + " ".join((s.type, *s.args)).encode() + b"\n"
        body = b64encode(s.body).encode()
        for at in range(0, len(body), 64):
            out += body[at : at + 64] + b"\n"
        if len(body) % 64 == 0:
            out += b"\n"  # the last line of a body is always shorter than 64 columns
    out += b"---"
    return bytes(out) + b" " + b64encode(_mac(file_key, bytes(out))).encode() + b"\n"


class _LineReader:
    """Header lines, read one byte at a time up to MAX_HEADER (the payload follows at once)."""

    def __init__(self, src: BinaryIO) -> None:
        self.src = src
        self.seen = bytearray()

    def line(self) -> bytes:
        start = len(self.seen)
        while True:
            byte = self.src.read(1)
            if not byte:
                raise AgeError("the encrypted payload ends inside its header (cut short?)")
            self.seen += byte
            if byte == b"\n":
                return bytes(self.seen[start:-1])
            if len(self.seen) > MAX_HEADER:
                raise AgeError("the encrypted payload's header is too large to be age")


def parse_header(src: BinaryIO) -> tuple[list[Stanza], bytes, bytes]:
    """(stanzas, the header bytes up to and including ``---``, the MAC); the stream is left at the nonce."""
    lines = _LineReader(src)
    if lines.line() + b"\n" != VERSION_LINE:
        raise AgeError("the payload is not in the age format this mftui reads (age-encryption.org/v1)")
    stanzas: list[Stanza] = []
    line = lines.line()
    while line.startswith(b"-> "):
        args = line[3:].split(b" ")
        if not args or any(not _ARG.match(a) for a in args):
            raise AgeError("a recipient line of the encrypted payload's header is malformed")
        body = bytearray()
        while True:
            part = lines.line()
            if len(part) > 64:
                raise AgeError("a line of the encrypted payload's header is too long")
            body += part
            if len(part) < 64:
                break
        stanzas.append(Stanza(args[0].decode(), tuple(a.decode() for a in args[1:]), b64decode(bytes(body))))
        line = lines.line()
    if not line.startswith(b"--- ") or not stanzas:
        raise AgeError("the encrypted payload's header is malformed (no recipient, or no MAC line)")
    mac = b64decode(line[4:])
    if len(mac) != 32:
        raise AgeError("the encrypted payload's header MAC has the wrong length")
    upto = bytes(lines.seen[: len(lines.seen) - len(line) - 1]) + b"---"
    return stanzas, upto, mac


def unwrap_file_key(stanzas: Sequence[Stanza], upto: bytes, mac: bytes, identities: Sequence[Identity]) -> bytes:
    """The file key the first identity that matches unwraps, its header MAC checked."""
    if any(s.type == "scrypt" for s in stanzas) and len(stanzas) != 1:
        raise AgeError("the encrypted payload mixes a passphrase with other recipients, which age never writes")
    for identity in identities:
        key = identity.unwrap(stanzas)
        if key is not None:
            if not hmac.compare_digest(_mac(key, upto), mac):
                raise AgeError("the encrypted payload's header fails its MAC (it was altered)")
            return key
    raise NoMatchingKey("no key given opens the encrypted payload")


# --- the payload: STREAM ------------------------------------------------------------


def _nonce(counter: int, last: bool) -> bytes:
    return counter.to_bytes(11, "big") + (b"\x01" if last else b"\x00")


@dataclass(frozen=True)
class Header:
    """A new file's key and header (its stanzas and MAC), made apart from its payload: a passphrase's scrypt
    takes a tenth of a second, which a backup spends on a thread of its own while it reads the files."""

    file_key: bytes
    data: bytes

    @classmethod
    def new(cls, recipients: Sequence[Recipient]) -> Header:
        file_key = os.urandom(FILE_KEY)
        stanzas = [s for r in recipients for s in r.wrap(file_key)]
        if not stanzas:
            raise ValueError("no recipient")
        return cls(file_key, encode_header(stanzas, file_key))


class Encryptor:
    """A writable stream: what is written is encrypted into ``out`` (header first); ``close`` seals the last chunk."""

    def __init__(self, out: Sink, recipients: Sequence[Recipient] | Header) -> None:
        header = recipients if isinstance(recipients, Header) else Header.new(recipients)
        nonce = os.urandom(NONCE)
        out.write(header.data)
        out.write(nonce)
        self._aead = ChaCha20Poly1305(hkdf(header.file_key, nonce, b"payload"))
        self._out = out
        self._buf = bytearray()
        self._counter = 0

    def write(self, data: bytes | bytearray | memoryview) -> int:
        view = memoryview(data)
        at = 0
        if self._buf:  # fill the chunk begun by the last write first
            at = min(len(view), CHUNK - len(self._buf))
            self._buf += view[:at]
            if len(self._buf) == CHUNK and at < len(view):
                self._seal(self._buf, last=False)
                self._buf = bytearray()
        # whole chunks straight from the caller's bytes; at least one byte is kept back, because the last
        # chunk is sealed differently, at close
        while len(view) - at > CHUNK:
            self._seal(view[at : at + CHUNK], last=False)
            at += CHUNK
        self._buf += view[at:]
        return len(view)

    def close(self) -> None:
        self._seal(self._buf, last=True)
        self._buf = bytearray()

    def _seal(self, chunk: bytes | bytearray | memoryview, *, last: bool) -> None:
        self._out.write(self._aead.encrypt(_nonce(self._counter, last), chunk, None))
        self._counter += 1


def decrypt(src: BinaryIO, identities: Sequence[Identity], *, size: int | None = None) -> Iterator[bytes]:
    """The plaintext, chunk by chunk. ``size``: the bytes of ``src`` that are the age file (else to its end).

    The header is read and its key unwrapped before the first chunk is given;
    every chunk is authenticated before it is given, a payload cut short or
    with anything after its last chunk is an AgeError at its end.
    """
    stanzas, upto, mac = parse_header(src)
    key = unwrap_file_key(stanzas, upto, mac, identities)
    left = None if size is None else size - len(upto) - 1 - len(b64encode(mac)) - 1
    return _chunks(src, key, left)


def _read(src: BinaryIO, n: int, left: int | None) -> bytes:
    if left is not None:
        n = min(n, left)
    parts = []
    while n > 0:
        data = src.read(n)
        if not data:
            break
        parts.append(data)
        n -= len(data)
    return b"".join(parts)


def _chunks(src: BinaryIO, key: bytes, left: int | None) -> Iterator[bytes]:
    nonce = _read(src, NONCE, left)
    if len(nonce) != NONCE:
        raise AgeError("the encrypted payload is cut short (no nonce)")
    if left is not None:
        left -= NONCE
    aead = ChaCha20Poly1305(hkdf(key, nonce, b"payload"))
    counter = 0
    sealed = _read(src, CHUNK + TAG, left)
    while True:
        if left is not None:
            left -= len(sealed)
        following = _read(src, CHUNK + TAG, left) if len(sealed) == CHUNK + TAG else b""
        last = not following
        if len(sealed) < TAG or (last and len(sealed) == TAG and counter > 0):
            raise AgeError("the encrypted payload is cut short or damaged (a chunk is missing or short)")
        try:
            plain = aead.decrypt(_nonce(counter, last), sealed, None)
        except InvalidTag:
            raise AgeError(
                "the encrypted payload is damaged or cut short (a chunk fails its authentication)"
            ) from None
        yield plain
        if last:
            if _read(src, 1, left):
                raise AgeError("the encrypted payload has data after its last chunk")
            return
        counter += 1
        sealed = following
