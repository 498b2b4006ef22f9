"""Bech32 (BIP 173), the text form of age keys: ``age1…`` recipients and ``AGE-SECRET-KEY-1…`` identities.

An encoding with a checksum, not cryptography: age writes its X25519 keys
this way (without BIP 173's 90-character limit).
"""

from __future__ import annotations

CHARSET = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"
_GENERATOR = (0x3B6A57B2, 0x26508E6D, 0x1EA119FA, 0x3D4233DD, 0x2A1462B3)


def _polymod(values: list[int]) -> int:
    check = 1
    for value in values:
        top = check >> 25
        check = (check & 0x1FFFFFF) << 5 ^ value
        for i in range(5):
            check ^= _GENERATOR[i] if (top >> i) & 1 else 0
    return check


def _expand(hrp: str) -> list[int]:
    return [ord(c) >> 5 for c in hrp] + [0] + [ord(c) & 31 for c in hrp]


def _convert(data: bytes | list[int], from_bits: int, to_bits: int, *, pad: bool) -> list[int]:
    acc = bits = 0
    out: list[int] = []
    maxv = (1 << to_bits) - 1
    for value in data:
        acc = (acc << from_bits) | value
        bits += from_bits
        while bits >= to_bits:
            bits -= to_bits
            out.append((acc >> bits) & maxv)
    if pad and bits:
        out.append((acc << (to_bits - bits)) & maxv)
    elif not pad and (bits >= from_bits or (acc << (to_bits - bits)) & maxv):
        raise ValueError("bad padding")
    return out


def encode(hrp: str, data: bytes) -> str:
    """``hrp`` + ``1`` + the data and its checksum, in lower case."""
    words = _convert(data, 8, 5, pad=True)
    values = _expand(hrp) + words
    check = _polymod(values + [0] * 6) ^ 1
    words += [(check >> 5 * (5 - i)) & 31 for i in range(6)]
    return hrp + "1" + "".join(CHARSET[w] for w in words)


def decode(text: str) -> tuple[str, bytes]:
    """(hrp in lower case, data); ValueError when it is not valid Bech32 (mixed case, checksum, characters)."""
    if text.lower() != text and text.upper() != text:
        raise ValueError("mixed case")
    text = text.lower()
    at = text.rfind("1")
    if at < 1 or at + 7 > len(text):
        raise ValueError("no separator")
    hrp, rest = text[:at], text[at + 1 :]
    if any(not 33 <= ord(c) <= 126 for c in hrp) or any(c not in CHARSET for c in rest):
        raise ValueError("bad character")
    words = [CHARSET.index(c) for c in rest]
    if _polymod(_expand(hrp) + words) != 1:
        raise ValueError("bad checksum")
    return hrp, bytes(_convert(words[:-6], 5, 8, pad=False))
