"""Scenes of What changed (DiffScreen), for the snapshot tests and the README screenshots.

A backup of the demo, then the live configuration moves on (a flow edited, a
service added, the pre-shared key changed); What changed is opened on that
backup against the live configuration, as the restore pane's Enter opens it.
"""

from __future__ import annotations

from typing import Any

from textual.pilot import Pilot

from mftui.settings import Settings

from .helpers import settle
from .scenes import Scene, backup, change_live


def moved_on(settings: Settings) -> None:
    """A backup, then the live configuration changes (the PSK too: the list says it is secret)."""
    backup(settings)
    change_live(settings)
    psk = settings.instance_root / "hub" / "psk.json"
    psk.write_text(psk.read_text().replace('"psk": "f5b1', '"psk": "0000'))


async def _open(pilot: Pilot[Any], path: str | None = None) -> None:
    from mftui.tui.screens.diff_view import DiffScreen

    await settle(pilot)
    app: Any = pilot.app
    archive = next(app.settings.backups_dir.glob("before_*.zip"))
    screen = DiffScreen(app.settings, archive, None, path=path)
    app.push_screen(screen)
    for _ in range(100):  # the comparison runs in a worker thread
        await settle(pilot, rounds=1)
        if screen.diff is not None and (path is None or screen.query_one("#diff-view").has_class("-shown")):
            break
    await settle(pilot)


async def diff_list(pilot: Pilot[Any]) -> None:
    await _open(pilot)


async def diff_file(pilot: Pilot[Any]) -> None:
    await _open(pilot, "flows/flows.json")


SCENES: dict[str, Scene] = {
    "diff": Scene(diff_list, prepare=moved_on),
    "diff-file": Scene(diff_file, prepare=moved_on),
}
TITLES = {
    "diff": "What changed: a backup against the live configuration, by component",
    "diff-file": "What changed: one file's unified diff (Enter on it; Esc back)",
}
