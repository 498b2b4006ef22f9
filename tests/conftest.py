"""Shared fixtures: a fresh demo instance on real disk, and an isolated HOME."""

from __future__ import annotations

from pathlib import Path

import pytest

from mftui.demo import write_demo_tree
from mftui.settings import Settings


@pytest.fixture(autouse=True)
def isolated_home(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every test gets its own empty HOME and XDG dirs, and no MFTUI_CONFIG."""
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("HOME", str(home))
    for var in ("XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_STATE_HOME", "XDG_CACHE_HOME", "MFTUI_CONFIG"):
        monkeypatch.delenv(var, raising=False)
    return home


@pytest.fixture
def instance_root(tmp_path: Path) -> Path:
    """A freshly written demo instance tree."""
    root = tmp_path / "site" / "mobiusflow"
    root.mkdir(parents=True)
    write_demo_tree(root)
    return root


@pytest.fixture
def settings(instance_root: Path, tmp_path: Path) -> Settings:
    """Settings for the demo instance in tmp_path, backups beside it, demo reboot backend."""
    return Settings(instance_root=instance_root, backups_dir=tmp_path / "backups", demo=True)


@pytest.fixture
def config_file(instance_root: Path, tmp_path: Path) -> Path:
    """A real settings file pointing at the demo instance, for CLI tests."""
    path = tmp_path / "config.toml"
    path.write_text(
        f'[instance]\nroot = "{instance_root}"\n[backups]\ndir = "{tmp_path / "backups"}"\n'
        '[reboot]\nbackend = "demo"\n'
    )
    return path

