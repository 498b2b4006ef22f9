"""``python -m bench``: mftui against zip/unzip on synthetic instance trees.

Builds the trees with ``../shared/bench/make_instance.py`` (kept in
``bench/out/`` between runs), then for each tree runs the real command line
and the reference tool alternately on the same files, and prints medians and
ratios. A missed goal is a measurement, not an error: the exit status is
non-zero only when the bench itself cannot run.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import platform
import shutil
import sys
import zlib
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

from .measure import (
    BenchError,
    Pair,
    Run,
    Tree,
    alternate,
    build_tree,
    empty_dir,
    reset_restore_target,
    run,
    warm,
)

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
MIB = 1024 * 1024

# (label, files, MB): the sizes named in the issue. The first tree is the
# baseline: start-up bound, it carries no goal, and inspect is compared to it.
SMALL = ("small", 300, 5.0)
LARGE = ("large", 5000, 200.0)
HUGE = ("huge", 20000, 1000.0)
QUICK_LARGE = ("large", 1000, 40.0)

# inspect takes well under 0.1 s, so one busy moment of the machine moves
# its median: it is run this many times more often than the other commands.
INSPECT_RUNS = 5

RunLog = dict[str, dict[str, list[dict[str, object]]]]  # tree -> figure -> every run


@dataclass
class TreeResult:
    """Each pair of alternated runs on one tree, and the two archives' sizes."""

    pairs: dict[str, Pair] = field(default_factory=dict)
    archive: Path | None = None
    sizes: tuple[int, int] | None = None  # (mftui's archive, zip -6's)


@dataclass
class Row:
    figure: str
    tree: str
    mftui: str
    reference: str
    ratio: float | None
    goal: str
    met: str
    note: str = ""
    others: float | None = None  # the most cores other processes kept busy during one of its runs


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        return bench(args)
    except BenchError as exc:
        print(f"bench: {exc}", file=sys.stderr)
        return 2


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n\n")[0])
    p.add_argument("--quick", action="store_true", help="one run each, small tree and a 1,000-file / 40 MB one")
    p.add_argument("--huge", action="store_true", help="also the 20,000-file / 1 GB tree (builds in ~75 s)")
    p.add_argument(
        "--tree",
        action="append",
        type=tree_spec,
        metavar="LABEL:FILES:MB",
        help="measure this tree instead of the default ones (repeat; the first is the baseline)",
    )
    p.add_argument("--runs", type=int, default=None, help="runs of each command (default 3, 1 with --quick)")
    p.add_argument("--out", type=Path, default=HERE / "out", help="work folder (default bench/out, gitignored)")
    p.add_argument("--fresh", action="store_true", help="rebuild the trees")
    p.add_argument("--mftui", type=Path, default=None, help="the mftui command (default: beside this python)")
    p.add_argument(
        "--make-instance",
        type=Path,
        default=REPO.parent / "shared" / "bench" / "make_instance.py",
        help="the tree generator (default ../shared/bench/make_instance.py)",
    )
    p.add_argument("--json", type=Path, default=None, help="also write every run to this JSON file")
    p.add_argument("--protected", action="store_true",
                   help="instead: passphrase-encrypted backups against plain ones (backup, verify, restore)")
    p.add_argument("--catalog", action="store_true",
                   help="instead: mftui list and the Backups screen with a 1,000-backup folder (bench/catalog.py)")
    p.add_argument("--diff", action="store_true",
                   help="instead: mftui diff of two large-tree backups against verify of one (bench/diff.py)")
    args = p.parse_args(argv)
    if args.runs is None:
        args.runs = 1 if args.quick else 3
    if args.runs < 1:
        p.error("--runs must be at least 1")
    return args


def tree_spec(text: str) -> tuple[str, int, float]:
    try:
        label, files, mb = text.split(":")
        if not label.isidentifier() or int(files) < 1 or float(mb) <= 0:
            raise ValueError
        return label, int(files), float(mb)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not LABEL:FILES:MB, e.g. medium:2000:80") from None


def bytecode_cache(out: Path) -> Path:
    """Let the measured mftui start from compiled bytecode, as an installed one does.

    With ``PYTHONDONTWRITEBYTECODE`` set (as in some shells and CI), every
    mftui start would compile its modules again: some 30 ms that an
    installation (pip compiles at install time) never pays, and that would
    swamp the start-up-bound figures (inspect). The cache goes under the
    bench's work folder, not into the source tree.
    """
    cache = out / "pycache"
    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
    os.environ["PYTHONPYCACHEPREFIX"] = str(cache)
    spec = importlib.util.find_spec("mftui")
    if spec is not None and spec.origin:
        import compileall

        before, sys.pycache_prefix = sys.pycache_prefix, str(cache)
        try:
            compileall.compile_dir(Path(spec.origin).parent, quiet=1)
        finally:
            sys.pycache_prefix = before
    return cache


