"""KeyProblem: a key, passphrase or recipients file that cannot be used (apart from keys.py and its cryptography)."""

from __future__ import annotations

from .errors import MftuiError


class KeyProblem(MftuiError):
    """A key, passphrase or recipients file that cannot be used (exit code 1; one named in the settings: 2)."""
