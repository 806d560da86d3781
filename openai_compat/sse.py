"""The one SSE writer: event framing, the heartbeat and the streaming Response.

Chat and Completions streams are data-only events ending in `data: [DONE]` (older SDKs wrap
named events, so none are sent there); the Responses API uses named events. Heartbeats are SSE
comments, which every SDK generation ignores, sent while the upstream is silent so PaaS routers
(Heroku's 30 s first byte and 55 s idle window, Fly's and ALB's 60 s) keep the connection.
"""

from __future__ import annotations

import json
import queue
import threading
from collections.abc import Callable, Iterator
from typing import Any

from flask import Response, stream_with_context

DONE = b"data: [DONE]\n\n"
HEARTBEAT = b": ping\n\n"
SSE_HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}


def _dumps(data: Any) -> str:
    # ASCII escapes: a lone surrogate in upstream text must not break the stream when encoded.
    return json.dumps(data, separators=(",", ":"))


def data_event(data: Any) -> bytes:
    return f"data: {_dumps(data)}\n\n".encode()


def named_event(event: str, data: Any) -> bytes:
    return f"event: {event}\ndata: {_dumps(data)}\n\n".encode()


_END = object()


class _Failure:
    def __init__(self, exc: BaseException) -> None:
        self.exc = exc


def with_heartbeat(
    source: Iterator[bytes], interval: float, on_close: Callable[[], None]
) -> Iterator[bytes]:
    """Yield `source`'s items as they come, and a heartbeat whenever it is silent for `interval`.

    A blocking socket read cannot be interrupted to write a heartbeat, so the source is read on
    its own thread (a greenlet under gevent). When the client goes away, `on_close` shuts the
    upstream connection, which ends that thread's read at once.
    """
    if interval <= 0:
        try:
            yield from source
        finally:
            on_close()
        return
    items: queue.Queue[object] = queue.Queue()

    def pump() -> None:
        try:
            for item in source:
                items.put(item)
        except BaseException as exc:
            items.put(_Failure(exc))
        finally:
            items.put(_END)

    threading.Thread(target=pump, name="sse-pump", daemon=True).start()
    try:
        while True:
            try:
                item = items.get(timeout=interval)
            except queue.Empty:
                yield HEARTBEAT
                continue
            if item is _END:
                return
            if isinstance(item, _Failure):
                raise item.exc
            yield item  # type: ignore[misc]
    finally:
        on_close()


def sse_response(
    events: Iterator[bytes],
    *,
    heartbeat_seconds: float,
    on_close: Callable[[], None],
    headers: dict[str, str] | None = None,
) -> Response:
    body = with_heartbeat(events, heartbeat_seconds, on_close)
    response = Response(stream_with_context(body), mimetype="text/event-stream")
    response.headers.update(SSE_HEADERS)
    if headers:
        response.headers.update(headers)
    return response
