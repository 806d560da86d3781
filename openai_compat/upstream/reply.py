"""What Workers AI answered, in the three forms it answers in: a JSON result, an SSE stream of
events, or a binary body (images, speech) passed on as a stream of chunks."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import requests
import urllib3

from openai_compat.core import jsonio
from openai_compat.core.sse import QUIET, Quiet
from openai_compat.errors import UpstreamError
from openai_compat.net.readiness import Readiness
from openai_compat.net.transport import shutdown_socket
from openai_compat.upstream.error_map import map_upstream_error
from openai_compat.upstream.event_stream import EventParser

DRAIN_SECONDS = 0.1
DRAIN_CHUNK_BYTES = 64 * 1024
BINARY_CHUNK_BYTES = 64 * 1024


class UpstreamStreamError(UpstreamError):
    """The stream broke after it started; only an in-band error event can report it."""


@dataclass
class UpstreamReply:
    """Exactly one of `result` (JSON), `events` (SSE) or `chunks` (binary) is set."""

    content_type: str
    elapsed_ms: float
    result: Any = None
    events: Iterator[dict[str, Any] | Quiet] | None = None
    """Interleaved with `QUIET` while the upstream is silent (when the client was built to say so)."""
    chunks: Iterator[bytes] | None = None
    content_length: int | None = None
    """The binary body's declared length, when Workers AI sent one."""
    _response: requests.Response | None = field(default=None, repr=False)

    def close(self) -> None:
        """Release the connection; for a stream this also stops generation upstream.

        The socket is shut down first: closing alone does not wake a thread blocked reading it.
        """
        if self._response is not None:
            shutdown_socket(self._response)
            # A reader thread may be inside a read of this response right now; its read fails on
            # the shut socket and the reader then closes the response from that thread.
            with contextlib.suppress(RuntimeError):
                self._response.close()

    def read_body(self, max_bytes: int) -> bytes:
        """The whole binary body, for callers that must have it in hand (to store or decode it);
        more than `max_bytes` is an upstream fault, not a reason to run out of memory."""
        if self.chunks is None:
            raise UpstreamError("Workers AI answered with JSON where a binary body was expected.")
        if self.content_length is not None and self.content_length > max_bytes:
            self.close()
            raise UpstreamError(f"Workers AI's reply is larger than {max_bytes} bytes.")
        body = bytearray()
        try:
            for chunk in self.chunks:
                body.extend(chunk)
                if len(body) > max_bytes:
                    raise UpstreamError(f"Workers AI's reply is larger than {max_bytes} bytes.")
        finally:
            self.close()
        return bytes(body)


def media_type(response: requests.Response) -> str:
    return response.headers.get("Content-Type", "").split(";")[0].strip().lower()


def hand_back(response: requests.Response) -> None:
    """Read a finished stream's body to its end so the connection goes back to the pool: closed
    unread, the next stream would pay a new TCP and TLS handshake. After `[DONE]` only the body's
    terminator is left, so the read is bounded in time: an upstream that keeps the body open (or
    trickles) costs a moment, not the read timeout, and its connection is closed by the caller."""
    raw = response.raw
    sock = getattr(raw.connection, "sock", None)
    if sock is not None:
        sock.settimeout(DRAIN_SECONDS)  # urllib3 sets the timeout again when it reuses the connection
    deadline = time.monotonic() + DRAIN_SECONDS
    try:
        while raw.read(DRAIN_CHUNK_BYTES, decode_content=False):  # b"" at the end: back in the pool
            if time.monotonic() > deadline:
                return
    except (urllib3.exceptions.HTTPError, OSError):
        return


