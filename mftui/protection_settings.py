"""The ``[protection]`` and ``[trust]`` settings: how backups are encrypted and signed, what a restore trusts.

```toml
[protection]
encrypt = "off"                  # off (default) | passphrase | recipients
recipients_file = "recipients.txt"  # for "recipients": age1… and ssh-ed25519/ssh-rsa public keys, one a line
passphrase_file = "/root/.mftui-pass"  # for "passphrase" without a terminal (timers); else it is asked for
identity_file = "key.txt"        # opens encrypted backups: an age identity file or an OpenSSH private key
sign_key = "/etc/mftui/sign_ed25519"   # sign every backup (an OpenSSH Ed25519 key: mftui keygen PATH)

[trust]
allowed_signers = "/etc/mftui/allowed_signers"   # OpenSSH allowed_signers: principal and public key a line
require_signature = false        # refuse unsigned backups, and those of keys not in allowed_signers
require_encryption = false       # refuse plain backups
```

Relative paths are relative to the settings file. Kept apart from
settings.py, which only calls :func:`parse_protection` and :func:`parse_trust`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import SettingsError

ENCRYPT_MODES = ("off", "passphrase", "recipients")
PROTECTION_KEYS = ("encrypt", "recipients_file", "passphrase_file", "identity_file", "sign_key")
TRUST_KEYS = ("allowed_signers", "require_signature", "require_encryption")
Fail = Callable[[str, str], SettingsError]


@dataclass(frozen=True)
class ProtectionSettings:
    """How this unit encrypts and signs the backups it makes (safety archives too)."""

    encrypt: str = "off"
    recipients_file: Path | None = None
    passphrase_file: Path | None = None
    identity_file: Path | None = None
    sign_key: Path | None = None


@dataclass(frozen=True)
class TrustSettings:
    """What a restore (and verify) of this unit accepts."""

    allowed_signers: Path | None = None
    require_signature: bool = False
    require_encryption: bool = False


def _keys(fail: Fail, section: dict[str, Any], name: str, known: tuple[str, ...]) -> None:
    for key in section:
        if key not in known:
            raise fail(f"{name}.{key}", f"unknown key; [{name}] takes {', '.join(known)}")


def _path(fail: Fail, abs_path: Callable[[str], Path], section: dict[str, Any], name: str, key: str) -> Path | None:
    value = section.get(key)
    if value is None:
        return None
    if not isinstance(value, str) or not value:
        raise fail(f"{name}.{key}", "must be a path (a non-empty string)")
    return abs_path(value)


def _bool(fail: Fail, section: dict[str, Any], name: str, key: str) -> bool:
    value = section.get(key, False)
    if not isinstance(value, bool):
        raise fail(f"{name}.{key}", f"must be true or false, not {type(value).__name__}")
    return value


def parse_protection(fail: Fail, abs_path: Callable[[str], Path], section: dict[str, Any]) -> ProtectionSettings:
    """Read ``[protection]``; ``fail(key, what)`` makes the settings error naming the file and the key."""
    _keys(fail, section, "protection", PROTECTION_KEYS)
    encrypt = section.get("encrypt", "off")
    if encrypt not in ENCRYPT_MODES:
        raise fail("protection.encrypt", f"must be one of {', '.join(repr(m) for m in ENCRYPT_MODES)}")
    found = {k: _path(fail, abs_path, section, "protection", k) for k in PROTECTION_KEYS[1:]}
    if encrypt == "recipients" and found["recipients_file"] is None:
        raise fail("protection.recipients_file", 'is needed for encrypt = "recipients" (the public keys, one a line)')
    return ProtectionSettings(encrypt=encrypt, **found)


def parse_trust(fail: Fail, abs_path: Callable[[str], Path], section: dict[str, Any]) -> TrustSettings:
    """Read ``[trust]``."""
    _keys(fail, section, "trust", TRUST_KEYS)
    signers = _path(fail, abs_path, section, "trust", "allowed_signers")
    require_signature = _bool(fail, section, "trust", "require_signature")
    if require_signature and signers is None:
        raise fail("trust.allowed_signers", "is needed for require_signature = true (who may sign)")
    return TrustSettings(signers, require_signature, _bool(fail, section, "trust", "require_encryption"))
