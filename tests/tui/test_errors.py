"""No traceback ever reaches the screen: a short reason in a dialog, the details in a log."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from mftui.settings import Settings
from mftui.tui import app as app_module
from mftui.tui.app import MftuiApp, run_tui
from mftui.tui.dialogs.message import ErrorDialog
from mftui.tui.screens.backup_restore import BackupRestoreScreen

from .helpers import SIZE, settle, static_text


async def test_an_unexpected_error_in_a_worker_is_a_short_reason(
    make_app: Callable[..., MftuiApp], monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*_args: object, **_kwargs: object) -> None:
        raise ZeroDivisionError("division by zero")

    monkeypatch.setattr("mftui.tui.widgets.backup_panel.create_backup", broken)
    app = make_app()
    assert app.crash.path.is_relative_to(Path.home())  # the test's own HOME
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("b")
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, ErrorDialog)
        message = static_text(pilot, "#message")
        assert message.startswith("Unexpected error (ZeroDivisionError: division by zero)")
        assert "Traceback" not in message and str(app.crash.path) in message
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, BackupRestoreScreen)  # the app goes on
    log = app.crash.path.read_text()
    assert "Traceback" in log and "ZeroDivisionError" in log


async def test_an_error_outside_any_worker_is_recorded_for_a_short_exit_line(
    make_app: Callable[..., MftuiApp], monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(self: BackupRestoreScreen) -> None:
        raise RuntimeError("a bug")

    monkeypatch.setattr(BackupRestoreScreen, "action_upload", broken)
    app = make_app()
    with pytest.raises(RuntimeError):
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            await pilot.press("b")
            await settle(pilot)
            await pilot.press("tab", "tab", "u")
            await settle(pilot)
    assert isinstance(app.crash.error, RuntimeError)


def test_run_tui_prints_one_line_not_a_traceback(
    settings: Settings, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    logs: list[Path] = []

    def run(self: MftuiApp, **_kwargs: object) -> None:
        logs.append(self.crash.path)
        try:
            raise KeyError("services")
        except KeyError as exc:
            self.crash.record(exc)

    monkeypatch.setattr(app_module.MftuiApp, "run", run)
    assert run_tui(settings, low_bandwidth=True) == 1
    err = capsys.readouterr().err
    assert err.startswith("mftui: unexpected error (KeyError: 'services')")
    assert "Traceback" not in err and err.count("\n") == 1
    assert "Traceback" in logs[0].read_text()
