"""Idle keep-alive connections are closed as soon as a worker starts shutting down.

On SIGTERM gunicorn stops accepting and waits until every connection it holds is done. A connection
kept alive between requests (every PaaS router and SDK keeps some) would hold the worker until
gunicorn's grace runs out and it is killed: a slow deploy and an unclean exit. So the worker knows
which of its connections sit idle between requests, and shuts those down when the drain begins;
connections with a request in flight (a stream, say) finish it and are then shut down too.
"""

from __future__ import annotations

import _socket
import contextlib
import socket
import threading
import weakref

from flask import Flask, Response, request

from openai_compat.core.shutdown import DRAIN

SOCKET_KEY = "gunicorn.socket"
"""Where gunicorn puts the connection's socket in the WSGI environ (other servers: nothing to do)."""


class IdleConnections:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._idle: weakref.WeakSet[socket.socket] = weakref.WeakSet()

    def busy(self, sock: socket.socket) -> None:
        with self._lock:
            self._idle.discard(sock)

    def idle(self, sock: socket.socket) -> None:
        if DRAIN.draining:
            # gunicorn keeps alive a connection whose request began before the drain: end it now.
            _shut(sock)
            return
        with self._lock:
            self._idle.add(sock)

    def close_all(self) -> None:
        with self._lock:
            idle = list(self._idle)
            self._idle.clear()
        for sock in idle:
            _shut(sock)


def _shut(sock: socket.socket) -> None:
    """Shut the connection down at the OS level: the worker's read waiting for the next request then
    sees the connection end and lets it go. Not through gevent's socket, whose `shutdown` fails that
    waiting read with an error gunicorn logs as a traceback; bytes already written still go out."""
    with contextlib.suppress(OSError, ValueError):
        raw = _socket.socket(fileno=sock.fileno())
        try:
            raw.shutdown(socket.SHUT_RDWR)
        finally:
            raw.detach()  # the fd stays the worker's to close


def init_connections(app: Flask) -> None:
    connections = IdleConnections()
    DRAIN.on_begin(connections.close_all)

    @app.before_request
    def _busy() -> None:
        sock = request.environ.get(SOCKET_KEY)
        if sock is not None:
            connections.busy(sock)

    @app.after_request
    def _idle_after(response: Response) -> Response:
        sock = request.environ.get(SOCKET_KEY)
        if sock is not None:
            response.call_on_close(lambda: connections.idle(sock))
        return response
