"""Protected backups for the faces: what a backup's protection is, what this unit trusts, and opening one.

- :func:`describe_backup`: the public information of any backup (plain or
  protected), its protection and its signature, with no key (inspect, list,
  the metadata pane).
- :func:`open_backup`: the trust policy (``[trust]``), then for a protected
  backup its payload opened with the keys given into a plain format-v1
  archive, checked to agree with the public information; yields the path
  the restore, verify and compare code reads like any backup.
- :func:`verify_protected`: the same checks for ``verify``, reading the
  plain backup inside where it lies (no file written).
- :func:`protector_for`: how this unit's backups (and safety archives) are
  protected, from ``[protection]`` and what the command line gave.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from .archive.format import BackupInfo
from .archive.protected import ProtectedBackup, Protection, is_protected, read_protected
from .errors import ArchiveError, SettingsError
from .progress import Progress, no_progress
from .settings import Settings
from .text import show

if TYPE_CHECKING:  # cryptography is imported only when a backup is protected (or a key is used)
    from .archive import age, sshsig
    from .archive.payload import OpenedPayload
    from .archive.protector import Protector
    from .keys import Recipients

T = TypeVar("T")
_OPENED: set[tuple[int, int]] = set()  # (device, inode) of the payloads this process opened and checked


class KeyNeeded(ArchiveError):
    """The backup is encrypted and no key was given: the face asks for one (or says how to give it)."""

    def __init__(self, message: str, encryption: str) -> None:
        super().__init__(message)
        self.encryption = encryption  # "passphrase" or "recipients"


@dataclass(frozen=True)
class SignatureStatus:
    """What a backup's signature says, against ``[trust] allowed_signers``."""

    state: str  # "trusted", "unknown" (a valid signature by a key not listed), "bad", "unsigned"
    fingerprint: str = ""
    principal: str = ""
    problem: str = ""

    def describe(self) -> str:
        if self.state == "trusted":
            return f"Signed by {show(self.principal)} ({self.fingerprint})"
        if self.state == "unknown":
            return f"Signed by an unknown key ({self.fingerprint})"
        if self.state == "bad":
            why = self.problem or "it does not match backup.json"
            return f"Signature does not verify ({show(why)}{', ' + self.fingerprint if self.fingerprint else ''})"
        return "Not signed"

    def to_json(self) -> dict[str, Any]:
        return {"state": self.state, "principal": self.principal or None, "fingerprint": self.fingerprint or None}


@dataclass(frozen=True)
class Described:
    """A backup's public information, its protection (None: a plain backup) and its signature."""

    info: BackupInfo
    protection: Protection | None
    signature: SignatureStatus = field(default_factory=lambda: SignatureStatus("unsigned"))

    def lines(self) -> list[str]:
        """``Encrypted (passphrase)`` / ``Encrypted for: …`` / ``Not encrypted``, and the signature's line."""
        encrypted = self.protection.describe() if self.protection is not None else "Not encrypted"
        return [encrypted, self.signature.describe()]

    def to_json(self) -> dict[str, Any]:
        encrypted: dict[str, Any] | bool = False
        if self.protection is not None and self.protection.encrypted:
            encrypted = {"method": self.protection.encryption, "recipients": list(self.protection.recipients)}
        return {"encrypted": encrypted, "signature": self.signature.to_json()}


def signature_status(backup: ProtectedBackup | None, settings: Settings) -> SignatureStatus:
    """Check the signature (if any) over backup.json's exact bytes, and look its key up in allowed_signers."""
    if backup is None or backup.signature is None:
        return SignatureStatus("unsigned")
    from .archive import sshsig

    try:
        signed = sshsig.check(backup.signature, backup.metadata)
    except sshsig.SignatureProblem as exc:
        return SignatureStatus("bad", problem=str(exc))
    if not signed.valid:
        return SignatureStatus("bad", signed.fingerprint)
    principal = sshsig.signer_of(_allowed_signers(settings), signed.key_wire)
    if principal is None:
        return SignatureStatus("unknown", signed.fingerprint)
    return SignatureStatus("trusted", signed.fingerprint, principal)


def _allowed_signers(settings: Settings) -> list[sshsig.Signer]:
    from .archive import sshsig

    path = settings.trust.allowed_signers
    if path is None:
        return []
    try:
        return sshsig.read_allowed_signers(path)
    except OSError as exc:
        raise SettingsError(f"[trust] allowed_signers {show(str(path))} cannot be read ({exc.strerror}); "
                            "check the path in the settings") from None
    except ValueError as exc:
        raise SettingsError(f"[trust] allowed_signers: {exc}; correct it") from None


def describe_backup(settings: Settings, path: Path) -> Described:
    """The public information of any backup, without a key (the plain one's files too, as read_info gives them)."""
    if is_protected(path):
        backup = read_protected(path)
        return Described(backup.info, backup.protection, signature_status(backup, settings))
    from .archive.reader import read_info

    return Described(read_info(path, budgets=settings.budgets), None)


