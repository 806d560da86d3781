"""The one SSE writer: event framing and the heartbeat, as bytes (the web layer wraps them in a Response).

Chat and Completions streams are data-only events ending in `data: [DONE]` (older SDKs wrap
named events, so none are sent there); the Responses API, streamed transcriptions and speech use
named events, whose `event:` line equals the JSON `type`. Heartbeats are SSE comments, which every
SDK generation ignores, sent while the upstream is silent so PaaS routers (Heroku's 30 s first byte
and 55 s idle window, Fly's and ALB's 60 s) keep the connection.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from typing import Any

from openai_compat.core import jsonio
from openai_compat.core.concurrency import interleave
from openai_compat.core.logs import note
from openai_compat.core.shutdown import DRAIN
from openai_compat.errors import ServiceUnavailableError

DONE = b"data: [DONE]\n\n"


class Quiet:
    """The type of `QUIET`."""

    def __repr__(self) -> str:
        return "QUIET"


QUIET = Quiet()
"""What a stream yields when its source has been silent for the heartbeat interval (the upstream
reader notices, `upstream.reply.stream_events`); every layer passes it on and the writer sends a
heartbeat for it. A source that says so itself needs no second reader to notice for it."""
SHUTDOWN_CODE = "server_shutting_down"
HEARTBEAT = b": ping\n\n"


def data_event(data: Any) -> bytes:
    return b"data: " + jsonio.dumps(data) + b"\n\n"


def named_event(name: str, data: Any) -> bytes:
    """`event: <name>` then the JSON data. A name is one line of text: it cannot break the framing."""
    if "\n" in name or "\r" in name:
        raise ValueError("an SSE event name is one line")
    return b"event: " + name.encode() + b"\n" + data_event(data)


def with_heartbeat(
    source: Iterator[bytes | Quiet],
    interval: float,
    on_close: Callable[[], None],
    *,
    shutdown_event: Callable[[], bytes] | None = None,
    quiet_reported: bool = False,
) -> Iterator[bytes]:
    """Yield `source`'s items as they come, and a heartbeat whenever it is silent for `interval`.

    A source that yields `QUIET` when it has been silent (`quiet_reported`) is read right here. Any
    other is read in the background, since a blocking socket read cannot be interrupted to write a
    heartbeat. When the client goes away, `on_close` shuts the upstream connection, which ends
    that read at once. When the worker's shutdown grace runs out (`core.shutdown`), the upstream is
    closed the same way and the stream ends with what `shutdown_event` makes then (an error event by default)
    instead of whatever the source makes of its closed upstream.
    """
    cancelled = threading.Event()

    def cancel() -> None:
        cancelled.set()
        on_close()

    token = DRAIN.track(cancel)
    # A source that reports its silences is read right here: no layer per event between it and the client.
    beats = source if quiet_reported or interval <= 0 else _heartbeats(source, interval)
    try:
        if DRAIN.expired:
            cancel()
        try:
            for item in beats:
                if cancelled.is_set():
                    break
                yield HEARTBEAT if item is QUIET else item  # type: ignore[misc]
        except Exception:
            if not cancelled.is_set():
                raise
        if cancelled.is_set():
            note(stream_error=SHUTDOWN_CODE)  # not the upstream's fault, whatever the source noted
            yield shutdown_event() if shutdown_event is not None else data_event(shutdown_error().body())
    finally:
        DRAIN.untrack(token)
        on_close()
        close = getattr(beats, "close", None)
        if close is not None:
            close()


def _heartbeats(source: Iterator[bytes | Quiet], interval: float) -> Iterator[bytes | Quiet]:
    for entry in interleave([source], idle_after=interval):
        yield QUIET if entry is None else entry[1]


def shutdown_error() -> ServiceUnavailableError:
    return ServiceUnavailableError(
        "The server is restarting and ended this stream before it finished. Please retry the request.",
        code=SHUTDOWN_CODE,
    )
