"""The terminal driver for low-bandwidth mode: Textual's Linux driver behind a ScreenDiff."""

from __future__ import annotations

from typing import Any

from textual.drivers.linux_driver import LinuxDriver

from .screen_diff import ScreenDiff


class DiffingDriver(LinuxDriver):
    """Writes only the cells that changed since the last frame."""

    def __init__(self, app: Any, **kwargs: Any) -> None:
        super().__init__(app, **kwargs)
        # The app owns the ScreenDiff so that Ctrl+L and resizes can make it forget.
        self.screen_diff: ScreenDiff = getattr(app, "screen_diff", None) or ScreenDiff()

    def write(self, data: str) -> None:
        out = self.screen_diff.filter(data)
        if out:
            super().write(out)
