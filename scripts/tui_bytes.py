"""What the TUI costs a slow serial line: bytes per step at 80x24, ``TERM=linux``.

    .venv/bin/python scripts/tui_bytes.py [--harness ../shared/bench/ptyharness.py] [--term linux]

Runs the real ``mftui`` in a pseudo-terminal through the shared ``ptyharness.py``
(pyte must be installed) on a fresh demo instance with one backup, plays the
same keys in three modes and prints bytes per step. Seconds on a serial line
= bytes x 10 / baud. A measurement, not a test: it exits non-zero only on error.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
HARNESS = ROOT.parent / "shared" / "bench" / "ptyharness.py"

MODES = {
    "low-bandwidth": {"MFTUI_LOW_BANDWIDTH": "1"},
    "low-bw, no diff": {"MFTUI_LOW_BANDWIDTH": "1", "MFTUI_SCREEN_DIFF": "0"},
    "full": {"MFTUI_LOW_BANDWIDTH": "0"},
}
GOALS = {
    "first frame": 4000,
    "first frame 60x20": 4000,
    "help screen": 4000,
    "Tab": 600,
    "typed char": 150,
    "open confirmation": 4000,
    "idle B/s": 0,
}


def make_instance(folder: Path) -> tuple[Path, Path]:
    """A demo instance, one backup of it, then a live change (so the restore pane has changes to show)."""
    from mftui.archive.writer import create_backup
    from mftui.demo import write_demo_tree
    from mftui.settings import Settings

    root = folder / "mobiusflow"
    root.mkdir()
    write_demo_tree(root)
    config = folder / "config.toml"
    config.write_text(f'[instance]\nroot = "{root}"\n[backups]\ndir = "{folder / "backups"}"\n')
    archive = create_backup(Settings(instance_root=root, backups_dir=folder / "backups"), "bench").path
    (root / "flows" / "flows.json").write_text("[]\n")
    return config, archive


def keys(archive: Path) -> list[str]:
    return [
        "help screen=?@@Keys here",
        "close help=\\x1b@@b Backup/Restore",
        "Backup/Restore screen=b@@Enter Backup",
        "typed char=a@@File  a_",
        "Tab=\\t@@Enter Backup  Esc Admin",
        "Tab to Upload Zip=\\t@@u Upload Zip",
        "Upload Zip picker=u@@Upload Zip: Enter chooses",
        "picker Tab=\\t",
        f"typed path + Enter={archive}\\r@@Verified",
        "open confirmation=r@@Restore this backup",
        "Esc (no)=\\x1b@@cancelled",
        "idle5",
    ]


def measure(
    harness: Path, term: str, env: dict[str, str], config: Path, archive: Path, size: tuple[int, int] = (80, 24)
) -> dict[str, float]:
    command = [sys.executable, str(harness), "--term", term, "--ready", "q Quit", "--quit-keys", "\\x11"]
    command += ["--cols", str(size[0]), "--rows", str(size[1])]
    for name, value in env.items():
        command += ["--env", f"{name}={value}"]
    for key in keys(archive):
        command += ["--key", key]
    mftui = Path(sys.executable).parent / "mftui"
    command += ["--", str(mftui), "--config", str(config)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=180, check=True)
    result = json.loads(done.stdout)
    figures: dict[str, float] = {
        "first frame": result["first_frame_bytes"],
        "first frame s": result["first_frame_s"],
        "start-up total": result["startup_total_bytes"],
    }
    for phase in result["phases"][1:]:
        label = phase["label"]
        if label.startswith("idle"):
            figures["idle B/s"] = phase["bytes"] / phase["secs"]
        else:
            figures[label] = phase["bytes"]
    return figures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--harness", type=Path, default=HARNESS)
    parser.add_argument("--term", default="linux")
    args = parser.parse_args()
    if not args.harness.is_file():
        print(f"tui_bytes: no ptyharness at {args.harness}; pass --harness", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory() as tmp:
        config, archive = make_instance(Path(tmp))
        results = {mode: measure(args.harness, args.term, env, config, archive) for mode, env in MODES.items()}
        for mode, env in MODES.items():  # the smallest screen mftui supports: the first frame only
            small = measure(args.harness, args.term, env, config, archive, size=(60, 20))
            results[mode]["first frame 60x20"] = small["first frame"]
    rows = list(next(iter(results.values())))
    print(f"mftui TUI at 80x24, TERM={args.term}: bytes written per step")
    print(f"{'step':<24}" + "".join(f"{mode:>17}" for mode in results) + f"{'goal':>8}")
    for row in rows:
        cells = "".join(
            f"{results[mode].get(row, float('nan')):>17,.{2 if row.endswith(' s') else 0}f}" for mode in results
        )
        goal = GOALS.get(row)
        print(f"{row:<24}{cells}{'<= ' + format(goal, ',') if goal is not None else '':>8}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
