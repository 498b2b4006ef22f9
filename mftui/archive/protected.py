"""Protected backups (format version 2): the container around a plain format-v1 backup.

```
<name>_<time>.zip
  config.zip.age   the plain format-v1 backup, age-encrypted (stored)   | or config.zip: signed, not encrypted
  backup.json.sig  an SSH signature (namespace mftui-backup) over the exact bytes of backup.json (when signed)
  backup.json      the public information only: no file name, no content; last
```

``backup.json`` pins the payload by size and SHA-256, so a signature over it
covers everything. Reading it needs no key (:func:`read_protected`); the
payload is opened into a file by :func:`open_payload` (payload.py), and the
plain backup inside goes through the strict checks of validate.py like any.
"""

from __future__ import annotations

import json
import struct
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

from ..errors import ArchiveError
from ..text import show
from .format import FORMAT, BackupInfo, FileSummary

if TYPE_CHECKING:
    import zipfile

PROTECTED_VERSION = 2
ENCRYPTED_PAYLOAD = "config.zip.age"
PLAIN_PAYLOAD = "config.zip"
SIGNATURE_NAME = "backup.json.sig"
METADATA = "backup.json"
MAX_PUBLIC_JSON = 64 * 1024
MAX_SIGNATURE = 16 * 1024
ENCRYPTIONS = ("passphrase", "recipients", "none")


@dataclass(frozen=True)
class Protection:
    """How a backup is protected, as its public backup.json says."""

    encryption: str  # "passphrase", "recipients" or "none" (signed only)
    recipients: tuple[str, ...]  # age1… keys and SHA256:… fingerprints of SSH keys
    payload_name: str
    payload_size: int
    payload_sha256: str

    @property
    def encrypted(self) -> bool:
        return self.encryption != "none"

    def describe(self) -> str:
        """``Encrypted (passphrase)``, ``Encrypted for: …`` or ``Not encrypted``."""
        if self.encryption == "passphrase":
            return "Encrypted (passphrase)"
        if self.encryption == "recipients":
            return "Encrypted for: " + ", ".join(show(r) for r in self.recipients)
        return "Not encrypted"

    def to_json(self) -> dict[str, Any]:
        return {
            "encryption": self.encryption,
            "recipients": list(self.recipients),
            "payload": {"name": self.payload_name, "size": self.payload_size, "sha256": self.payload_sha256},
        }


@dataclass(frozen=True)
class ProtectedBackup:
    """A protected backup's public part: its information, protection, signature, and where its payload lies."""

    path: Path
    info: BackupInfo  # files: a FileSummary (count and bytes): the names are inside the payload
    protection: Protection
    metadata: bytes  # the exact bytes of backup.json (what the signature covers)
    signature: bytes | None
    payload_offset: int


def public_json(info: BackupInfo, protection: Protection) -> bytes:
    """The public ``backup.json`` of a protected backup."""
    data = replace(info, files=()).to_json()
    data["format_version"] = PROTECTED_VERSION
    data["totals"] = {"files": len(info.files), "bytes": info.total_bytes}
    del data["files"]
    data["protection"] = protection.to_json()
    return (json.dumps(data, indent=1, ensure_ascii=False) + "\n").encode()


def is_protected(path: Path) -> bool:
    """Whether the zip is a protected backup: at most three entries, one of them a payload. Cheap: no parse."""
    try:
        with open(path, "rb") as fh:
            fh.seek(0, 2)
            size = fh.tell()
            if size < 22:
                return False
            fh.seek(size - 22)
            end = fh.read(22)
    except OSError:
        return False
    if end[:4] != b"PK\x05\x06" or struct.unpack("<H", end[10:12])[0] > 3:
        return False
    import zipfile  # only for an archive of at most three entries: inspect of a plain backup never loads it

    try:
        with zipfile.ZipFile(path) as zf:
            names = zf.namelist()
    except (zipfile.BadZipFile, OSError, ValueError):
        return False
    return ENCRYPTED_PAYLOAD in names or PLAIN_PAYLOAD in names


def _refused(reason: str) -> ArchiveError:
    return ArchiveError(f"this protected backup is refused: {reason}; use a copy made by mftui")


def read_protected(path: Path) -> ProtectedBackup:
    """The public part, strictly: the entries, backup.json and where the payload is. No key needed."""
    import zipfile

    try:
        with zipfile.ZipFile(path) as zf, open(path, "rb") as raw:
            infos = zf.infolist()
            names = [i.filename for i in infos]
            payload_name = ENCRYPTED_PAYLOAD if ENCRYPTED_PAYLOAD in names else PLAIN_PAYLOAD
            allowed = ([payload_name, SIGNATURE_NAME, METADATA], [payload_name, METADATA])
            if names not in allowed:
                raise _refused(f"it holds {', '.join(show(n) for n in names)}, not {payload_name}, "
                               f"optionally {SIGNATURE_NAME}, and {METADATA} last")
            for i in infos:
                if i.flag_bits & ~0x800 or i.compress_type not in (0, 8) or i.extra:
                    raise _refused(f"the entry {show(i.filename)} uses a zip feature mftui never writes")
            payload = infos[0]
            if payload.compress_type != 0 or payload.file_size != payload.compress_size:
                raise _refused("its payload is compressed, which mftui never does")
            metadata = _small(zf, infos[-1], MAX_PUBLIC_JSON)
            signature = _small(zf, infos[1], MAX_SIGNATURE) if len(infos) == 3 else None
            offset = _check_layout(raw, infos)
    except zipfile.BadZipFile as exc:
        raise ArchiveError(f"the archive is damaged ({exc}); use another copy") from None
    except OSError as exc:
        raise ArchiveError(f"the archive cannot be read ({exc.strerror or exc})") from None
    info, protection = parse_public(metadata)
    if protection.payload_name != payload_name or protection.payload_size != payload.file_size:
        raise _refused("its backup.json does not describe the payload it holds (another backup's payload?)")
    return ProtectedBackup(Path(path), info, protection, metadata, signature, offset)