def stream_events(
    response: requests.Response, idle_after: float | None = None, read_timeout: float | None = None
) -> Iterator[dict[str, Any] | Quiet]:
    """Parsed SSE events up to `[DONE]`, and `QUIET` whenever nothing has arrived for `idle_after`
    seconds (so the SSE writer can send a heartbeat); a stream that breaks or ends early raises, and so
    does one silent for `read_timeout` (its reads no longer wait long enough to time out themselves:
    the heartbeats would otherwise keep a dead upstream's stream open for ever)."""
    readiness = Readiness.of(response) if idle_after else None
    parser = EventParser()
    chunks = response.iter_content(chunk_size=None)
    last_bytes = time.monotonic()
    try:
        while True:
            if readiness is not None and not readiness.wait(idle_after):  # type: ignore[arg-type]
                if read_timeout is not None and time.monotonic() - last_bytes >= read_timeout:
                    raise UpstreamStreamError(f"Workers AI sent nothing for {read_timeout:g} s.")
                yield QUIET
                continue
            chunk = next(chunks, None)
            last_bytes = time.monotonic()
            events = parser.feed(chunk) if chunk is not None else parser.close()
            for data in events:
                if data.strip() == b"[DONE]":
                    hand_back(response)
                    return
                event = _event(data)
                if event is not None:
                    yield event
            if chunk is None:
                break
    except (requests.RequestException, OSError, AttributeError, ValueError) as exc:
        # AttributeError/ValueError: urllib3 reading a response closed by a departing client.
        raise UpstreamStreamError(f"The Workers AI stream broke off ({type(exc).__name__}).") from None
    finally:
        if readiness is not None:
            readiness.close()
        response.close()
    raise UpstreamStreamError("The Workers AI stream ended before it was complete.")


def _event(data: bytes) -> dict[str, Any] | None:
    try:
        event = jsonio.loads(data)
    except (ValueError, RecursionError):
        raise UpstreamStreamError("Workers AI sent a malformed stream event.") from None
    if not isinstance(event, dict):
        return None
    if event.get("success") is False:
        raise map_upstream_error(200, event, {}, None)
    return event


def read_piece(response: requests.Response) -> bytes:
    """What has arrived of a binary body, up to a chunk's size; b"" at its end.

    `read1` hands on whatever has arrived, whether the body is chunked or has a Content-Length:
    `iter_content` would wait for a full 64 KiB of a length-delimited body, seconds of speech,
    before passing any of it on."""
    return response.raw.read1(BINARY_CHUNK_BYTES, decode_content=True)


def stream_chunks(response: requests.Response, declared: int | None) -> Iterator[bytes]:
    """The binary body as it arrives; a body cut short of its declared length raises."""
    received = 0
    try:
        while chunk := read_piece(response):
            received += len(chunk)
            yield chunk
    except (requests.RequestException, urllib3.exceptions.HTTPError, OSError, AttributeError, ValueError) as exc:
        if declared is not None and received < declared and isinstance(exc, urllib3.exceptions.ProtocolError):
            raise UpstreamStreamError(
                f"Workers AI's binary reply ended after {received} of {declared} bytes."
            ) from None
        raise UpstreamStreamError(f"Workers AI's binary reply broke off ({type(exc).__name__}).") from None
    finally:
        response.close()
    if declared is not None and received < declared:
        raise UpstreamStreamError(f"Workers AI's binary reply ended after {received} of {declared} bytes.")


def read_json_result(response: requests.Response, max_bytes: int) -> Any:
    """The `result` of a JSON envelope; a reply that is cut off, malformed or huge is an upstream fault."""
    try:
        body = bytearray()
        for chunk in response.iter_content(chunk_size=BINARY_CHUNK_BYTES):
            body.extend(chunk)
            if len(body) > max_bytes:
                raise UpstreamError(f"Workers AI's reply is larger than {max_bytes} bytes.")
    except requests.RequestException as exc:
        raise UpstreamError(f"Workers AI's reply was cut off: {type(exc).__name__}") from None
    finally:
        response.close()
    try:
        parsed = jsonio.loads(bytes(body)) if body else None
    except (ValueError, RecursionError):
        raise UpstreamError("Workers AI answered with malformed JSON.") from None
    if not isinstance(parsed, dict) or "result" not in parsed:
        raise UpstreamError("Workers AI answered with JSON the gateway does not recognise.")
    return parsed["result"]
