"""``python -m bench --protected`` runs end to end on a tiny tree (a smoke test, not a timing)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
MAKE_INSTANCE = REPO.parent / "shared" / "bench" / "make_instance.py"


@pytest.mark.skipif(not MAKE_INSTANCE.is_file(), reason="../shared/bench/make_instance.py is not beside the repo")
@pytest.mark.skipif(not (shutil.which("zip") and shutil.which("unzip")), reason="zip/unzip are not installed")
def test_bench_protected_prints_every_figure(tmp_path: Path) -> None:
    mftui = Path(sys.executable).parent / "mftui"
    proc = subprocess.run(
        [sys.executable, "-m", "bench", "--protected", "--tree", "tiny:20:0.2", "--runs", "1",
         "--out", str(tmp_path / "out"), "--mftui", str(mftui)],
        cwd=REPO, capture_output=True, text=True, timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    for mode in ("passphrase", "recipients"):
        for figure in ("backup", "verify", "restore"):
            line = next(x for x in proc.stdout.splitlines() if x.startswith(f"| {figure} ({mode} / plain)"))
            assert " s " in line and "n/a" not in line, line
            assert f"| {figure} peak RSS ({mode} / plain)" in proc.stdout
    scrypt = next(x for x in proc.stdout.splitlines() if x.startswith("| one scrypt (2^15)"))
    assert float(scrypt.split("|")[3].strip().removesuffix(" s")) > 0, scrypt