def _small(zf: zipfile.ZipFile, info: zipfile.ZipInfo, limit: int) -> bytes:
    if info.file_size > limit or info.compress_size > limit:
        raise _refused(f"its {show(info.filename)} is larger than mftui writes")
    with zf.open(info) as fh:
        data = fh.read(limit + 1)
    if len(data) > limit:
        raise _refused(f"its {show(info.filename)} is larger than mftui writes")
    return data


def _data_offset(raw: BinaryIO, info: zipfile.ZipInfo, at: int) -> int:
    """Where the entry's data starts; its local header must be at ``at`` and agree with the directory."""
    if info.header_offset != at:
        raise _refused(f"its entry {show(info.filename)} is not where mftui writes it (data before or between "
                       "the entries)")
    raw.seek(at)
    head = raw.read(30)
    if len(head) != 30 or head[:4] != b"PK\x03\x04":
        raise _refused(f"the header of its entry {show(info.filename)} is damaged")
    csize, usize, name_len, extra_len = (int(v) for v in struct.unpack("<LLHH", head[18:30]))
    name = raw.read(name_len)
    if name != info.filename.encode() or extra_len or (csize, usize) != (info.compress_size, info.file_size):
        raise _refused(f"the header of its entry {show(info.filename)} does not agree with the directory")
    return at + 30 + name_len


def _check_layout(raw: BinaryIO, infos: list[zipfile.ZipInfo]) -> int:
    """The entries tile the file from byte 0, the directory follows them and the end record ends the file
    (no junk before, between or after: what the writer makes); the payload's data offset."""
    at = 0
    offsets = []
    for info in infos:
        offsets.append(_data_offset(raw, info, at))
        at = offsets[-1] + info.compress_size
    raw.seek(0, 2)
    size = raw.tell()
    raw.seek(size - 22)
    end = raw.read(22)
    cd_size, cd_offset, comment = struct.unpack("<LLH", end[12:22])
    if end[:4] != b"PK\x05\x06" or cd_offset != at or cd_offset + cd_size + 22 != size or comment:
        raise _refused("its directory is not where mftui writes it (data between the entries and the directory, "
                       "or after the end)")
    return offsets[0]


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    keys = [k for k, _ in pairs]
    if len(set(keys)) != len(keys):
        raise _refused("its backup.json holds a key twice")
    return dict(pairs)


def parse_public(metadata: bytes) -> tuple[BackupInfo, Protection]:
    """The public backup.json of a protected backup: its information and its protection."""
    try:
        data = json.loads(metadata.decode("utf-8"), object_pairs_hook=_no_duplicates)
    except (UnicodeDecodeError, ValueError) as exc:
        if isinstance(exc, ArchiveError):
            raise
        raise _refused("its backup.json is not valid JSON") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise ArchiveError("this zip is not an mftui backup (backup.json does not name the mftui format)")
    version = data.get("format_version")
    if type(version) is int and version > PROTECTED_VERSION:
        tool = data.get("tool", {}).get("version", "?") if isinstance(data.get("tool"), dict) else "?"
        raise ArchiveError(f"this backup is of format version {version} (made by mftui {show(str(tool))}), newer "
                           f"than this mftui reads ({PROTECTED_VERSION}); update mftui to restore it")
    if version != PROTECTED_VERSION:
        raise _refused("its backup.json is not of format version 2")
    protection = _protection(data.get("protection"))
    totals = data.get("totals")
    if not isinstance(totals, dict) or not all(type(totals.get(k)) is int and totals[k] >= 0
                                               for k in ("files", "bytes")):
        raise _refused("its backup.json has no file count and total")
    plain = {k: v for k, v in data.items() if k not in ("protection", "totals")}
    plain.update(format_version=1, files=[])  # the v1 reader checks every shared key, one way
    info = BackupInfo.from_json(plain)
    return replace(info, files=FileSummary(totals["files"], totals["bytes"]), format_version=2), protection


def _protection(raw: Any) -> Protection:
    if not isinstance(raw, dict):
        raise _refused("its backup.json does not say how it is protected")
    encryption, recipients, payload = raw.get("encryption"), raw.get("recipients"), raw.get("payload")
    if encryption not in ENCRYPTIONS:
        raise _refused("its backup.json names an encryption mftui does not know")
    if not isinstance(recipients, list) or not all(isinstance(r, str) and 0 < len(r) < 200 for r in recipients):
        raise _refused("its backup.json's recipients are not a list of keys")
    if not isinstance(payload, dict) or not isinstance(payload.get("name"), str):
        raise _refused("its backup.json does not describe its payload")
    size, sha = payload.get("size"), payload.get("sha256")
    if type(size) is not int or size < 0 or not isinstance(sha, str) or len(sha) != 64 or \
            any(c not in "0123456789abcdef" for c in sha):
        raise _refused("its backup.json's payload size or SHA-256 is malformed")
    if (encryption == "none") != (payload["name"] == PLAIN_PAYLOAD):
        raise _refused("its backup.json's encryption does not agree with its payload")
    return Protection(encryption, tuple(recipients), payload["name"], size, sha)
