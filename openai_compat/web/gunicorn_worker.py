"""gunicorn's gevent worker, with the time limits a gateway facing the open internet needs.

Stock gevent workers give a new connection the keep-alive timeout (95 s here, longer than the PaaS
routers' idle window) to send its first request, and no limit at all on reading a body or writing a
reply, so ~2,000 idle sockets (two workers' 1,000 connections each) stopped everyone else for a minute
and a half. Here:
- a new connection must send its request head within `HTTP_HEADER_TIMEOUT_SECONDS`;
- while a request is served, each read of its body and each write of its reply must make progress
  within `HTTP_IO_TIMEOUT_SECONDS` (a client that stops reading a stream frees its slot, and the
  upstream request is closed as for any client that leaves);
- connections waiting for a request (new, or idle between keep-alive requests) may hold at most half
  of a worker's `GUNICORN_WORKER_CONNECTIONS`: past that the longest-waiting one is closed, so idle
  or trickling sockets never crowd out clients that send requests;
- protocol errors gunicorn answers itself (an over-long header, a malformed request line) get
  OpenAI's error shape instead of an HTML page.
A request body's total time is bounded in the app (`web.slow_clients`).
"""

from __future__ import annotations

import contextlib
import json
import socket
import weakref
from collections import OrderedDict
from typing import Any

import gevent
from gunicorn import util
from gunicorn.workers.ggevent import GeventWorker

from openai_compat.settings import load_settings


def _json_error(sock: Any, status: int, reason: str, message: str) -> None:
    """gunicorn's own error replies, in OpenAI's shape."""
    body = json.dumps({"error": {"message": f"{reason}: {message}", "type": "invalid_request_error",
                                 "param": None, "code": reason.lower().replace(" ", "_")}}).encode()
    head = (f"HTTP/1.1 {status} {reason}\r\nConnection: close\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\n\r\n").encode("latin1")
    util.write_nonblock(sock, head + body)


def _shut(sock: Any) -> None:
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)


class GatewayWorker(GeventWorker):
    def init_process(self) -> None:
        settings = load_settings()
        self.header_timeout = settings.http_header_timeout_seconds
        self.io_timeout = settings.http_io_timeout_seconds
        self.max_waiting = max(1, self.worker_connections // 2)
        self._waiting: OrderedDict[Any, Any] = OrderedDict()  # greenlet -> socket, oldest first
        self._served: weakref.WeakKeyDictionary[Any, int] = weakref.WeakKeyDictionary()
        util.write_error = _json_error  # this worker process's gunicorn only
        super().init_process()

    def _waiting_for_request(self, greenlet: Any, sock: Any) -> None:
        self._waiting[greenlet] = sock
        while len(self._waiting) > self.max_waiting:
            _, oldest = self._waiting.popitem(last=False)
            _shut(oldest)

    def handle(self, listener: Any, client: Any, addr: Any) -> None:
        me = gevent.getcurrent()
        self._served[me] = 0
        self._waiting_for_request(me, client)
        try:
            super().handle(listener, client, addr)
        finally:
            self._waiting.pop(me, None)

    def timeout_ctx(self) -> gevent.Timeout:
        """How long to wait for the next request head: short for a new connection, the keep-alive
        window between requests on one that has been used."""
        first = not self._served.get(gevent.getcurrent(), 0)
        return gevent.Timeout(self.header_timeout if first else self.cfg.keepalive, False)

    def handle_request(self, listener_name: Any, req: Any, sock: Any, addr: Any) -> Any:
        me = gevent.getcurrent()
        self._waiting.pop(me, None)
        sock.settimeout(self.io_timeout)
        try:
            return super().handle_request(listener_name, req, sock, addr)
        finally:
            with contextlib.suppress(OSError):
                sock.settimeout(None)  # the keep-alive wait has its own timeout
            self._served[me] = self._served.get(me, 0) + 1
            self._waiting_for_request(me, sock)