def find_tools(args: argparse.Namespace) -> tuple[str, str, str]:
    mftui = args.mftui or Path(sys.executable).parent / "mftui"
    found = shutil.which(str(mftui)) or shutil.which("mftui")
    if not found:
        raise BenchError(f"no mftui command at {mftui} or on PATH; run from the project's .venv (python3 dev.py test)")
    zip_, unzip = shutil.which("zip"), shutil.which("unzip")
    if not zip_ or not unzip:
        raise BenchError("zip and unzip are needed as the reference (apt-get install zip unzip)")
    if not args.make_instance.is_file():
        raise BenchError(f"{args.make_instance} not found; pass --make-instance PATH")
    return found, zip_, unzip


def bench(args: argparse.Namespace) -> int:
    mftui, zip_, unzip = find_tools(args)
    specs = args.tree or [SMALL, QUICK_LARGE if args.quick else LARGE]
    specs += [HUGE] if args.huge else []
    if len({label for label, _, _ in specs}) < len(specs):
        raise BenchError("each tree needs its own label")
    trees = [Tree(label, files, mb, args.out.resolve() / f"{label}-{files}x{mb:g}") for label, files, mb in specs]
    cache = bytecode_cache(args.out.resolve())
    print(header(mftui) + f"\nbytecode: compiled once into {cache} (as an installed mftui has it)", flush=True)
    if args.protected:
        return bench_protected(args, trees, mftui)
    if args.catalog or args.diff:  # each in its own module: run(args, trees, mftui) -> exit status
        import importlib

        return int(importlib.import_module(f".{'catalog' if args.catalog else 'diff'}", __package__).run(
            args, trees, mftui))
    rows: list[Row] = []
    runs: RunLog = {}
    archives: dict[str, Path] = {}
    for tree in trees:
        build_tree(tree, args.make_instance, fresh=args.fresh)
        warm(tree.root)
        print(f"bench: measuring the {tree.label} tree ({tree.files} files, {tree.mb:g} MB)...", file=sys.stderr)
        result = measure_tree(tree, args.runs, mftui, zip_, unzip)
        runs[tree.label] = {name: [asdict(r) for r in pair.a + pair.b] for name, pair in result.pairs.items()}
        rows += tree_rows(tree, result, baseline=tree is trees[0])
        if result.archive:
            archives[tree.label] = result.archive
    rows += inspect_rows(args.runs * INSPECT_RUNS, mftui, trees, archives, runs)
    print(table(rows))
    if args.json:
        args.json.write_text(json.dumps({"rows": [asdict(r) for r in rows], "runs": runs}, indent=1))
    return 0


def bench_protected(args: argparse.Namespace, trees: list[Tree], mftui: str) -> int:
    from . import protected

    lines: list[str] = []
    for tree in trees:
        build_tree(tree, args.make_instance, fresh=args.fresh)
        warm(tree.root)
        print(f"bench: encrypted and plain on the {tree.label} tree ({tree.files} files, {tree.mb:g} MB)...",
              file=sys.stderr)
        for mode in ("passphrase", "recipients"):
            lines += protected.rows(tree, protected.measure(tree, args.runs, mftui, mode), mode)
    print(protected.table([*lines, protected.scrypt_row()]))
    return 0


def measure_tree(tree: Tree, runs: int, mftui: str, zip_: str, unzip: str) -> TreeResult:
    work = tree.home / "work"
    empty_dir(work)
    ref_zip = work / "zip-6.zip"
    cfg = ["--config", str(tree.config)]
    result = TreeResult()
    out = result.pairs
    out["backup"] = alternate(
        runs,
        lambda: run([mftui, *cfg, "backup", "--name", "bench"]),
        lambda: run([zip_, "-r", "-6", "-q", str(ref_zip), "."], cwd=tree.root),
        before_a=lambda: empty_dir(tree.backups),
        before_b=lambda: ref_zip.unlink(missing_ok=True),
    )
    archive = only_zip(tree.backups)
    if archive is None or not ref_zip.exists():
        return result
    result.archive = archive
    result.sizes = (archive.stat().st_size, ref_zip.stat().st_size)
    out["verify"] = alternate(
        runs, lambda: run([mftui, *cfg, "verify", str(archive)]), lambda: run([unzip, "-tq", str(archive)])
    )
    unzipped = work / "unzipped"
    out["restore"] = alternate(
        runs,
        lambda: run([mftui, "--config", str(tree.restore_config), "restore", "--yes", "--no-reboot", str(archive)]),
        lambda: run([unzip, "-q", str(archive), "-d", str(unzipped)]),
        before_a=lambda: reset_restore_target(tree),
        before_b=lambda: shutil.rmtree(unzipped, ignore_errors=True),
    )
    shutil.rmtree(unzipped, ignore_errors=True)
    return result


def only_zip(folder: Path) -> Path | None:
    found = sorted(folder.glob("*.zip")) if folder.is_dir() else []
    return found[-1] if found else None


# --- rows -------------------------------------------------------------------


