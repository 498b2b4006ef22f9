"""Pilot helpers shared by the TUI tests."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from rich.console import Console
from textual.pilot import Pilot
from textual.widgets import Static
from textual.worker import WorkerFailed

FROZEN = datetime(2026, 11, 5, 10, 15, tzinfo=UTC)
SIZE = (80, 24)


def frozen_now() -> datetime:
    return FROZEN


async def settle(pilot: Pilot[Any], rounds: int = 3) -> None:
    """Let workers finish and the screen catch up (screen switches take a moment in Textual 8)."""
    for _ in range(rounds):
        # A worker awaiting a dialog (Upload Zip's picker) ends only when the dialog does.
        busy = [w for w in pilot.app.workers if w.group != "pick"]
        try:
            if busy:  # (an empty list would mean "all of them")
                await pilot.app.workers.wait_for_complete(busy)
        except WorkerFailed:
            pass  # the app shows it; the test looks at the screen
        await pilot.pause()
    await pilot.pause(0.05)


def plain(renderable: Any, width: int = 80) -> str:
    """A str, Text, Wrapped or Table as the plain text it shows (a Text or Wrapped unbroken)."""
    if isinstance(renderable, str):
        return renderable
    if isinstance(getattr(renderable, "plain", None), str):
        return renderable.plain  # type: ignore[no-any-return]
    console = Console(width=width, record=True, color_system=None, file=open("/dev/null", "w"))  # noqa: SIM115
    console.print(renderable)
    return console.export_text()


def static_text(pilot: Pilot[Any], selector: str) -> str:
    """The text a Static on the current screen shows."""
    return plain(pilot.app.screen.query_one(selector, Static).content)


async def type_text(pilot: Pilot[Any], text: str) -> None:
    await pilot.press(*[{" ": "space"}.get(ch, ch) for ch in text])


async def paste_text(pilot: Pilot[Any], text: str) -> None:
    """A path pasted into the focused field (bracketed paste, as a terminal sends it): one event, not 70 keys."""
    from textual import events

    event = events.Paste(text)
    event.set_sender(pilot.app)
    pilot.app.post_message(event)
    await settle(pilot)


async def burst(pilot: Pilot[Any], *keys: str, wait: bool = True) -> None:
    """Keys in one read, as a paste or a laggy link delivers them: all queued before the first is handled."""
    from textual import events

    app = pilot.app
    for key in keys:
        character = key if len(key) == 1 else {"space": " ", "enter": "\r", "tab": "\t"}.get(key)
        event = events.Key(key, character)
        event.set_sender(app)
        app.post_message(event)
    await settle(pilot) if wait else await pilot.pause(0.2)


def screen_lines(pilot: Pilot[Any]) -> list[str]:
    """What the current screen shows, line by line, as plain text."""
    return [strip.text for strip in pilot.app.screen._compositor.render_strips()]
