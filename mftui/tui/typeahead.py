"""Keys are handled strictly in the order they arrive, one at a time.

Textual hands a key to the focused widget's queue, and acts on a binding
only when the key has bubbled back up through every ancestor's queue to the
App. A printable key is consumed at the first hop (an Input), an editing key
(Backspace, Ctrl+U) or a binding (Tab, Enter, a screen letter) only after
the last: so in one burst a later key overtakes an earlier one. ``ab``
Backspace ``c`` gives ``ab``; Tab + ``abc`` types into the old focus; ``r``
Enter ``y`` answers a dialog whose Enter is still on its way. (A plain
Textual 8.2.8 Input app does the same: it is Textual's routing, not mftui.)

Here every key (and paste) from the terminal waits in one line. The next one
is let through only when the app and every widget of the current screen
have handled everything the previous one caused: the bubbling, the binding's
action, a dialog pushed and focused, a dialog dismissed and its answer
delivered. Workers (a backup, a restore) are not waited for. Each key then
takes Textual's own path, so widgets behave exactly as Textual made them.

A screen may also name the text field that letters belong to while the focus
is elsewhere (``text_target``): typed there, a word never fires the screen's
letter keys.
"""

from __future__ import annotations

import asyncio
from collections import deque

from textual import events
from textual.app import App
from textual.dom import DOMNode
from textual.widgets import Input

MAX_ROUNDS = 40  # a key's consequences settle in a handful; a timer that never stops must not hold keys back
ROUND_TIMEOUT = 1.0  # seconds: a node that closes mid-round never runs its callback

TypedEvent = events.Key | events.Paste


def _has_pending(node: DOMNode) -> bool:
    # Textual has no public "queue is empty"; Pilot reads the same private fields.
    return not node._message_queue.empty() or bool(node._next_callbacks)


class TypeaheadApp(App[None]):
    """An App that takes keys one at a time, in arrival order."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self._typed: deque[TypedEvent] = deque()
        self._releasing: TypedEvent | None = None
        self._gate: asyncio.Task[None] | None = None

    async def on_event(self, event: events.Event) -> None:
        if isinstance(event, (events.Key, events.Paste)) and not event.is_forwarded:
            if event is self._releasing:
                self._releasing = None
                await self._deliver(event)
                return
            self._typed.append(event)
            if self._gate is None or self._gate.done():
                self._gate = asyncio.create_task(self._release_typed())
            return
        await super().on_event(event)

    async def _deliver(self, event: TypedEvent) -> None:
        """Textual's own handling, after a letter meant for a text field has been sent there."""
        if isinstance(event, events.Key):
            target = self._text_target(event)
            if target is not None:
                target.focus()  # scheduled: the key follows it through the same queue
                self.call_later(target._forward_event, event)
                return
        await super().on_event(event)

    def _text_target(self, event: events.Key) -> Input | None:
        if not (event.character and event.character.isprintable()):
            return None
        focused = self.focused
        if focused is not None and focused.check_consume_key(event.key, event.character):
            return None
        chooser = getattr(self.screen, "text_target", None)
        target = chooser(focused) if chooser is not None else None
        return target if isinstance(target, Input) and target.focusable else None

    async def _release_typed(self) -> None:
        while self._typed and self.is_running:
            event = self._typed.popleft()
            self._releasing = event
            if not self.post_message(event):
                return
            await self._settle()

    async def _settle(self) -> None:
        """Wait until the app and the current screen have handled everything queued."""
        for _ in range(MAX_ROUNDS):
            nodes: list[DOMNode] = [self, *self.screen.walk_children(with_self=True)]
            if self._releasing is None and not any(_has_pending(node) for node in nodes):
                return
            await _one_round(nodes)


async def _one_round(nodes: list[DOMNode]) -> None:
    """Wait until each node has handled what was queued for it before now."""
    done = asyncio.Event()
    waiting = 0

    def one_done() -> None:
        nonlocal waiting
        waiting -= 1
        if waiting == 0:
            done.set()

    for node in nodes:
        if node.call_later(one_done):
            waiting += 1
    if waiting:
        try:
            await asyncio.wait_for(done.wait(), ROUND_TIMEOUT)
        except TimeoutError:
            pass