def tree_rows(tree: Tree, result: TreeResult, *, baseline: bool) -> list[Row]:
    rows = []
    results = result.pairs
    big = not baseline

    def goal(g: str) -> str:
        return g if big else "(start-up bound)"

    for figure, key, ref, target in (
        ("backup time", "backup", "zip -r -6", 0.5),
        ("restore time", "restore", "unzip -q", 1.0),
        ("verify time", "verify", "unzip -tq", 1.0),
    ):
        pair = results.get(key)
        rows.append(time_row(f"{figure} / {ref}", tree.label, pair, target, goal, counts=big))
    if result.sizes:
        a, b = result.sizes
        ratio = a / b
        rows.append(
            Row(
                "archive size / zip -6",
                tree.label,
                f"{a / MIB:.2f} MiB",
                f"{b / MIB:.2f} MiB",
                ratio,
                goal("<= 1.03"),
                verdict(ratio <= 1.03, big),
            )
        )
    else:
        rows.append(
            Row(
                "archive size / zip -6",
                tree.label,
                "n/a",
                "n/a",
                None,
                goal("<= 1.03"),
                "",
                na_reason(results.get("backup")),
            )
        )
    for key in ("backup", "restore"):
        pair = results.get(key)
        if pair and pair.a and not pair.failure():
            peak = max(r.peak_rss for r in pair.a)
            rows.append(
                Row(
                    f"{key} peak RSS",
                    tree.label,
                    f"{peak / MIB:.1f} MiB",
                    "",
                    None,
                    "<= 100 MiB" if big else "(flat)",
                    verdict(peak <= 100 * MIB, big),
                )
            )
        else:
            rows.append(Row(f"{key} peak RSS", tree.label, "n/a", "", None, "<= 100 MiB", "", na_reason(pair)))
    return rows


def time_row(
    figure: str, tree: str, pair: Pair | None, target: float, goal: Callable[[str], str], *, counts: bool
) -> Row:
    if pair is None or not pair.a or not pair.b or pair.failure():
        return Row(figure, tree, "n/a", "n/a", None, goal(f"<= {target}"), "", na_reason(pair))
    a, b = Pair.median(pair.a), Pair.median(pair.b)
    ratio = a / b if b else None
    return Row(
        figure,
        tree,
        f"{a:.3f} s",
        f"{b:.3f} s",
        ratio,
        goal(f"<= {target}"),
        verdict(ratio is not None and ratio <= target, counts),
        others=max(r.others for r in pair.a + pair.b),
    )


def inspect_rows(runs: int, mftui: str, trees: list[Tree], archives: dict[str, Path], log: RunLog) -> list[Row]:
    base = trees[0]
    figure = f"inspect time, this tree / {base.label}"
    rows = []
    for tree in trees[1:]:
        if base.label not in archives or tree.label not in archives:
            rows.append(
                Row(
                    figure,
                    tree.label,
                    "n/a",
                    "n/a",
                    None,
                    "<= 1.2",
                    "",
                    "n/a (no archive: the backup failed)",
                )
            )
            continue

        def inspect(t: Tree) -> Run:
            return run([mftui, "--config", str(t.config), "inspect", str(archives[t.label])])

        pair = alternate(runs, lambda tree=tree: inspect(tree), lambda: inspect(base))
        log[tree.label]["inspect"] = [asdict(r) for r in pair.a + pair.b]
        rows.append(time_row(figure, tree.label, pair, 1.2, str, counts=True))
    return rows


def verdict(ok: bool, counts: bool) -> str:
    if not counts:
        return ""
    return "yes" if ok else "NO"


def na_reason(pair: Pair | None) -> str:
    if pair is None:
        return "n/a (not run: no archive from the backup)"
    return f"n/a ({pair.failure() or 'no run'})"


# --- output -----------------------------------------------------------------


def header(mftui: str) -> str:
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    zlib_ng = "installed" if importlib.util.find_spec("zlib_ng") else "no"
    return (
        f"mftui bench: {platform.machine()}, {cores} cores, Python {platform.python_version()}, "
        f"zlib {zlib.ZLIB_RUNTIME_VERSION}, zlib-ng {zlib_ng}; mftui = {mftui}\n"
        "times are medians of alternated runs; RSS is the largest peak of the runs;\n"
        "others: the most cores that other processes kept busy during one of the runs"
    )


BUSY = 0.25  # cores used by other processes above which a timing is flagged


def table(rows: list[Row]) -> str:
    head = ("figure", "tree", "mftui", "reference", "ratio", "goal", "met", "others")
    body = [
        (
            r.figure,
            r.tree,
            r.mftui,
            r.reference,
            f"{r.ratio:.2f}" if r.ratio is not None else "",
            r.goal,
            r.met or r.note,
            "" if r.others is None else f"{r.others:.2f}" + (" !" if r.others > BUSY else ""),
        )
        for r in rows
    ]
    widths = [max(len(str(x)) for x in col) for col in zip(head, *body, strict=False)]
    lines = [
        "| " + " | ".join(str(c).ljust(w) for c, w in zip(line, widths, strict=True)) + " |" for line in (head, *body)
    ]
    lines.insert(1, "|" + "|".join("-" * (w + 2) for w in widths) + "|")
    if any(r.others is not None and r.others > BUSY for r in rows):
        lines.append(
            f"! other processes kept more than {BUSY} of a core busy during some runs of that figure: "
            "a parallel command loses to them what a single-threaded reference does not; rerun on a quiet machine"
        )
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
