"""Scenes of the Backups screen and the History view, for the snapshot tests and the README screenshots.

Reached the way a technician reaches them: backups made and a restore run by
the core (with the writer's clock frozen, so names and times are the same on
every run), then keys pressed (l, p, v, x, h). The audit log's lines are
written with a frozen time and a fixed person (SUDO_USER, SSH_CONNECTION).
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

from textual.pilot import Pilot

from mftui.settings import Settings

from .helpers import FROZEN, settle
from .scenes import SSH, Scene, _freeze_times, backup, change_live, frozen_writer_clock

PERSON = {**SSH, "SUDO_USER": "tech"}


def kept_backups(settings: Settings) -> None:
    """Three manual backups a day apart and a scheduled one, then a restore of the first: its safety copy and
    the previous tree."""
    from mftui.archive.writer import create_backup
    from mftui.restore import restore_backup
    from mftui.restore.journal import read_journal, write_journal

    first = backup(settings, "before")
    for days, name in ((1, "site visit"), (2, "new flows")):
        create_backup(settings, name, now=FROZEN + timedelta(days=days))
    create_backup(settings, "nightly", now=FROZEN + timedelta(days=1, hours=12), kind="scheduled")
    change_live(settings)
    with frozen_writer_clock():
        restore_backup(settings, first)
    journal = read_journal(settings.state_dir)
    assert journal is not None
    journal.finished_at = journal.previous_at = FROZEN.isoformat(timespec="seconds")
    write_journal(settings.state_dir, journal)
    _freeze_times(settings)


def logged(settings: Settings) -> None:
    """An audit log of a few days' work, and one damaged line."""
    from mftui.history.audit import LOG_NAME, append_entry, make_entry

    archive = Path("site-visit_2026-11-06T101500Z.zip")
    steps: list[tuple[str, str, dict[str, Any]]] = [
        ("backup", "ok", {"archive": archive, "sha256": "9e7b" * 16}),
        ("copy", "ok", {"archive": archive, "detail": "to /media/usb, read back and checked"}),
        ("pin", "ok", {"archive": archive}),
        ("restore", "ok", {"archive": archive, "changes": {"added": 1, "changed": 2, "removed": 0}}),
        ("reboot-request", "ok", {"detail": "demo: recorded only"}),
        ("delete", "refused", {"archive": archive, "detail": "the backup is pinned; unpin it first"}),
    ]
    for minutes, (action, outcome, more) in enumerate(steps):
        append_entry(settings, make_entry(action, outcome, now=FROZEN + timedelta(minutes=7 * minutes), **more))
    with (settings.state_dir / LOG_NAME).open("ab") as fh:
        fh.write(b'{"time": "2026-11-05T11:00:00Z", "action": \n')  # a line cut by a power cut


async def backups_screen(pilot: Pilot[Any]) -> None:
    await settle(pilot)
    await pilot.press("l")
    await settle(pilot)
    await pilot.press("down", "down", "p")  # pin "site visit"
    await settle(pilot)
    await pilot.press("v")  # and verify it
    await settle(pilot, rounds=5)


async def delete_question(pilot: Pilot[Any]) -> None:
    await settle(pilot)
    await pilot.press("l")
    await settle(pilot)
    await pilot.press("down", "down", "down", "x")  # "before"
    await settle(pilot)


async def history_view(pilot: Pilot[Any]) -> None:
    await settle(pilot)
    await pilot.press("l")
    await settle(pilot)
    await pilot.press("h")
    await settle(pilot)


SCENES: dict[str, Scene] = {
    "backups": Scene(backups_screen, prepare=kept_backups),
    "backups-delete": Scene(delete_question, prepare=kept_backups),
    "history": Scene(history_view, prepare=logged, env=PERSON),
}

TITLES: dict[str, str] = {
    "backups": "Backups: every backup kept on this unit (one pinned and verified)",
    "backups-delete": "Backups: deleting one asks first, No has the focus",
    "history": "History: who did what on this unit, newest first",
}
