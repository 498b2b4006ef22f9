"""Writing a protected backup: the plain backup (already written) encrypted and/or signed into its container.

The plain format-v1 archive that writer.py wrote to a partial file is
streamed (1 MiB at a time) through age into ``config.zip.age`` (or copied
into ``config.zip`` when only signed), hashed as it goes; then the public
``backup.json`` (protected.py), signed when a key is set. Afterwards the key
is proven: the new archive is read back and its payload opened with the
passphrase (the header and the whole first file), or, for recipients, its
header parsed and its stanzas counted. No key that cannot open it is ever
left behind as a backup.
"""

from __future__ import annotations

import hashlib
import struct
import zlib
from collections.abc import Iterable
from pathlib import Path
from typing import BinaryIO

from ..errors import BackupError
from . import age, sshsig
from .background import Background
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
from .zipstream import STORED, ZipStream

COPY = 1024 * 1024


class _Hashing:
    """What is written goes into the zip member; its CRC and SHA-256 are counted on a thread of their own."""

    def __init__(self, zs: ZipStream) -> None:
        self.zs = zs
        self.crc = 0
        self.size = 0
        self.sha = hashlib.sha256()
        self.hasher = Background(self._hash, size=age.CHUNK)

    def _hash(self, data: bytes) -> None:
        self.crc = zlib.crc32(data, self.crc)
        self.sha.update(data)

    def write(self, data: bytes | bytearray | memoryview) -> int:
        self.zs.write(data)
        self.hasher.put(bytes(data))
        self.size += len(data)
        return len(data)

    def close(self) -> None:
        self.hasher.close()


def write_container(plain: Path, info: BackupInfo, raw: BinaryIO, protector: Protector, mtime_ns: int) -> None:
    """The container of a protected backup into ``raw`` (a new file), from the plain archive ``plain``."""
    zs = ZipStream(raw)
    name = PLAIN_PAYLOAD if protector.encryption == "none" else ENCRYPTED_PAYLOAD
    plain_size = plain.stat().st_size
    estimate = plain_size + (plain_size // age.CHUNK + 1) * age.TAG + 64 * 1024
    zs.begin(name, method=STORED, size=estimate, mode=0o600, mtime_ns=mtime_ns)
    out = _Hashing(zs)
    sink: _Hashing | age.Encryptor = out if protector.encryption == "none" else age.Encryptor(out, protector.recipients)
    try:
        with open(plain, "rb") as src:
            while chunk := src.read(COPY):
                sink.write(chunk)
        if isinstance(sink, age.Encryptor):
            sink.close()
    finally:
        out.close()  # the hashing thread has seen every byte
    zs.end(crc=out.crc, size=out.size)
    protection = Protection(protector.encryption, protector.names, name, out.size, out.sha.hexdigest())
    metadata = public_json(info, protection)
    if protector.sign_key is not None:
        signature = sshsig.sign(protector.sign_key, metadata).encode()
        zs.add(SIGNATURE_NAME, signature, method=STORED, crc=zlib.crc32(signature), size=len(signature), mode=0o600,
               mtime_ns=mtime_ns)
    zs.add(METADATA, metadata, method=STORED, crc=zlib.crc32(metadata), size=len(metadata), mode=0o600,
           mtime_ns=mtime_ns)
    zs.close()


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
