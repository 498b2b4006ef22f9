"""mftui's age (archive/age.py, age_keys.py) against the C2SP CCTV age test vectors (tests/data/age-vectors).

Each vector is one age file and what reading it must give: the payload's
SHA-256 on success; an error for a header, HMAC or payload failure, and
NoMatchingKey for ``no match``.
"""

from __future__ import annotations

import hashlib
import io
import zlib
from pathlib import Path

import pytest

from mftui.archive import age
from mftui.archive.age_keys import ScryptIdentity, X25519Identity

VECTORS = Path(__file__).parent / "data" / "age-vectors"
NAMES = sorted(p.name for p in VECTORS.iterdir() if p.name not in ("LICENSE", "README"))


def _load(name: str) -> tuple[dict[str, list[str]], bytes]:
    raw = (VECTORS / name).read_bytes()
    head, body = raw.split(b"\n\n", 1)
    fields: dict[str, list[str]] = {}
    for line in head.decode().splitlines():
        key, value = line.split(": ", 1)
        fields.setdefault(key, []).append(value)
    if fields.get("compressed") == ["zlib"]:
        body = zlib.decompress(body)
    return fields, body


def test_the_vectors_are_there() -> None:
    assert len(NAMES) >= 90


@pytest.mark.parametrize("name", NAMES)
def test_vector(name: str) -> None:
    fields, body = _load(name)
    identities: list[age.Identity] = [X25519Identity.parse(i) for i in fields.get("identity", [])]
    identities += [ScryptIdentity(p.encode(), max_log_n=22) for p in fields.get("passphrase", [])]
    expect = fields["expect"][0]

    def read() -> bytes:
        return b"".join(age.decrypt(io.BytesIO(body), identities, size=len(body)))

    if expect == "success":
        assert hashlib.sha256(read()).hexdigest() == fields["payload"][0]
    elif expect == "no match":
        with pytest.raises(age.NoMatchingKey):
            read()
    else:
        with pytest.raises(age.AgeError) as caught:
            read()
        assert not isinstance(caught.value, age.NoMatchingKey)
