"""``python -m bench --catalog``: ``mftui list --json`` and the Backups screen with 1,000 backups in the folder.

The folder is made of real archives: a few made by mftui itself (two manual
backups of an instance of some 170 files, and the safety copy a restore
keeps), then copied under 1,000 names (a day's worth of scheduled backups
for almost three years). Figures, each the median of ``--runs``:

- ``list --json`` cold (no catalog cache in the state folder) and warm (the
  cache as the previous list left it), as a child process: what a script pays;
- the same rows listed through the cache by a fresh child (what ``mftui list``
  costs once cli.py calls ``unit_backups``), cold and warm;
- the catalog itself in this process (``unit_backups``), cold and warm;
- the Backups screen opening (Textual Pilot, 80x24): from the push of the
  screen to its list populated, cold and warm.

Goal: under 0.3 s each, warm. A missed goal is a figure, not an error.
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from .measure import Tree, write_settings
from .measure import run as run_command

GOAL = 0.3
COUNT = 1000
EXTRA_SERVICES = 150  # services/<id>.json beside the demo's: a backup.json of some 170 entries
CACHE = "catalog-cache.json"


def build(home: Path, mftui: str) -> Path:
    """The instance, its settings and a folder of COUNT backups (kept between runs); returns the settings file."""
    config, backups = home / "config.toml", home / "backups"
    stamp = home / "catalog.stamp"
    if stamp.is_file() and stamp.read_text() == str(COUNT) and len(list(backups.glob("*.zip"))) == COUNT:
        return config
    from mftui.demo import write_demo_tree

    shutil.rmtree(home, ignore_errors=True)
    root = home / "instance"
    root.mkdir(parents=True)
    write_demo_tree(root)
    for n in range(EXTRA_SERVICES):
        ident = f"{0x400 + n:03x}"
        (root / "services" / f"{ident}.json").write_text(f'{{"id": "{ident}", "name": "service {n}"}}\n')
    write_settings(config, root, backups)
    print(f"bench: making a folder of {COUNT} backups in {backups} ...", file=sys.stderr)
    cfg = [mftui, "--config", str(config)]
    for name in ("monday", "tuesday"):
        subprocess.run([*cfg, "backup", "--name", name], check=True, stdout=subprocess.DEVNULL)
    first = sorted(backups.glob("monday_*.zip"))[0]
    (root / "flows" / "flows.json").write_text("[]\n")
    subprocess.run([*cfg, "restore", "--yes", "--no-reboot", str(first)], check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    made = sorted(backups.glob("*.zip"))
    start = datetime(2024, 1, 1, 2, 0, tzinfo=UTC)
    for i in range(COUNT - len(made)):
        when = (start + timedelta(days=i)).strftime("%Y-%m-%dT%H%M%SZ")
        shutil.copy2(made[i % len(made)], backups / f"nightly_{when}.zip")
    stamp.write_text(str(COUNT))
    return config


def _state(config: Path) -> Path:
    from mftui.settings import load_settings

    return load_settings(config).state_dir


def _median(times: list[float]) -> float | None:
    return statistics.median(times) if times else None


def _timed(runs: int, once: Callable[[], float], before: Callable[[], None] = lambda: None) -> float | None:
    times = []
    for _ in range(runs):
        before()
        times.append(once())
    return _median(times)


def _cli_once(mftui: str, config: Path) -> float:
    result = run_command([mftui, "--config", str(config), "list", "--json"])
    if result.code != 0:
        raise RuntimeError(f"mftui list failed: {result.stderr}")
    return result.seconds


# What `mftui list --json` costs once cli.py lists through the cache: the same rows, from a fresh child.
CACHED_LIST = ("import json, sys; from mftui.archive.catalog import unit_backups; from mftui.settings import "
               "load_settings; print(json.dumps([b.to_json() for b in unit_backups(load_settings(sys.argv[1]))]))")


def _child_once(config: Path) -> float:
    result = run_command([sys.executable, "-c", CACHED_LIST, str(config)])
    if result.code != 0:
        raise RuntimeError(f"the cached list failed: {result.stderr}")
    return result.seconds


def _catalog_once(config: Path) -> float:
    from mftui.archive.catalog import unit_backups
    from mftui.settings import load_settings

    settings = load_settings(config)
    start = time.perf_counter()
    listed = unit_backups(settings)
    seconds = time.perf_counter() - start
    assert len(listed) == COUNT, len(listed)
    return seconds


def _screen_once(config: Path) -> float:
    return asyncio.run(_screen_open(config))


async def _screen_open(config: Path) -> float:
    from mftui.settings import load_settings
    from mftui.tui.app import MftuiApp
    from mftui.tui.screens.backups import BackupsScreen

    app = MftuiApp(load_settings(config), low_bandwidth=True)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await app.workers.wait_for_complete()
        start = time.perf_counter()
        screen = BackupsScreen()
        await app.push_screen(screen)
        while not screen.loaded:
            await asyncio.sleep(0.001)
        seconds = time.perf_counter() - start
        assert screen.query_one("#backups").option_count >= COUNT  # type: ignore[attr-defined]
    return seconds


def run_bench(home: Path, mftui: str, runs: int) -> list[tuple[str, float | None]]:
    config = build(home, mftui)
    cache = _state(config) / CACHE

    def forget() -> None:
        cache.unlink(missing_ok=True)

    figures: list[tuple[str, float | None]] = []
    figures.append(("mftui list --json, cold (no cache)", _timed(runs, lambda: _cli_once(mftui, config), forget)))
    _cli_once(mftui, config)
    figures.append(("mftui list --json, warm", _timed(runs, lambda: _cli_once(mftui, config))))
    figures.append(("list through the cache, child, cold", _timed(runs, lambda: _child_once(config), forget)))
    _child_once(config)
    figures.append(("list through the cache, child, warm", _timed(runs, lambda: _child_once(config))))
    figures.append(("catalog (unit_backups), cold", _timed(runs, lambda: _catalog_once(config), forget)))
    figures.append(("catalog (unit_backups), warm", _timed(runs, lambda: _catalog_once(config))))
    figures.append(("Backups screen open, cold", _timed(runs, lambda: _screen_once(config), forget)))
    figures.append(("Backups screen open, warm", _timed(runs, lambda: _screen_once(config))))
    return figures


def table(figures: list[tuple[str, float | None]]) -> str:
    lines = [f"{COUNT} backups in the folder; goal: under {GOAL:.1f} s (warm)", ""]
    lines.append(f"{'figure':<40} {'seconds':>8}  goal")
    for label, seconds in figures:
        shown = f"{seconds:8.3f}" if seconds is not None else "     n/a"
        met = "" if seconds is None or "cold" in label else ("met" if seconds < GOAL else "MISSED")
        lines.append(f"{label:<40} {shown}  {met}")
    return "\n".join(lines)


def run(args: argparse.Namespace, trees: list[Tree], mftui: str) -> int:
    """The bench's entry point (``python -m bench --catalog``); ``trees`` are not used: the folder is its own."""
    home = args.out.resolve() / "catalog"
    print(table(run_bench(home, mftui, args.runs)))
    return 0
