"""Waiting for a streamed reply's next bytes without reading them.

An SSE stream must send a heartbeat when its upstream is silent, and a blocking read cannot be
interrupted to write one. Reading on a second greenlet and handing each event over works, but the
handoff (a queue, a wake-up through gevent's hub) cost more per event than all the rest of the
gateway's work on it. Waiting here first, then reading on the request's own greenlet, costs nothing
extra: a read of a socket with nothing on it waits for it to become readable anyway.

Bytes to read are bytes already in the response's buffered reader (or decrypted by TLS and not yet
taken), or bytes arriving on the socket. The first are found by a read that may not wait (the socket's
timeout is 0 for a moment); the second by a wait on the socket's descriptor: gevent's own watcher
under gevent, `poll` in a real thread.
"""

from __future__ import annotations

import contextlib
import select
import ssl
from collections.abc import Callable
from typing import Any

import requests
from gevent.monkey import is_module_patched

from openai_compat.net.transport import socket_of

Wait = Callable[[float], bool]


class Readiness:
    """For one streamed response: `wait(seconds)` says whether it has bytes to read within that time."""

    def __init__(self, buffer: Any, sock: Any) -> None:
        self._buffer = buffer
        self._sock = sock
        self._wait, self._close = _descriptor_wait(sock.fileno())

    @classmethod
    def of(cls, response: requests.Response) -> Readiness | None:
        """None when the response is not read from a socket (a test double), or when urllib3 keeps its
        parts elsewhere than urllib3 2.x does: then the stream is read without waits (and without
        heartbeats between its events, the read timeout still ending a silent one)."""
        buffer = getattr(getattr(response.raw, "_fp", None), "fp", None)  # http.client.HTTPResponse's reader
        sock = socket_of(response)
        if buffer is None or not hasattr(buffer, "peek") or sock is None:
            return None
        try:
            return cls(buffer, sock)
        except (OSError, ValueError):
            return None

    def wait(self, seconds: float) -> bool:
        return self._buffered() or self._wait(seconds)

    def close(self) -> None:
        self._close()

    def _buffered(self) -> bool:
        previous = self._sock.gettimeout()
        try:
            self._sock.settimeout(0)
            return bool(self._buffer.peek(1))
        except (BlockingIOError, ssl.SSLWantReadError, ssl.SSLWantWriteError):
            return False
        except (OSError, ValueError):
            return True  # a closed or broken connection: the read says how
        finally:
            with contextlib.suppress(OSError):
                self._sock.settimeout(previous)


def _descriptor_wait(fd: int) -> tuple[Wait, Callable[[], None]]:
    if is_module_patched("socket"):
        return _gevent_wait(fd)
    poller = select.poll()
    poller.register(fd, select.POLLIN)
    return (lambda seconds: bool(poller.poll(seconds * 1000))), (lambda: poller.unregister(fd))


def _gevent_wait(fd: int) -> tuple[Wait, Callable[[], None]]:
    """One watcher and one timer for the whole stream, started and stopped around each wait, the way
    gevent's own waits use them but without their per-wait objects: a new watcher per wait
    (`gevent.socket.wait_read`) or a `gevent.Timeout` per wait cost two to three times as much per
    event (counted in instructions; README: Performance). Both are stopped before the greenlet does
    anything else, so neither can wake it later by mistake.

    The timer is a repeating one restarted with `again()`, which sets it to the full interval every
    time. A one-shot libev timer restarted with `start()` keeps what was left of its interval when it
    was stopped, and fires at once forever after it has fired once: a silent upstream then turned
    into a flood of heartbeats."""
    import gevent

    hub = gevent.get_hub()
    watcher = hub.loop.io(fd, 1)
    timers: dict[float, Any] = {}  # one per interval; a stream always waits the same

    def wait(seconds: float) -> bool:
        timer = timers.get(seconds)
        if timer is None:
            timer = timers[seconds] = hub.loop.timer(seconds, seconds)
        switch = gevent.getcurrent().switch
        watcher.start(switch, True)
        timer.again(switch, False)
        try:
            return bool(hub.switch())
        finally:
            watcher.stop()
            timer.stop()

    def close() -> None:
        watcher.close()
        for timer in timers.values():
            timer.close()

    return wait, close
