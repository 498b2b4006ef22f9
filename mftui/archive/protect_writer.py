"""Writing a protected backup: the plain backup encrypted and/or signed into its container, as it is written.

writer.py lays out the plain format-v1 archive into a :class:`PlainFollower`,
not a file: each time the zip writer finishes a member
(zipstream.ZipStream.settled) its bytes are final, and go through age into
``config.zip.age`` of the :class:`ContainerWriter` (or are copied into
``config.zip`` when only signed), hashed on a thread of their own. Only a
large member, whose local header is patched at its end, waits until then (in
memory, past a few MiB in an unlinked file). So the plain archive, which
holds every secret of the unit, is never written out whole, and a backup
killed half-way leaves only the encrypted partial file. The encryption
overlaps the reading and compressing of the files, and the age header (a
passphrase's scrypt) is made on a thread while the files are scanned. Then
the public ``backup.json`` (protected.py), signed when a key is set.
Afterwards the key is proven: the new archive is read back and its payload
opened with the passphrase (the header and the whole first file), or, for
recipients, its header parsed and its stanzas counted. No key that cannot
open it is ever left behind as a backup.
"""

from __future__ import annotations

import hashlib
import os
import struct
import tempfile
import zlib
from collections.abc import Iterable
from concurrent.futures import Future
from pathlib import Path
from typing import IO, Any

from ..errors import BackupError
from . import age, sshsig
from .background import Background, in_thread
from .format import BackupInfo
from .protected import (
    ENCRYPTED_PAYLOAD,
    METADATA,
    PLAIN_PAYLOAD,
    SIGNATURE_NAME,
    Protection,
    public_json,
    read_protected,
)
from .protector import Protector
from .zipstream import SEE_ZIP64, STORED, ZipStream

COPY = 1024 * 1024
HOLD = 8 * 1024 * 1024  # bytes of a large member kept in memory until it ends; the rest waits in a file
MAX_PAYLOAD = SEE_ZIP64  # the container's payload entry has a 32-bit size (protected.read_protected reads no ZIP64)


class _Hashing:
    """What is written goes into the zip member; its CRC and SHA-256 are counted on a thread of their own,
    a MiB at a time (a hand-over per age chunk would wake that thread sixteen times as often)."""

    def __init__(self, zs: ZipStream) -> None:
        self.zs = zs
        self.crc = 0
        self.size = 0
        self.sha = hashlib.sha256()
        self.hasher = Background(self._hash, size=COPY)
        self._gathered: list[bytes] = []
        self._gathered_bytes = 0

    def _hash(self, data: bytes) -> None:
        self.crc = zlib.crc32(data, self.crc)
        self.sha.update(data)

    def write(self, data: bytes | bytearray | memoryview) -> int:
        self.zs.write(data)
        self._gathered.append(bytes(data))
        self._gathered_bytes += len(data)
        self.size += len(data)
        if self._gathered_bytes >= COPY:
            self._hand_over()
        return len(data)

    def _hand_over(self) -> None:
        self.hasher.put(b"".join(self._gathered))
        self._gathered.clear()
        self._gathered_bytes = 0

    def close(self) -> None:
        if self._gathered and self.hasher.error is None:
            self._hand_over()
        self.hasher.close()


def start_header(protector: Protector) -> Future[age.Header] | None:
    """The age header of the next backup, made on a thread from now (scrypt lets other threads run, so a
    passphrase costs the backup little time); None when it is not encrypted."""
    if protector.encryption == "none":
        return None
    return in_thread(lambda: age.Header.new(protector.recipients), name="mftui-age-header")


class ContainerWriter:
    """The protected archive, in a partial file of its own in ``dest_dir``: :meth:`write` takes the plain
    archive's bytes in order (from a :class:`PlainFollower`), then :meth:`finish`; :meth:`discard` removes the
    partial file whatever happened."""

    def __init__(self, dest_dir: Path, protector: Protector, header: Future[age.Header] | None, *,
                 mtime_ns: int, prefix: str) -> None:
        self.protector = protector
        self.mtime_ns = mtime_ns
        self._header = header
        fd, name = tempfile.mkstemp(prefix=prefix, suffix=".zip", dir=dest_dir)
        self.path = Path(name)
        self.raw = os.fdopen(fd, "wb", buffering=COPY)
        self.zs = ZipStream(self.raw)
        self.name = PLAIN_PAYLOAD if protector.encryption == "none" else ENCRYPTED_PAYLOAD
        # Never a ZIP64 local header: the container is read without ZIP64 (protected.read_protected), so a
        # payload of 4 GiB or more is refused when it ends (MAX_PAYLOAD), leaving nothing behind;
        # [limits] max_total_mib (4096) keeps a configuration below that.
        self.zs.begin(self.name, method=STORED, size=0, mode=0o600, mtime_ns=mtime_ns)
        self.out = _Hashing(self.zs)
        self.sink: _Hashing | age.Encryptor | None = None

    def write(self, data: bytes | bytearray | memoryview) -> None:
        """The plain archive's next bytes, final: encrypted (or copied) into the payload."""
        if self.sink is None:  # the age header (a passphrase's scrypt) is waited for only now
            self.sink = self.out if self._header is None else age.Encryptor(self.out, self._header.result())
        self.sink.write(data)

    def finish(self, info: BackupInfo) -> Path:
        """The payload ended, backup.json and its signature; the file synced and proven to open with its key;
        its path."""
        try:
            self.write(b"")  # a payload of nothing still has its header
            if isinstance(self.sink, age.Encryptor):
                self.sink.close()
        finally:
            self.out.close()  # the hashing thread has seen every byte
        if self.out.size >= MAX_PAYLOAD:
            raise BackupError(
                f"the encrypted backup would be {self.out.size / 2**30:.1f} GiB, and one holds less than 4 GiB "
                "(its container has no ZIP64), so none was made; add what is not configuration (logs, "
                "databases, caches) to [instance] exclude in the settings")
        self.zs.end(crc=self.out.crc, size=self.out.size)
        protection = Protection(self.protector.encryption, self.protector.names, self.name, self.out.size,
                                self.out.sha.hexdigest())
        metadata = public_json(info, protection)
        if self.protector.sign_key is not None:
            signature = sshsig.sign(self.protector.sign_key, metadata).encode()
            self.zs.add(SIGNATURE_NAME, signature, method=STORED, crc=zlib.crc32(signature), size=len(signature),
                        mode=0o600, mtime_ns=self.mtime_ns)
        self.zs.add(METADATA, metadata, method=STORED, crc=zlib.crc32(metadata), size=len(metadata), mode=0o600,
                    mtime_ns=self.mtime_ns)
        self.zs.close()
        self.raw.flush()
        os.fsync(self.raw.fileno())
        self.raw.close()
        prove(self.path, self.protector)
        return self.path

    def discard(self) -> None:
        """Remove the partial file (after a failure); the hashing thread is stopped."""
        try:
            self.out.close()
        except BaseException:  # noqa: S110 - the failure being handled is the one to report
            pass
        try:
            self.raw.close()
        except OSError:
            pass
        self.path.unlink(missing_ok=True)


