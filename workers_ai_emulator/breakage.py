"""Carrying out the faults that break the reply itself rather than answer an error envelope, and
counting the streams that are open.

Open streams are counted (``GET /__emulator/streams``) so a test can see the moment a gateway
closes its upstream request after its own client left: a stream stops counting as soon as its
writer notices the connection is gone, which the paced waits below check every 20 ms.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import struct
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass

from aiohttp import web

from .faults import Faults, ResetConnection

_SLICE_SECONDS = 0.02


@dataclass
class StreamCounter:
    open: int = 0
    opened: int = 0
    ended_by_client: int = 0
    """Streams whose reader went away before the stream was complete."""

    def describe(self) -> dict[str, int]:
        return {"open": self.open, "opened": self.opened, "ended_by_client": self.ended_by_client}


STREAMS = web.AppKey("streams", StreamCounter)
FAULTS = "emulator_faults"
"""Where a model route leaves the request's effective faults for the middleware and the hooks."""


def gone(request: web.Request) -> bool:
    transport = request.transport
    return transport is None or transport.is_closing()


async def pause(request: web.Request, seconds: float) -> None:
    """Sleep, but notice a client that left meanwhile (ConnectionResetError), as a real server whose
    next write would fail does."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    while True:
        if gone(request):
            raise ConnectionResetError("the client went away")
        left = deadline - loop.time()
        if left <= 0:
            return
        await asyncio.sleep(min(_SLICE_SECONDS, left))


@contextlib.asynccontextmanager
async def counted(request: web.Request) -> AsyncIterator[None]:
    counter = request.app[STREAMS]
    counter.open += 1
    counter.opened += 1
    try:
        yield
    except ConnectionError:
        counter.ended_by_client += 1
        raise
    finally:
        counter.open -= 1


def reset(request: web.Request) -> None:
    """Drop the connection with a TCP reset (SO_LINGER 0), as a crashed or overloaded peer does."""
    transport = request.transport
    if transport is None:
        return
    sock = transport.get_extra_info("socket")
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    transport.abort()


def _binary(response: web.Response) -> bool:
    kind = response.content_type
    return kind not in ("application/json", "text/event-stream") and not kind.startswith("text/")


async def _truncated(request: web.Request, response: web.Response, keep: int) -> web.StreamResponse:
    body = bytes(response.body or b"")  # type: ignore[arg-type]
    cut = web.StreamResponse(status=response.status, headers={"Content-Type": response.headers["Content-Type"]})
    cut.content_length = len(body)
    await cut.prepare(request)
    await cut.write(body[:keep])
    if request.transport is not None:
        request.transport.close()  # flushes what was written, then drops the connection mid-body
    return cut


@web.middleware
async def break_replies(
    request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
) -> web.StreamResponse:
    try:
        response = await handler(request)
    except ResetConnection:
        reset(request)
        return web.Response(status=500)  # never sent: the connection is gone
    except ConnectionError:
        return web.Response(status=499)  # the client left; nothing can be sent
    faults: Faults | None = request.get(FAULTS)
    if faults is None or not isinstance(response, web.Response) or response.prepared:
        return response
    body = response.body
    if not isinstance(body, bytes | bytearray):
        return response
    if faults.malformed_json and response.content_type == "application/json":
        response.body = bytes(body[: len(body) // 2])
    elif _binary(response) and faults.pad_bytes:
        response.body = bytes(body) + b"\0" * faults.pad_bytes
    if _binary(response) and faults.truncate_bytes is not None:
        return await _truncated(request, response, faults.truncate_bytes)
    return response


async def wrong_content_type(request: web.Request, response: web.StreamResponse) -> None:
    """``on_response_prepare``: the ``content_type`` fault, for JSON, SSE and binary replies alike."""
    faults: Faults | None = request.get(FAULTS)
    if faults is not None and faults.content_type is not None:
        response.headers["Content-Type"] = faults.content_type


async def hang(request: web.Request, faults: Faults) -> None:
    if faults.hang_ms:
        await pause(request, faults.hang_ms / 1000)