def check_policy(settings: Settings, described: Described) -> None:
    """Refuse what ``[trust]`` does not accept, and any signature that does not verify; one sentence each."""
    sig = described.signature
    if sig.state == "bad":
        raise ArchiveError(f"the backup's signature does not verify ({sig.describe()}): it was altered after it "
                           "was signed, or damaged; nothing was changed; use another copy")
    trust = settings.trust
    if trust.require_signature and sig.state == "unsigned":
        raise ArchiveError("this backup is not signed, and this unit accepts only signed backups ([trust] "
                           "require_signature); restore a backup signed by a key in allowed_signers; nothing "
                           "was changed")
    if trust.require_signature and sig.state == "unknown":
        raise ArchiveError(f"this backup is signed by a key that is not in {show(str(trust.allowed_signers))} "
                           f"({sig.fingerprint}); add that key there if you trust it; nothing was changed")
    if trust.require_encryption and (described.protection is None or not described.protection.encrypted):
        raise ArchiveError("this backup is not encrypted, and this unit accepts only encrypted backups ([trust] "
                           "require_encryption); restore an encrypted backup; nothing was changed")


def is_opened_payload(path: Path) -> bool:
    """Whether ``path`` is a payload :func:`open_backup` opened and checked in this process."""
    try:
        st = os.stat(path)
    except OSError:
        return False
    return (st.st_dev, st.st_ino) in _OPENED


def check_plain_policy(settings: Settings, path: Path) -> None:
    """For the core's restore, verify and compare: a protected backup must be opened first (KeyNeeded says so,
    naming how it is encrypted), and a plain backup given directly must pass ``[trust]`` too."""
    if is_protected(path):
        protection = read_protected(path).protection
        raise KeyNeeded(f"this backup is protected ({protection.describe()}): it is read through its opened "
                        "payload (give its key: mftui restore FILE --passphrase-file PATH or --identity FILE)",
                        protection.encryption)
    if (settings.trust.require_signature or settings.trust.require_encryption) and not is_opened_payload(path):
        check_policy(settings, Described(_placeholder_info(), None))


def _placeholder_info() -> BackupInfo:
    return BackupInfo("", "1970-01-01T00:00:00+00:00", "", "", "", "", "", ())


class Opened:
    """A backup ready to read: ``plain`` is a format-v1 archive (the file itself, or its opened payload).

    A context manager, or ``close()`` by hand (the TUI keeps one open from
    the check to the confirmed restore): an opened payload is removed then.
    """

    def __init__(self, plain: Path, described: Described, passphrase: bytes | None = None, *,
                 payload: OpenedPayload | None = None) -> None:
        self.plain = plain
        self.described = described
        self.passphrase = passphrase  # the passphrase that opened it, for a safety archive of the same kind
        self._identity: tuple[int, int] | None = None
        self._payload = payload
        if payload is not None:
            st = os.stat(plain)
            self._identity = (st.st_dev, st.st_ino)
            _OPENED.add(self._identity)

    def close(self) -> None:
        if self._identity is not None and self._payload is not None:
            _OPENED.discard(self._identity)
            self._identity = None
            self._payload.close()

    def __enter__(self) -> Opened:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class WrongKey(ArchiveError):
    """The passphrase or key given does not open the backup (the TUI asks again)."""


def open_backup(settings: Settings, path: Path, identities: Sequence[age.Identity] = (), *,
                passphrase: bytes | None = None) -> Opened:
    """Check ``[trust]``; open a protected backup's payload with the keys given (removed at close).

    KeyNeeded when it is encrypted and no key was given, WrongKey when the
    key does not open it, ArchiveError for anything else wrong with it.
    """
    described = describe_backup(settings, Path(path))
    check_policy(settings, described)
    protection = described.protection
    if protection is None:
        return Opened(Path(path), described)
    from .archive import age
    from .archive.age_keys import ScryptIdentity

    keys = list(identities) + ([ScryptIdentity(passphrase)] if passphrase else [])
    if protection.encrypted and not keys:
        raise KeyNeeded(_key_needed(protection), protection.encryption)
    from .archive.payload import check_agreement, open_payload
    from .archive.reader import read_info

    backup = read_protected(Path(path))
    try:
        payload = open_payload(backup, keys, settings.backups_dir)
    except age.NoMatchingKey:
        raise WrongKey(_wrong_key(protection)) from None
    opened = Opened(payload.path, described, passphrase, payload=payload)
    try:
        check_agreement(backup.info, read_info(payload.path))
    except BaseException:
        opened.close()
        raise
    return opened


