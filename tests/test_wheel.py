"""The wheel ships the stylesheets, and an installed wheel's app finds them."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
STYLESHEETS = sorted(p.name for p in (ROOT / "styles").glob("*.tcss"))


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    # Without isolation when hatchling is installed here (no network needed); otherwise build fetches it.
    isolation = [] if importlib.util.find_spec("hatchling") is None else ["--no-isolation"]
    done = subprocess.run(
        [sys.executable, "-m", "build", "--wheel", *isolation, "--outdir", str(out), str(ROOT)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    (found,) = out.glob("mftui-*.whl")
    return found


def test_the_wheel_holds_every_stylesheet(wheel: Path) -> None:
    assert STYLESHEETS, "no stylesheets in styles/"
    with zipfile.ZipFile(wheel) as zf:
        names = set(zf.namelist())
    for name in STYLESHEETS:
        assert f"mftui/styles/{name}" in names


def test_an_installed_wheel_finds_its_stylesheets(wheel: Path, tmp_path: Path, config_file: Path) -> None:
    target = tmp_path / "site"
    done = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--no-deps", "--no-index", "--target", str(target), str(wheel)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    code = textwrap.dedent(
        f"""
        import asyncio, pathlib
        import mftui
        from mftui.tui.styles import styles_dir
        assert pathlib.Path(mftui.__file__).is_relative_to({str(target)!r}), mftui.__file__
        assert styles_dir() == pathlib.Path({str(target)!r}) / "mftui" / "styles", styles_dir()
        from mftui.settings import load_settings
        from mftui.tui.app import MftuiApp
        from mftui.tui.widgets.keybar import KeyBar

        async def main():
            app = MftuiApp(load_settings({str(config_file)!r}), low_bandwidth=True)
            async with app.run_test(size=(80, 24)) as pilot:
                await pilot.pause()
                bar = app.screen.query_one(KeyBar)
                assert bar.styles.dock == "bottom", bar.styles.dock  # set in styles/app.tcss
                assert bar.region.y == 23
        asyncio.run(main())
        print("ok")
        """
    )
    # The installed copy first on the path; run from elsewhere so the checkout is not picked up.
    env = {**os.environ, "PYTHONPATH": str(target)}
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, cwd=tmp_path, env=env
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.strip().endswith("ok")
