"""The one SSE writer: event framing and the heartbeat, as bytes (the web layer wraps them in a Response).

Chat and Completions streams are data-only events ending in `data: [DONE]` (older SDKs wrap
named events, so none are sent there); the Responses API, streamed transcriptions and speech use
named events, whose `event:` line equals the JSON `type`. Heartbeats are SSE comments, which every
SDK generation ignores, sent while the upstream is silent so PaaS routers (Heroku's 30 s first byte
and 55 s idle window, Fly's and ALB's 60 s) keep the connection.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from openai_compat.core import jsonio
from openai_compat.core.concurrency import interleave

DONE = b"data: [DONE]\n\n"
HEARTBEAT = b": ping\n\n"


def data_event(data: Any) -> bytes:
    return b"data: " + jsonio.dumps(data) + b"\n\n"


def named_event(name: str, data: Any) -> bytes:
    """`event: <name>` then the JSON data. A name is one line of text: it cannot break the framing."""
    if "\n" in name or "\r" in name:
        raise ValueError("an SSE event name is one line")
    return b"event: " + name.encode() + b"\n" + data_event(data)


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
