"""The footer: every key that works here, on one cheap line.

Textual's Footer rebuilds a widget per key whenever focus moves; over a
9600-baud line that costs more than the move itself. This is one Static
that is repainted only when the text it shows changes.
"""

from __future__ import annotations

from rich.text import Text
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Static

_NAMES = {"escape": "Esc", "enter": "Enter", "tab": "Tab", "space": "Space", "delete": "Del"}


def key_label(binding: Binding) -> str:
    """``escape`` -> ``Esc``, ``ctrl+q`` -> ``^Q``, ``b`` -> ``b``."""
    if binding.key_display:
        return binding.key_display
    key = binding.key
    if key.startswith("ctrl+"):
        return "^" + key[5:].upper()
    return _NAMES.get(key, key)


class KeyBar(Static):
    """One line listing the keys that work now: ``b Backup  q Quit``.

    The focused widget's and the screen's ``key_hints`` (pairs of key and
    what it does) come first, then the screen's active, shown bindings.
    Every dialog has one too: the key bar behind a dialog would list keys
    that do nothing while it is open.
    """

    COMPONENT_CLASSES = {"key-bar--key", "key-bar--disabled"}

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__("", id=id, markup=False)
        self._shown: str | None = None

    def on_mount(self) -> None:
        self.screen.bindings_updated_signal.subscribe(self, self._bindings_changed)
        self.refresh_keys()

    def on_unmount(self) -> None:
        self.screen.bindings_updated_signal.unsubscribe(self)

    def _bindings_changed(self, screen: Screen[object]) -> None:
        if self.is_attached and screen is self.screen:
            self.refresh_keys()

    def refresh_keys(self) -> None:
        """Show the current keys; repaint only if they differ from what is shown."""
        groups: dict[tuple[str, str], tuple[list[str], bool]] = {}
        # What the focused widget and the screen (a dialog) say their keys do, then the bindings;
        # keys doing the same thing share one entry ("Enter/Esc No"). While a backup or restore
        # runs, the screen says what still works instead of the focused widget.
        busy = getattr(self.screen, "busy_hints", lambda: None)()
        focused = () if busy is not None else getattr(self.screen.focused, "key_hints", ())
        # A key a widget's own binding takes (Esc closing a drop-down) is not what the screen says it does.
        taken = {
            key_label(active.binding)
            for active in self.screen.active_bindings.values()
            if active.node not in (self.screen, self.app) and active.binding.description and active.binding.show
        }
        screen_hints = [hint for hint in getattr(self.screen, "key_hints", ()) if hint[0] not in taken]
        hints = (*(busy or ()), *focused, *screen_hints)
        for key, description in hints:
            keys, _ = groups.setdefault(("", description), ([], True))
            if key not in keys:
                keys.append(key)
        for active in self.screen.active_bindings.values():
            binding = active.binding
            if not binding.show or not binding.description or not active.enabled:  # only keys that work now
                continue
            keys, enabled = groups.setdefault((binding.action, binding.description), ([], active.enabled))
            label = key_label(binding)
            if label not in keys:
                keys.append(label)
        plain = "  ".join(f"{'/'.join(k)} {d}{'' if on else ' (off)'}" for (_, d), (k, on) in groups.items())
        if plain == self._shown:
            return
        self._shown = plain
        key_style = self.get_component_rich_style("key-bar--key", partial=True)
        off_style = self.get_component_rich_style("key-bar--disabled", partial=True)
        text = Text(no_wrap=True, overflow="ellipsis")
        for index, ((_, description), (keys, enabled)) in enumerate(groups.items()):
            if index:
                text.append("  ")
            text.append("/".join(keys), key_style if enabled else off_style)
            text.append(" " + description, None if enabled else off_style)
        self.update(text, layout=False)  # one line, always: no layout pass (and no full repaint)
