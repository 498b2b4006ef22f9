"""TUI test fixtures: the app on a demo instance in tmp, a frozen clock, low-bandwidth mode."""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Callable
from pathlib import Path

import pytest

from mftui.settings import Settings
from mftui.tui.app import MftuiApp

from .helpers import frozen_now


@pytest.hookimpl(tryfirst=True)
def pytest_pyfunc_call(pyfuncitem: pytest.Function) -> bool | None:
    """Run ``async def`` tests in a fresh event loop (Textual's pilot is async; no plugin needed)."""
    if not inspect.iscoroutinefunction(pyfuncitem.obj):
        return None
    names = pyfuncitem._fixtureinfo.argnames
    asyncio.run(pyfuncitem.obj(**{name: pyfuncitem.funcargs[name] for name in names}))
    return True


@pytest.fixture
def make_app(settings: Settings) -> Callable[..., MftuiApp]:
    """An app on the demo instance, with the clock frozen (the file-name preview shows the time)."""

    def make(low_bandwidth: bool = True, app_settings: Settings | None = None) -> MftuiApp:
        return MftuiApp(app_settings or settings, low_bandwidth=low_bandwidth, now=frozen_now)

    return make


@pytest.fixture
def usb(tmp_path: Path) -> Path:
    """A folder standing in for a mounted USB stick."""
    folder = tmp_path / "media" / "usb"
    folder.mkdir(parents=True)
    return folder
