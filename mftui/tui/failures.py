"""Worker failures go to one place: the app's error dialog.

Textual's ``Worker.StateChanged`` does not bubble, so every node that runs
workers mixes in ``ReportsFailures``: a failed worker becomes a
``WorkerFailed`` message posted to the app. A node that shows a failure
itself (the copy status line in Download Zip) calls ``event.prevent_default()``
in its own ``on_worker_state_changed``.
"""

from __future__ import annotations

from textual.message import Message
from textual.worker import Worker, WorkerState


class WorkerFailed(Message):
    """A worker ended with an exception; ``name`` says which (backup, restore...)."""

    def __init__(self, name: str, error: BaseException) -> None:
        super().__init__()
        self.name = name
        self.error = error


class ReportsFailures:
    """Mix into a Widget or Screen that runs workers."""

    def _on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.state is WorkerState.ERROR and event.worker.error is not None:
            self.app.post_message(WorkerFailed(event.worker.name, event.worker.error))  # type: ignore[attr-defined]