def verify_protected(settings: Settings, path: Path, identities: Sequence[age.Identity] = (), *,
                     passphrase: bytes | None = None, progress: Progress = no_progress,
                     whole: bool = True) -> tuple[BackupInfo, Described]:
    """``verify`` of a protected backup with its key: every check a restore makes, nothing written.

    The plain backup inside is read where it lies (archive/payload_source.py), not decrypted to a file
    first, while the payload's SHA-256 is checked on another core. Errors as :func:`open_backup`.
    ``whole=False`` (``inspect --changes``): the container, names and manifest only, no entry inflated.
    """
    described = describe_backup(settings, Path(path))
    check_policy(settings, described)
    protection = described.protection
    if protection is None:
        raise ValueError("verify_protected is for protected backups")
    from .archive import age
    from .archive.age_keys import ScryptIdentity
    from .archive.payload import check_agreement
    from .archive.payload_source import PayloadSource
    from .archive.validate import open_payload_archive
    from .restore.checks import check_restorable

    keys = list(identities) + ([ScryptIdentity(passphrase)] if passphrase else [])
    if protection.encrypted and not keys:
        raise KeyNeeded(_key_needed(protection), protection.encryption)
    backup = read_protected(Path(path))
    try:
        source = PayloadSource(backup, keys)
    except age.NoMatchingKey:
        raise WrongKey(_wrong_key(protection)) from None
    with source, source.checked():
        with open_payload_archive(backup.path, source.fd, source.size, source.pread, settings.budgets,
                                  lazy_local=whole) as archive:  # whole: every header is read with its entry
            check_agreement(backup.info, archive.backup_info)
            if whole:
                check_restorable(settings, archive)
                archive.verify_all(progress)
        source.finish()
    return archive.backup_info, described


def derive_ahead(path: Path, passphrase: bytes) -> None:
    """Start the scrypt that opening this passphrase-encrypted backup needs, on a thread of its own, so that
    its tenth of a second overlaps the reading and checking that come before the key is used. Anything wrong
    with the backup is left for the opening to say."""
    from .archive import age
    from .archive.age_keys import ScryptIdentity

    try:
        backup = read_protected(path)
        with open(path, "rb") as fh:
            fh.seek(backup.payload_offset)
            stanzas, _upto, _mac = age.parse_header(fh)
    except (ArchiveError, OSError):
        return
    ScryptIdentity(passphrase).derive_ahead(stanzas)


def _key_needed(protection: Protection) -> str:
    if protection.encryption == "passphrase":
        return ("this backup is encrypted with a passphrase: give it (--passphrase-file FILE, or type it when "
                "asked on a terminal); nothing was changed")
    return (f"this backup is encrypted for {', '.join(show(r) for r in protection.recipients)}: give the matching "
            "private key with --identity FILE (or [protection] identity_file); nothing was changed")


def _wrong_key(protection: Protection) -> str:
    if protection.encryption == "passphrase":
        return "the passphrase is wrong: it does not open this backup; try again (nothing was changed)"
    return (f"the key given does not open this backup, which is encrypted for "
            f"{', '.join(show(r) for r in protection.recipients)}; give the private key of one of them "
            "(nothing was changed)")


def setting_file(read: Callable[[Path], T], path: Path, key: str) -> T:
    """A key file named in the settings: its problem is a settings mistake (exit code 2)."""
    from .keys import KeyProblem

    try:
        return read(path)
    except KeyProblem as exc:
        raise SettingsError(f"[protection] {key}: {exc}") from None


def protector_for(settings: Settings, *, encrypt: str | None = None, passphrase: bytes | None = None,
                  recipients_file: Path | None = None) -> Protector | None:
    """How this unit's next backup is protected: ``[protection]``, overridden by the command line.

    ``passphrase``: for "passphrase" (else ``[protection] passphrase_file``);
    KeyProblem when a passphrase is needed and there is none. None: plain.
    """
    from .archive.age_keys import ScryptIdentity
    from .archive.protector import Protector
    from .keys import KeyProblem, load_sign_key, passphrase_recipient, read_passphrase_file, read_recipients

    p = settings.protection
    mode = encrypt or p.encrypt
    sign_key = setting_file(load_sign_key, p.sign_key, "sign_key") if p.sign_key is not None else None
    chosen: Recipients | None = None
    if mode == "passphrase":
        if passphrase is None and p.passphrase_file is not None:
            passphrase = setting_file(read_passphrase_file, p.passphrase_file, "passphrase_file")
        if passphrase is None:
            raise KeyProblem("backups are encrypted with a passphrase here, and none was given: type it when asked "
                             "on a terminal, or give --passphrase-file FILE ([protection] passphrase_file)")
        chosen = passphrase_recipient(passphrase)
    elif mode == "recipients":
        if recipients_file is not None:
            chosen = read_recipients(recipients_file)
        elif p.recipients_file is not None:
            chosen = setting_file(read_recipients, p.recipients_file, "recipients_file")
        else:
            raise KeyProblem("encrypting for recipients needs their public keys: give --recipients-file FILE or "
                             "set [protection] recipients_file")
    if chosen is None and sign_key is None:
        return None
    encryption = "none" if chosen is None else mode
    proof = (ScryptIdentity(passphrase),) if mode == "passphrase" and passphrase else ()
    return Protector(encryption, chosen.recipients if chosen else (), chosen.names if chosen else (), sign_key,
                     proof)
