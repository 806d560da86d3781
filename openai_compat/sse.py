"""The one SSE writer: event framing, the heartbeat and the streaming Response.

Chat and Completions streams are data-only events ending in `data: [DONE]` (older SDKs wrap
named events, so none are sent there); the Responses API uses named events. Heartbeats are SSE
comments, which every SDK generation ignores, sent while the upstream is silent so PaaS routers
(Heroku's 30 s first byte and 55 s idle window, Fly's and ALB's 60 s) keep the connection.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from flask import Response, stream_with_context

from openai_compat import jsonio
from openai_compat.background import interleave

DONE = b"data: [DONE]\n\n"
HEARTBEAT = b": ping\n\n"
SSE_HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}


def data_event(data: Any) -> bytes:
    return b"data: " + jsonio.dumps(data) + b"\n\n"


def with_heartbeat(
    source: Iterator[bytes], interval: float, on_close: Callable[[], None]
) -> Iterator[bytes]:
    """Yield `source`'s items as they come, and a heartbeat whenever it is silent for `interval`.

    A blocking socket read cannot be interrupted to write a heartbeat, so the source is read in the
    background. When the client goes away, `on_close` shuts the upstream connection, which ends
    that read at once.
    """
    try:
        if interval <= 0:
            yield from source
            return
        for entry in interleave([source], idle_after=interval):
            yield HEARTBEAT if entry is None else entry[1]
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
