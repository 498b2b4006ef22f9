"""The benchmark command runs end to end on tiny trees (a smoke test, not a timing)."""

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
def test_bench_prints_every_figure(tmp_path: Path) -> None:
    mftui = Path(sys.executable).parent / "mftui"
    proc = subprocess.run(
        [sys.executable, "-m", "bench", "--tree", "tiny:20:0.2", "--tree", "bigger:60:1", "--runs", "1",
         "--out", str(tmp_path / "out"), "--mftui", str(mftui), "--json", str(tmp_path / "runs.json")],
        cwd=REPO, capture_output=True, text=True, timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    table = proc.stdout
    for figure in ("backup time / zip -r -6", "restore time / unzip -q", "verify time / unzip -tq",
                   "archive size / zip -6", "backup peak RSS", "restore peak RSS", "inspect time, this tree / tiny"):
        assert figure in table, figure
    backup = next(line for line in table.splitlines() if line.startswith("| backup time") and "bigger" in line)
    assert " s " in backup and "n/a" not in backup  # the backup always runs; restore may say n/a (reason)
    assert (tmp_path / "runs.json").is_file()


def test_bench_refuses_a_bad_tree_spec() -> None:
    proc = subprocess.run([sys.executable, "-m", "bench", "--tree", "x:y"], cwd=REPO, capture_output=True, text=True)
    assert proc.returncode == 2 and "LABEL:FILES:MB" in proc.stderr
