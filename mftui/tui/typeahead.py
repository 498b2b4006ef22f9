"""Keys typed ahead reach the right widget.

Textual forwards each key to the focused widget's queue and only acts on a
screen or app binding (Tab, a letter key) when that key has bubbled back up.
In a burst such as Tab + "abc", the letters are forwarded to the *old* focus
before the Tab has moved it, and are lost. Here a key that belongs to a
binding above the focused widget is acted on at once, in arrival order, so
the keys after it go where the technician meant them to.
"""

from __future__ import annotations

from textual import events
from textual.app import App


class TypeaheadApp(App[None]):
    """An App that resolves screen and app bindings in the order keys arrive."""

    async def on_event(self, event: events.Event) -> None:
        if isinstance(event, events.Key) and not event.is_forwarded and await self._run_binding_now(event):
            return
        await super().on_event(event)

    async def _run_binding_now(self, event: events.Key) -> bool:
        focused = self.focused
        if focused is not None and focused.check_consume_key(event.key, event.character):
            return False  # the focused widget takes it (an Input and a letter): queue it in order
        if self.screen.maximized is not None:
            return False  # keep Textual's own Esc handling of a maximized widget
        active = self.screen.active_bindings.get(event.key)
        if active is None or not active.enabled or active.binding.priority:
            return False  # priority bindings are already handled synchronously by Textual
        if active.node is focused:
            return False  # the widget's own binding: keep it behind keys already queued for it
        return bool(await self.run_action(active.binding.action, active.node))
