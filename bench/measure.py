"""Timing and memory of one command, and the trees and settings the bench runs on."""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path


class BenchError(Exception):
    """The bench itself cannot go on (as opposed to a measured command failing)."""


@dataclass(frozen=True)
class Run:
    """One command run: wall seconds, CPU seconds, peak RSS in bytes, and how it ended.

    ``others`` is how many cores other processes kept busy meanwhile: on a
    shared machine a parallel command loses its second core to them while a
    single-threaded reference does not notice, so a ratio measured with
    ``others`` well above zero is not to be trusted.
    """

    seconds: float
    cpu: float
    peak_rss: int
    code: int
    stderr: str
    others: float = 0.0


def run(argv: Sequence[str], *, cwd: Path | None = None) -> Run:
    """Run a command once in a fresh child; time it and read its peak RSS.

    The page cache is left as it is (the caller alternates tools so that both
    meet the same cache); dirty pages left by the previous run are written
    out first, untimed, so that one tool's fsync never pays for another's
    writes.
    """
    os.sync()
    busy_before = busy_cpu_seconds()
    start = time.perf_counter()
    try:
        proc = subprocess.Popen(
            list(argv), cwd=cwd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )
    except OSError as exc:
        return Run(0.0, 0.0, 0, 127, f"{argv[0]}: {exc.strerror}")
    assert proc.stderr is not None
    err = proc.stderr.read()  # small: every command runs quietly
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)  # so Popen does not wait again
    proc.stderr.close()
    cpu = usage.ru_utime + usage.ru_stime
    others = max(0.0, busy_cpu_seconds() - busy_before - cpu) / seconds if seconds else 0.0
    # ru_maxrss is in KiB on Linux: the child's own peak, the same figure /usr/bin/time -v shows.
    return Run(seconds, cpu, usage.ru_maxrss * 1024, proc.returncode, err.decode(errors="replace").strip(), others)


def busy_cpu_seconds() -> float:
    """CPU seconds the whole machine has spent busy since boot (0 where /proc/stat is missing)."""
    try:
        with open("/proc/stat") as fh:
            fields = [int(x) for x in fh.readline().split()[1:9]]
    except (OSError, ValueError):
        return 0.0
    user, nice, system, _idle, _iowait, irq, softirq, steal = fields
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


@dataclass
class Pair:
    """Alternated runs of two commands (``a`` measured, ``b`` the reference)."""

    a: list[Run] = field(default_factory=list)
    b: list[Run] = field(default_factory=list)

    def failure(self) -> str | None:
        for label, runs in (("mftui", self.a), ("reference", self.b)):
            for r in runs:
                if r.code != 0:
                    reason = r.stderr.splitlines()[-1] if r.stderr else "no message"
                    return f"{label} exited {r.code}: {reason}"
        return None

    @staticmethod
    def median(runs: list[Run], what: Callable[[Run], float] = lambda r: r.seconds) -> float:
        return statistics.median(what(r) for r in runs)


def alternate(
    runs: int,
    a: Callable[[], Run],
    b: Callable[[], Run],
    *,
    before_a: Callable[[], None] = lambda: None,
    before_b: Callable[[], None] = lambda: None,
) -> Pair:
    """``runs`` runs of each, alternated (a b, b a, a b...), so both meet the same warm cache.

    ``before_*`` prepare each run (a fresh destination) outside the timing.
    Stops early when a run fails: the figure is then reported as n/a.
    """
    pair = Pair()
    for i in range(runs):
        order = [(a, before_a, pair.a), (b, before_b, pair.b)]
        for fn, prepare, out in order if i % 2 == 0 else reversed(order):
            prepare()
            out.append(fn())
            if out[-1].code != 0:
                return pair
    return pair


# --- trees and settings -------------------------------------------------------


@dataclass(frozen=True)
class Tree:
    """One synthetic instance tree and the files the bench keeps beside it."""

    label: str
    files: int
    mb: float
    home: Path  # bench/out/<label>/

    @property
    def root(self) -> Path:
        return self.home / "instance"

    @property
    def backups(self) -> Path:
        return self.home / "backups"

    @property
    def config(self) -> Path:
        return self.home / "config.toml"

    @property
    def restore_home(self) -> Path:
        return self.home / "restore"

    @property
    def restore_config(self) -> Path:
        return self.restore_home / "config.toml"


def build_tree(tree: Tree, make_instance: Path, *, fresh: bool = False) -> None:
    """Make the tree once (kept between bench runs) and its settings files."""
    stamp = tree.home / "tree.stamp"
    wanted = f"{tree.files} {tree.mb} {make_instance.stat().st_size}"
    if fresh or not stamp.is_file() or stamp.read_text() != wanted:
        shutil.rmtree(tree.home, ignore_errors=True)
        tree.home.mkdir(parents=True)
        print(f"bench: building the {tree.label} tree ({tree.files} files, {tree.mb:g} MB)...", file=sys.stderr)
        subprocess.run(
            [sys.executable, str(make_instance), str(tree.root), "--files", str(tree.files), "--mb", str(tree.mb)],
            check=True,
            stdout=subprocess.DEVNULL,
        )
        stamp.write_text(wanted)
    write_settings(tree.config, tree.root, tree.backups)
    write_settings(tree.restore_config, tree.restore_home / "instance", tree.restore_home / "backups")


def write_settings(path: Path, root: Path, backups: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f'[instance]\nroot = "{root}"\n[backups]\ndir = "{backups}"\n[reboot]\nbackend = "demo"\n')


def reset_restore_target(tree: Tree) -> None:
    """A fresh copy of the tree for a restore to replace (untimed), and nothing else beside it."""
    home = tree.restore_home
    for child in home.iterdir() if home.is_dir() else ():
        if child != tree.restore_config:
            if child.is_dir() and not child.is_symlink():
                shutil.rmtree(child)
            else:
                child.unlink()
    shutil.copytree(tree.root, home / "instance", symlinks=True)


def warm(root: Path) -> None:
    """Read every file once, so that the first timed run does not pay for a cold cache."""
    for dirpath, _dirs, names in os.walk(root):
        for name in names:
            with open(os.path.join(dirpath, name), "rb") as fh:
                while fh.read(1 << 20):
                    pass


def empty_dir(path: Path) -> None:
    shutil.rmtree(path, ignore_errors=True)
    path.mkdir(parents=True)
