"""The reply kinds a family can return: JSON (Flask's `jsonify`), an SSE stream, a binary stream.

Streams pass through as they are produced: each yielded chunk is written to the client at once, so
nothing of a stream or a binary body (an image, speech) sits whole in a worker's memory.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator

from flask import Response, g, stream_with_context

from openai_compat.core import logs, metrics
from openai_compat.core.sse import HEARTBEAT, Quiet, with_heartbeat
from openai_compat.web.services import METRICS_MODEL

SSE_HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}


def sse_response(
    events: Iterator[bytes | Quiet],
    *,
    heartbeat_seconds: float,
    on_close: Callable[[], None],
    headers: dict[str, str] | None = None,
    shutdown_event: Callable[[], bytes] | None = None,
    quiet_reported: bool = False,
) -> Response:
    """`shutdown_event` makes the end of the stream if the worker's shutdown grace runs out (default: an
    `{"error": ...}` data event; families with named events pass theirs, made when it is needed so it can
    carry the stream's state, such as its next sequence number). `quiet_reported`: `events` yields `QUIET`
    when its upstream is silent, so no second reader is needed to notice (`core.sse.with_heartbeat`)."""
    body = with_heartbeat(events, heartbeat_seconds, on_close, shutdown_event=shutdown_event,
                          quiet_reported=quiet_reported)
    started = getattr(g, "started", None) or time.perf_counter()
    model = g.get(METRICS_MODEL, "")
    response = Response(stream_with_context(_measured(body, started, model)), mimetype="text/event-stream")
    response.headers.update(SSE_HEADERS)
    if headers:
        response.headers.update(headers)
    return response


def _measured(body: Iterator[bytes], started: float, model: str) -> Iterator[bytes]:
    """Count the stream as open while it runs, and note its time to first token (the first event
    that is not a heartbeat) for the log line and the metrics."""
    metrics.OPEN_STREAMS.inc()
    try:
        for chunk in body:
            if chunk is not HEARTBEAT:
                seconds = time.perf_counter() - started
                logs.note(ttft_ms=round(seconds * 1000, 1))
                metrics.child(metrics.FIRST_TOKEN_SECONDS, model).observe(seconds)
                yield chunk
                break
            yield chunk
        yield from body
    finally:
        metrics.OPEN_STREAMS.dec()
        close = getattr(body, "close", None)
        if close is not None:
            close()


def binary_response(
    chunks: Iterable[bytes],
    *,
    content_type: str,
    content_length: int | None = None,
    on_close: Callable[[], None] | None = None,
    headers: dict[str, str] | None = None,
    status: int = 200,
) -> Response:
    """Pass a binary stream to the client chunk by chunk with its content type.

    `on_close` runs however the response ends (finished, or the client hung up before or during the
    body), so the source's connection or file is always released.
    """
    response = Response(stream_with_context(iter(chunks)), status=status, content_type=content_type)
    if on_close is not None:
        response.call_on_close(on_close)
    response.headers["X-Accel-Buffering"] = "no"
    if content_length is not None:
        response.headers["Content-Length"] = str(content_length)
    if headers:
        response.headers.update(headers)
    return response
