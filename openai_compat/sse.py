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
    return json.dumps(data, separators=(",", ":"), ensure_ascii=False)


def data_event(data: Any) -> bytes:
    return f"data: {_dumps(data)}\n\n".encode()


def named_event(event: str, data: Any) -> bytes:
    return f"event: {event}\ndata: {_dumps(data)}\n\n".encode()


def with_heartbeat(
    source: Iterator[bytes], interval: float, on_close: Callable[[], None]
) -> Iterator[bytes]:
    """Yield `source`'s items, with a heartbeat every `interval` while waiting for the first one.

    The wait for the first item is the upstream's time to first token, the silence PaaS routers
    cut. A blocking socket read cannot be interrupted to write a heartbeat, so that first item is
    fetched on a helper thread; the rest is read directly, with no per-chunk thread hand-off.
    When the client goes away, `on_close` closes the upstream response, which ends any read.
    """
    try:
        if interval > 0:
            first: queue.Queue[tuple[str, Any]] = queue.Queue(maxsize=1)

            def fetch_first() -> None:
                try:
                    first.put(("item", next(source)))
                except StopIteration:
                    first.put(("end", None))
                except BaseException as exc:
                    first.put(("error", exc))

            threading.Thread(target=fetch_first, name="sse-first-item", daemon=True).start()
            while True:
                try:
                    kind, value = first.get(timeout=interval)
                    break
                except queue.Empty:
                    yield HEARTBEAT
            if kind == "end":
                return
            if kind == "error":
                raise value
            yield value
        yield from source
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
