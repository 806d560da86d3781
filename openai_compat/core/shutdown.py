"""A worker's graceful shutdown: open streams may finish within a grace period, then are ended.

On SIGTERM gunicorn stops accepting connections and waits for the requests in flight. Streams can
last minutes, longer than any PaaS waits between SIGTERM and SIGKILL, so when `begin` is called
(from the worker's SIGTERM handler, see `gunicorn.conf.py`) a timer starts; streams still open when
it fires are cancelled: their upstream call is closed and the client gets an error event telling it
to retry, instead of a connection cut mid-token. The worker then exits on its own, cleanly.
"""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Callable


class Drain:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._streams: dict[int, Callable[[], None]] = {}
        self._ids = itertools.count()
        self._on_begin: list[Callable[[], None]] = []
        self.deadline: float | None = None
        """`time.monotonic()` when open streams are cancelled; None while not shutting down."""
        self.expired = False

    @property
    def draining(self) -> bool:
        return self.deadline is not None

    def begin(self, grace_seconds: float) -> None:
        """Start the grace period (once; later calls change nothing)."""
        with self._lock:
            if self.deadline is not None:
                return
            self.deadline = time.monotonic() + grace_seconds
        timer = threading.Timer(grace_seconds, self._expire)
        timer.daemon = True
        timer.start()
        for hook in self._on_begin:
            hook()

    def on_begin(self, hook: Callable[[], None]) -> None:
        """Run `hook` when the grace period starts (to close idle connections, say)."""
        self._on_begin.append(hook)

    def _expire(self) -> None:
        with self._lock:
            self.expired = True
            cancels = list(self._streams.values())
        for cancel in cancels:
            cancel()

    def track(self, cancel: Callable[[], None]) -> int:
        """Register an open stream's cancel callback; returns the id to `untrack` it with."""
        with self._lock:
            token = next(self._ids)
            self._streams[token] = cancel
        return token

    def untrack(self, token: int) -> None:
        with self._lock:
            self._streams.pop(token, None)

    @property
    def open_streams(self) -> int:
        return len(self._streams)


DRAIN = Drain()
"""This process's drain: one per worker process, as the signal that starts it is."""
