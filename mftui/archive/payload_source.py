"""Reading the plain backup inside a protected backup's payload where it lies, without writing it out.

``verify`` reads the plain format-v1 archive through :class:`PayloadSource`:
the end records first, then the entries in order. Each age chunk is read,
decrypted and authenticated when a read first touches it, and the last few
are kept, so every chunk is decrypted once. Random access is safe with age's
STREAM: a chunk's nonce holds its index and whether it is the last, so a
chunk moved, dropped or cut short fails its authentication.

The SHA-256 that backup.json pins is computed over the whole payload on a
thread of its own while the key is unwrapped and the reads go on (hashlib
lets the other thread run); :meth:`PayloadSource.finish` waits for it. Any
refusal is first checked against it: a payload that is not the pinned one
(altered, or swapped in from another backup) says so, whatever broke first.
"""

from __future__ import annotations

import hashlib
import os
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305

from ..errors import ArchiveError
from . import age
from .protected import ProtectedBackup

HASH_READ = 1024 * 1024
SEALED = age.CHUNK + age.TAG
KEEP = 8  # decrypted chunks kept: the end records, and the entry being read
NOT_PINNED = ("the backup's payload does not match the SHA-256 its backup.json pins (it was altered, damaged, or "
              "swapped in from another backup); use another copy")


class _Window:
    """A file object over the payload's bytes, for age's header parser (which reads it a byte at a time)."""

    def __init__(self, fd: int, start: int, size: int) -> None:
        self.fd, self.pos, self.end = fd, start, start + size

    def read(self, n: int = -1) -> bytes:
        n = self.end - self.pos if n < 0 else min(n, self.end - self.pos)
        data = os.pread(self.fd, n, self.pos) if n > 0 else b""
        self.pos += len(data)
        return data


class PayloadHash:
    """The payload's SHA-256, computed over the container file on a thread of its own."""

    def __init__(self, fd: int, start: int, size: int) -> None:
        self.fd, self.start, self.size = fd, start, size
        self.digest: str | None = None
        self.error: OSError | None = None
        self.stop = False
        self.thread = threading.Thread(target=self._run, name="mftui-payload-hash", daemon=True)
        self.thread.start()

    def _run(self) -> None:
        sha = hashlib.sha256()
        done = 0
        try:
            while done < self.size and not self.stop:
                data = os.pread(self.fd, min(HASH_READ, self.size - done), self.start + done)
                if not data:
                    break  # cut short: the digest cannot match
                sha.update(data)
                done += len(data)
        except OSError as exc:
            self.error = exc
            return
        self.digest = sha.hexdigest() if done == self.size else ""

    def result(self) -> str:
        self.thread.join()
        if self.error is not None:
            raise ArchiveError(f"the backup cannot be read ({self.error.strerror or self.error})")
        return self.digest or ""


class PayloadSource:
    """The plain backup inside ``backup``'s payload: ``pread(size, offset)`` over its plaintext, and ``size``.

    Opens the payload with ``identities`` (age.NoMatchingKey when none fits),
    or reads it as it is when the backup is only signed. Close it when done.
    """

    def __init__(self, backup: ProtectedBackup, identities: Sequence[age.Identity]) -> None:
        self._file = open(backup.path, "rb")  # noqa: SIM115 - one descriptor for every read: what was checked
        self.fd = self._file.fileno()
        self.pinned = backup.protection.payload_sha256
        payload = backup.protection.payload_size
        self._hash = PayloadHash(self.fd, backup.payload_offset, payload)
        self._chunks: dict[int, bytes] = {}
        self._aead: ChaCha20Poly1305 | None = None  # None: only signed, the payload is the plain backup
        try:
            with self.checked():
                if backup.protection.encrypted:
                    self._open_age(backup.payload_offset, payload, identities)
                else:
                    self._start, self.size = backup.payload_offset, payload
        except BaseException:
            self.close()
            raise

    def _open_age(self, start: int, payload: int, identities: Sequence[age.Identity]) -> None:
        window = _Window(self.fd, start, payload)
        stanzas, upto, mac = age.parse_header(window)  # type: ignore[arg-type]
        key = age.unwrap_file_key(stanzas, upto, mac, identities)
        nonce = window.read(age.NONCE)
        sealed = window.end - window.pos
        if len(nonce) != age.NONCE or sealed < age.TAG:
            raise age.AgeError("the encrypted payload is cut short or damaged (a chunk is missing or short)")
        self._aead = ChaCha20Poly1305(age.hkdf(key, nonce, b"payload"))
        self._start = window.pos
        self._count = -(-sealed // SEALED)
        self._last_size = sealed - (self._count - 1) * SEALED
        if self._last_size < age.TAG or (self._last_size == age.TAG and self._count > 1):
            raise age.AgeError("the encrypted payload is cut short or damaged (a chunk is missing or short)")
        self.size = sealed - self._count * age.TAG

    def pread(self, size: int, offset: int) -> bytes:
        """Up to ``size`` plain bytes at ``offset`` (fewer at the end), each chunk authenticated first."""
        size = max(0, min(size, self.size - offset))
        if self._aead is None:
            return os.pread(self.fd, size, self._start + offset) if size else b""
        parts = []
        while size > 0:
            index, skip = divmod(offset, age.CHUNK)
            chunk = self._chunk(index)[skip : skip + size]
            parts.append(chunk)
            offset += len(chunk)
            size -= len(chunk)
        return b"".join(parts)

    def _chunk(self, index: int) -> bytes:
        plain = self._chunks.get(index)
        if plain is None:
            assert self._aead is not None
            last = index == self._count - 1
            want = self._last_size if last else SEALED
            sealed = os.pread(self.fd, want, self._start + index * SEALED)
            try:
                if len(sealed) != want:
                    raise InvalidTag
                plain = self._aead.decrypt(age._nonce(index, last), sealed, None)
            except InvalidTag:
                raise age.AgeError(
                    "the encrypted payload is damaged or cut short (a chunk fails its authentication)"
                ) from None
            if len(self._chunks) >= KEEP:
                del self._chunks[next(iter(self._chunks))]
            self._chunks[index] = plain
        return plain

    def finish(self) -> None:
        """Wait for the payload's SHA-256; ArchiveError unless it is the one backup.json pins."""
        if self._hash.result() != self.pinned:
            raise ArchiveError(NOT_PINNED)

    @contextmanager
    def checked(self) -> Iterator[None]:
        """Refusals inside are first checked against the pinned SHA-256 (altered, or only damaged?)."""
        try:
            yield
        except (ArchiveError, OSError) as exc:
            self.finish()  # NOT_PINNED takes precedence: it says what happened
            if isinstance(exc, OSError):
                raise ArchiveError(f"the backup cannot be read ({exc.strerror or exc})") from None
            raise

    def close(self) -> None:
        self._hash.stop = True
        self._hash.thread.join()
        self._chunks.clear()
        self._file.close()

    def __enter__(self) -> PayloadSource:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
