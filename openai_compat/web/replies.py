"""The reply kinds a family can return: JSON (Flask's `jsonify`), an SSE stream, a binary stream.

Streams pass through as they are produced: each yielded chunk is written to the client at once, so
nothing of a stream or a binary body (an image, speech) sits whole in a worker's memory.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator

from flask import Response, stream_with_context

from openai_compat.core.sse import with_heartbeat

SSE_HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}


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
