"""Scenes of transfers without a network (issue 14), for the snapshot tests and the README screenshots.

Pilot has no terminal to hand over, so the transfer itself is not in a
picture: the offers are (Download Zip, the Upload picker), and a backup that
arrived as pasted text (received by the core, exactly as ``mftui receive
--text`` does) chosen from ``incoming/`` and shown in the metadata pane.
"""

from __future__ import annotations

import os
from typing import Any

from textual.pilot import Pilot

from mftui.settings import Settings
from mftui.transfer.armour import encode
from mftui.transfer.paste import receive_text

from .helpers import FROZEN, settle
from .scenes import SNAP_ROOT, Scene, _freeze_times, _upload, backup, backup_result, change_live

RECEIVED = SNAP_ROOT / "backups" / "incoming" / "before_2026-11-05T101500Z.zip"


def received(settings: Settings) -> None:
    """A backup made, turned into text lines, pasted back: it lands checked in incoming/; the live tree changed."""
    made = backup(settings)
    lines = list(encode(made))
    made.unlink()  # only the received copy is left
    receive_text(settings, lines)
    os.utime(RECEIVED, (FROZEN.timestamp(), FROZEN.timestamp()))
    change_live(settings)
    _freeze_times(settings)


async def download_console(pilot: Pilot[Any]) -> None:
    await backup_result(pilot)
    await pilot.press("d")
    await settle(pilot)


async def received_pane(pilot: Pilot[Any]) -> None:
    await _upload(pilot, RECEIVED)


SCENES: dict[str, Scene] = {
    "download-zip-console": Scene(download_console),
    "received-pane": Scene(received_pane, prepare=received),
}

TITLES: dict[str, str] = {
    "download-zip-console": "Download Zip on a serial console: F2 ZMODEM, F3 text lines, F4 a USB stick",
    "received-pane": "A backup received over the console line: checked in incoming/, shown like a chosen file",
}
