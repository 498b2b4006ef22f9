"""Snapshots of every screen and dialog at 80x24: frozen clock, still cursor, fixed paths.

Update after an intended change with ``pytest tests/tui/test_snapshots.py --snapshot-update``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from .scenes import SCENES, snapshot


def _snapshot(name: str, snap_compare: Callable[..., bool], monkeypatch: pytest.MonkeyPatch,
              low_bandwidth: bool = True) -> bool:
    return snapshot(SCENES[name], snap_compare, monkeypatch, low_bandwidth=low_bandwidth)


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
