"""The embedded demo instance: a realistic MobiusFlow-style tree, seeded once.

Seeding writes into a temporary directory and renames it into place, so a
half-seeded demo never exists, and an existing demo (which the user may have
changed) is never touched.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import random
import shutil
import tempfile
from pathlib import Path

DEMO_HUB_ID = "3fa2c1"
DEMO_HOSTNAME = "mobius-demo-01"
_SERVICES = {
    "000": "Hub core",
    "001": "BACnet/IP driver",
    "002": "Modbus TCP driver",
    "00a": "MQTT bridge",
    "01c": "Alarm notifier",
}


def ensure_demo(root: Path) -> bool:
    """Seed the demo instance at ``root`` unless it exists. True when seeded."""
    if root.exists():
        return False
    root.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".seeding-", dir=root.parent))
    try:
        write_demo_tree(tmp)
        os.rename(tmp, root)
    except FileExistsError:
        shutil.rmtree(tmp, ignore_errors=True)  # another mftui seeded it first
        return False
    except OSError:
        shutil.rmtree(tmp, ignore_errors=True)
        if root.is_dir():
            return False
        raise
    return True


def write_demo_tree(root: Path, seed: int = 1) -> None:
    """Write the demo configuration (and its logs, cache, historian) under ``root``."""
    rng = random.Random(seed)

    def put(rel: str, data: str | bytes, mode: int = 0o644) -> None:
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data.encode() if isinstance(data, str) else data)
        path.chmod(mode)

    def js(obj: object) -> str:
        return json.dumps(obj, indent=2) + "\n"

    put("instance.json", js({
        "product": "MobiusFlow",
        "version": "4.2.1",
        "hub_id": DEMO_HUB_ID,
        "hostname": DEMO_HOSTNAME,
        "site": "Demo plant, building B",
    }))
    put("hub/hub.json", js({
        "hub_id": DEMO_HUB_ID,
        "name": "Demo hub",
        "mqtt": {"port": 1883, "tls_port": 8883, "keepalive_s": 60},
        "http": {"port": 8080, "tls": True},
        "timezone": "Europe/London",
    }))
    put("hub/psk.json", js({
        "keys": [
            {"identity": f"{DEMO_HUB_ID}-{sid}", "psk": rng.randbytes(32).hex()}
            for sid in _SERVICES
        ]
    }), 0o600)
    for sid, name in _SERVICES.items():
        put(f"services/{sid}.json", js({
            "id": sid, "name": name, "enabled": sid != "01c",
            "poll_interval_ms": rng.choice([500, 1000, 5000]),
            "objects": [f"{DEMO_HUB_ID}/{sid}/{n:04x}" for n in range(rng.randint(3, 12))],
        }))
    put("profiles/object-profiles.json", js({
        "profiles": [
            {"id": f"p{n:03d}", "name": kind, "unit": unit, "decimals": 1}
            for n, (kind, unit) in enumerate([
                ("Temperature", "degC"), ("Humidity", "%RH"), ("CO2", "ppm"),
                ("Power", "kW"), ("Energy", "kWh"), ("Valve position", "%"),
            ])
        ]
    }))
    put("flows/flows.json", js([
        {"id": f"f{n:02d}", "type": "tab", "label": label}
        for n, label in enumerate(["HVAC schedule", "Alarm routing", "Energy report"])
    ]))
    put("flows/flows_cred.json", js({"$": base64.b64encode(rng.randbytes(96)).decode()}), 0o600)
    put("users/users.json", js({"users": [
        {"name": name, "role": role, "password": _hash_password(name + "-demo", rng)}
        for name, role in [("admin", "administrator"), ("tech", "engineer"), ("viewer", "read-only")]
    ]}), 0o600)
    put("certs/hub.pem", _pem("CERTIFICATE", rng.randbytes(900)))
    put("certs/ca.pem", _pem("CERTIFICATE", rng.randbytes(1100)))
    put("certs/hub.key", _pem("PRIVATE KEY", rng.randbytes(1190)), 0o600)
    put("licence/licence.lic", js({
        "licensee": "Demo Ltd", "hub_id": DEMO_HUB_ID, "expires": "2030-12-31",
        "features": ["bacnet", "modbus", "mqtt"],
        "signature": base64.b64encode(rng.randbytes(64)).decode(),
    }))
    put("network/network.json", js({
        "hostname": DEMO_HOSTNAME,
        "interfaces": {"eth0": {"mode": "static", "address": "192.0.2.20/24", "gateway": "192.0.2.1"}},
        "dns": ["192.0.2.53"],
    }))
    # Not configuration: these must never be backed up.
    put("logs/hub.log", "".join(f"2026-11-0{d} 12:00:00 INFO poll ok\n" for d in range(1, 8)))
    put("cache/objects.cache", rng.randbytes(4096))
    put("historian/2026-11.db", rng.randbytes(16384))


def _hash_password(password: str, rng: random.Random) -> str:
    salt = rng.randbytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=2**12, r=8, p=1)
    return f"scrypt$4096$8$1${salt.hex()}${digest.hex()}"


def _pem(label: str, body: bytes) -> str:
    b64 = base64.b64encode(body).decode()
    lines = [b64[i : i + 64] for i in range(0, len(b64), 64)]
    return f"-----BEGIN {label}-----\n" + "\n".join(lines) + f"\n-----END {label}-----\n"
