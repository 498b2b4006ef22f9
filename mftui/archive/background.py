"""Work handed to a thread of its own (hashing, writing), with a bounded queue.

hashlib, zlib.crc32 and os.write let other threads run while they work, so
the thread that encrypts or decrypts overlaps them on a second core.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future
from typing import TypeVar

T = TypeVar("T")

WRITE_AHEAD = 8 * 1024 * 1024  # bytes waiting for the thread, at most


class Background:
    """Hands bytes to a thread of its own (hashing, writing), at most WRITE_AHEAD of them waiting.

    hashlib and os.write let other threads run, so decrypting overlaps the
    hashing and the writing on a second core; memory stays bounded.
    """

    def __init__(self, consume: Callable[[bytes], object], *, size: int) -> None:
        self.consume = consume
        self.queue: queue.Queue[bytes | None] = queue.Queue(maxsize=max(2, WRITE_AHEAD // size))
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, name="mftui-payload", daemon=True)
        self.thread.start()

    def _run(self) -> None:
        while (data := self.queue.get()) is not None:
            if self.error is None:
                try:
                    self.consume(data)
                except BaseException as exc:  # reported to the caller at its next put or at close
                    self.error = exc

    def put(self, data: bytes) -> None:
        if self.error is not None:
            raise self.error
        self.queue.put(data)

    def close(self) -> None:
        if self.thread.is_alive():
            self.queue.put(None)
            self.thread.join()
        if self.error is not None:
            raise self.error


def in_thread(work: Callable[[], T], future: Future[T] | None = None, *, name: str) -> Future[T]:
    """``work()`` on a daemon thread of its own; its result, or what it raised, in the returned Future
    (``future`` when given). For work that lets other threads run meanwhile (scrypt)."""
    done: Future[T] = future if future is not None else Future()

    def run() -> None:
        try:
            done.set_result(work())
        except BaseException as exc:  # given to whoever waits for it
            done.set_exception(exc)

    threading.Thread(target=run, name=name, daemon=True).start()
    return done
