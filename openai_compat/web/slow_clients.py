"""A request body must arrive within `HTTP_BODY_TIMEOUT_SECONDS` in all.

Each read already has the worker's per-read limit (`HTTP_IO_TIMEOUT_SECONDS`); this bounds the sum,
so a client trickling a body a byte at a time cannot hold a connection for ever. Both end as an
OpenAI-shaped 408, never as a 500.
"""

from __future__ import annotations

import time
from typing import Any

from flask import Flask
from werkzeug.exceptions import RequestTimeout


class _Deadline:
    def __init__(self, stream: Any, seconds: float) -> None:
        self._stream = stream
        self._deadline = time.monotonic() + seconds

    def _check(self) -> None:
        if time.monotonic() > self._deadline:
            raise RequestTimeout("The request body took too long to arrive.")

    def read(self, *args: Any) -> bytes:
        self._check()
        try:
            return self._stream.read(*args)
        except OSError:  # the worker's per-read timeout, or the client went away mid-body
            raise RequestTimeout("The request body stopped arriving.") from None

    def readline(self, *args: Any) -> bytes:
        self._check()
        try:
            return self._stream.readline(*args)
        except OSError:
            raise RequestTimeout("The request body stopped arriving.") from None

    def __iter__(self) -> Any:
        return iter(self.readline, b"")


def init_body_deadline(app: Flask, seconds: float) -> None:
    wsgi = app.wsgi_app

    def with_deadline(environ: dict[str, Any], start_response: Any) -> Any:
        stream = environ.get("wsgi.input")
        if stream is not None:
            environ["wsgi.input"] = _Deadline(stream, seconds)
        return wsgi(environ, start_response)

    app.wsgi_app = with_deadline  # type: ignore[method-assign]