class PlainFollower:
    """The zip writer's output for a protected backup: the plain archive goes to the container as its bytes
    become final (ZipStream.settled, after each member), so it is never written out whole.

    Only a member framed piece by piece (a large file: its local header is patched at its end, see
    :meth:`patch`) waits: in memory, and past HOLD bytes in an unlinked file of its own beside the backups
    (gone with the process, whatever happens), read back once the member ends.
    """

    def __init__(self, container: ContainerWriter, spill_dir: Path) -> None:
        self.container = container
        self.spill_dir = spill_dir
        self.held = bytearray()  # the bytes from ``start`` on, while nothing is spilled
        self.start = 0  # the archive offset of held[0], or of the spill file's first byte
        self.end = 0  # the archive offset after the last byte written
        self.spill: IO[Any] | None = None
        self.spilling = False

    def tell(self) -> int:
        return self.end

    def write(self, data: bytes | bytearray | memoryview) -> int:
        if self.spilling:
            assert self.spill is not None
            self.spill.write(data)
        else:
            self.held += data
            if len(self.held) > HOLD:
                self._spill()
        self.end += len(data)
        return len(data)

    def flush(self) -> None:
        """Nothing to flush: what is final has gone to the container."""

    def patch(self, offset: int, data: bytes) -> None:
        """Rewrite bytes not yet final (a large member's local header, at its end)."""
        at = offset - self.start
        if at < 0 or at + len(data) > self.end - self.start:
            raise ValueError("a patch outside the bytes still held")
        if self.spilling:
            assert self.spill is not None
            self.spill.flush()
            os.pwrite(self.spill.fileno(), data, at)
        else:
            self.held[at : at + len(data)] = data

    def settled(self, final: int) -> None:
        """Every byte written is final (the zip writer has no member open): on to the container, a MiB or
        more at a time (a call per small file would cost more than the encryption)."""
        if final != self.end:
            raise ValueError("the zip writer settled bytes it has not written")
        if self.spilling or final - self.start >= COPY:
            self.finish()

    def finish(self) -> None:
        """Everything written, to the container (the zip writer has closed, or settled)."""
        if self.spilling:
            assert self.spill is not None
            self.spill.flush()
            fd = self.spill.fileno()
            for at in range(0, self.end - self.start, COPY):
                self.container.write(os.pread(fd, COPY, at))
            self.spill.seek(0)
            self.spill.truncate()
            self.spilling = False
        elif self.held:
            with memoryview(self.held) as view:
                self.container.write(view)
            del self.held[:]
        self.start = self.end

    def _spill(self) -> None:
        if self.spill is None:
            self.spill = tempfile.TemporaryFile(dir=self.spill_dir, buffering=COPY)  # noqa: SIM115 - kept open
        spill = self.spill
        spill.write(self.held)
        del self.held[:]
        self.spilling = True

    def close(self) -> None:
        if self.spill is not None:
            self.spill.close()


def prove(path: Path, protector: Protector) -> None:
    """Read the new archive back; BackupError unless its payload opens with the key it was made for."""
    try:
        backup = read_protected(path)
        if protector.encryption == "none":
            return
        with open(path, "rb") as fh:
            fh.seek(backup.payload_offset)
            if not protector.proof:
                stanzas, _upto, _mac = age.parse_header(fh)
                if len(stanzas) != len(protector.recipients):
                    raise BackupError("the encrypted backup's header does not name every recipient")
                return
            _first_file(age.decrypt(fh, protector.proof, size=backup.protection.payload_size))
    except (age.AgeError, BackupError) as exc:
        raise BackupError(f"the new backup could not be opened again with its key ({exc}), so it was not kept; "
                          "try again") from None


def _first_file(chunks: Iterable[bytes]) -> None:
    """Decrypt until the first file of the plain backup (its local header and data) has come out whole."""
    head = b""
    got = 0
    need: int | None = None
    for chunk in chunks:
        if len(head) < 30:
            head += chunk[: 30 - len(head)]
        got += len(chunk)
        if need is None and len(head) == 30:
            if head[:4] != b"PK\x03\x04":
                raise BackupError("the decrypted payload is not a zip")
            csize, _usize, nlen, elen = struct.unpack("<LLHH", head[18:30])
            need = 30 + nlen + elen + csize
        if need is not None and got >= need:
            return
    raise BackupError("the decrypted payload ends inside its first file")
