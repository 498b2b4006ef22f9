"""How a backup is protected (encrypted, signed): a small value with no import of cryptography.

Made by protection.protector_for from ``[protection]`` and the command
line; used by writer.py and protect_writer.py. A plain unit's backup never
loads cryptography.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric import ed25519

    from . import age


@dataclass(frozen=True)
class Protector:
    """How to protect the backups this unit makes: encryption, recipients' names, the signing key, and the proof."""

    encryption: str = "none"  # "passphrase", "recipients" or "none"
    recipients: tuple[age.Recipient, ...] = ()
    names: tuple[str, ...] = ()  # age1… keys and SHA256:… fingerprints, for backup.json
    sign_key: ed25519.Ed25519PrivateKey | None = None
    proof: tuple[age.Identity, ...] = ()  # identities that must open the payload (the passphrase)

    @property
    def active(self) -> bool:
        return self.encryption != "none" or self.sign_key is not None
