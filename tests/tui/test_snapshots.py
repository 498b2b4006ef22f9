"""Snapshots of every screen and dialog at 80x24: frozen clock, still cursor, fixed paths.

Update after an intended change with ``pytest tests/tui/test_snapshots.py --snapshot-update``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from mftui.tui.app import MftuiApp

from .helpers import SIZE, frozen_now
from .scenes import SCENES, scene_instance


def _snapshot(
    name: str, snap_compare: Callable[..., bool], monkeypatch: pytest.MonkeyPatch, low_bandwidth: bool = True
) -> bool:
    scene = SCENES[name]
    for key, value in scene.env.items():
        monkeypatch.setenv(key, value)
    if "SSH_CONNECTION" not in scene.env:
        monkeypatch.delenv("SSH_CONNECTION", raising=False)
    with scene_instance() as settings:
        settings = scene.setup(settings)
        app = MftuiApp(settings, low_bandwidth=low_bandwidth, now=frozen_now)
        return snap_compare(app, terminal_size=SIZE, run_before=scene.run_before)


class TestAdministration:
    @pytest.mark.parametrize("low_bandwidth", [True, False], ids=["low-bandwidth", "full"])
    def test_first_screen(self, snap_compare: Any, monkeypatch: pytest.MonkeyPatch, low_bandwidth: bool) -> None:
        assert _snapshot("administration", snap_compare, monkeypatch, low_bandwidth)


class TestBackup:
    @pytest.mark.parametrize("name", ["backup-form", "backup-name-problem", "backup-result", "download-zip"])
    def test_backup_side(self, name: str, snap_compare: Any, monkeypatch: pytest.MonkeyPatch) -> None:
        assert _snapshot(name, snap_compare, monkeypatch)

    def test_full_mode_form(self, snap_compare: Any, monkeypatch: pytest.MonkeyPatch) -> None:
        assert _snapshot("backup-form", snap_compare, monkeypatch, low_bandwidth=False)

    def test_failure_dialog(self, snap_compare: Any, monkeypatch: pytest.MonkeyPatch) -> None:
        assert _snapshot("backup-failed", snap_compare, monkeypatch)


class TestRestore:
    @pytest.mark.parametrize(
        "name",
        [
            "upload-picker",
            "restore-pane",
            "restore-damaged",
            "restore-confirm",
            "restore-confirm-other-unit",
            "restore-triggered",
        ],
    )
    def test_restore_side(self, name: str, snap_compare: Any, monkeypatch: pytest.MonkeyPatch) -> None:
        assert _snapshot(name, snap_compare, monkeypatch)

    def test_full_mode_confirmation(self, snap_compare: Any, monkeypatch: pytest.MonkeyPatch) -> None:
        assert _snapshot("restore-confirm", snap_compare, monkeypatch, low_bandwidth=False)

    def test_put_back_confirmation(self, snap_compare: Any, monkeypatch: pytest.MonkeyPatch) -> None:
        assert _snapshot("put-back-confirm", snap_compare, monkeypatch)


class TestHelp:
    def test_help_screen(self, snap_compare: Any, monkeypatch: pytest.MonkeyPatch) -> None:
        assert _snapshot("help", snap_compare, monkeypatch)
