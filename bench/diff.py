"""``python -m bench --diff``: ``mftui diff A B --json`` of two large-tree backups against ``mftui verify A``.

Two backups of the largest tree, with a few files changed between them (the
tree is put back afterwards: it is kept between bench runs). Goal (issue 13):
the diff takes under 2x the verify of one backup. It should take far less:
files whose SHA-256 match in both manifests are not read at all.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from .measure import Pair, Tree, alternate, build_tree, warm, write_settings
from .measure import run as timed

GOAL = 2.0
CHANGED = 5  # files changed between the two backups


def run(args: argparse.Namespace, trees: list[Tree], mftui: str) -> int:
    tree = trees[-1]  # the large one
    build_tree(tree, args.make_instance, fresh=args.fresh)
    warm(tree.root)
    print(f"bench: diff and verify on the {tree.label} tree ({tree.files} files, {tree.mb:g} MB)...", file=sys.stderr)
    a, b = two_backups(tree, mftui)
    config = ["--config", str(tree.home / "config-diff.toml")]
    pair = alternate(args.runs,
                     lambda: timed([mftui, *config, "diff", str(a), str(b), "--json"]),
                     lambda: timed([mftui, *config, "verify", str(a)]))
    print(table(tree, pair))
    failure = pair.failure()
    if failure or not pair.a or not pair.b:
        return 1
    return 0 if Pair.median(pair.a) <= GOAL * Pair.median(pair.b) else 1


def two_backups(tree: Tree, mftui: str) -> tuple[Path, Path]:
    """A backup, CHANGED files edited, another backup; the files then put back as they were."""
    backups = tree.home / "backups-diff"
    config = tree.home / "config-diff.toml"
    write_settings(config, tree.root, backups)
    for old in backups.glob("*.zip") if backups.is_dir() else ():
        old.unlink()
    first = _backup(mftui, config, "diff-a")
    files = sorted(str(p) for p in tree.root.rglob("*.json"))[:: max(1, tree.files // (CHANGED * 2))][:CHANGED]
    kept = {path: Path(path).read_bytes() for path in files}
    try:
        for path in files:
            with open(path, "ab") as fh:
                fh.write(b"\n// changed by bench/diff.py\n")
        second = _backup(mftui, config, "diff-b")
    finally:
        for path, data in kept.items():
            Path(path).write_bytes(data)
            os.utime(path)
    return first, second


def _backup(mftui: str, config: Path, name: str) -> Path:
    import subprocess

    done = subprocess.run([mftui, "--config", str(config), "backup", "--name", name, "--json"],
                          capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"bench: the backup failed: {done.stderr.strip()}")
    return Path(json.loads(done.stdout)["path"])


def table(tree: Tree, pair: Pair) -> str:
    head = "| figure | tree | diff A B --json | verify A | ratio | goal | met |\n|---|---|---|---|---|---|---|"
    failure = pair.failure()
    if failure or not pair.a or not pair.b:
        return f"{head}\n| diff / verify | {tree.label} | n/a | n/a | | <= {GOAL} | {failure} |"
    d, v = Pair.median(pair.a), Pair.median(pair.b)
    rss = max(r.peak_rss for r in pair.a) / 2**20
    ratio = d / v if v else 0.0
    return (f"{head}\n| diff / verify ({CHANGED} files changed) | {tree.label} | {d:.3f} s | {v:.3f} s | "
            f"{ratio:.2f} | <= {GOAL} | {'yes' if ratio <= GOAL else 'NO'} |\n"
            f"| diff peak RSS | {tree.label} | {rss:.0f} MiB | | | | |")
