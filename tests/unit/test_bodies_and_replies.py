"""SSE framing (`core.sse`) and binary replies (`web.replies.binary_response`)."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

import pytest
from flask import Flask, Response

from openai_compat.core.sse import DONE, HEARTBEAT, data_event, named_event, with_heartbeat
from openai_compat.web.replies import binary_response

# ---- SSE framing -------------------------------------------------------------------------------


def parse_event(frame: bytes) -> tuple[str | None, object]:
    """How an SSE client reads one frame: optional `event:` line, `data:` line, blank line."""
    assert frame.endswith(b"\n\n") and frame.count(b"\n\n") == 1
    name = None
    data = None
    for line in frame.decode().split("\n")[:-2]:
        field, _, value = line.partition(": ")
        if field == "event":
            name = value
        elif field == "data":
            data = json.loads(value)
        else:
            raise AssertionError(f"unexpected line {line!r}")
    return name, data


def test_named_event_line_equals_the_name_and_data_is_the_json() -> None:
    payload = {"type": "response.output_text.delta", "delta": "héllo\nworld"}
    frame = named_event("response.output_text.delta", payload)
    assert frame.startswith(b"event: response.output_text.delta\ndata: ")
    assert parse_event(frame) == ("response.output_text.delta", payload)


@pytest.mark.parametrize("name", ["a\nb", "a\rb", "done\n\ndata: [DONE]", "trailing\n"])
def test_named_event_refuses_a_name_that_would_break_the_framing(name: str) -> None:
    with pytest.raises(ValueError):
        named_event(name, {"x": 1})


def test_data_event_is_one_compact_data_line() -> None:
    payload = {"choices": [{"delta": {"content": "line one\nline two"}}], "n": 1}
    frame = data_event(payload)
    assert frame.startswith(b"data: {") and b"\n" not in frame[:-2]  # a newline in content stays escaped
    assert parse_event(frame) == (None, payload)


def test_data_event_survives_a_lone_surrogate_from_a_model() -> None:
    frame = data_event({"content": "bad \ud800 char"})
    assert parse_event(frame) == (None, {"content": "bad \ud800 char"})


def test_done_is_the_openai_terminator() -> None:
    assert DONE == b"data: [DONE]\n\n"


def test_heartbeat_fills_silences_and_close_runs_once() -> None:
    closed: list[int] = []

    def slow() -> Iterator[bytes]:
        time.sleep(0.6)  # ample silence: heartbeats come even on a loaded machine
        yield b"data: 1\n\n"

    out = list(with_heartbeat(slow(), 0.03, lambda: closed.append(1)))
    assert out[-1] == b"data: 1\n\n"
    assert HEARTBEAT in out[:-1] and set(out[:-1]) == {HEARTBEAT}
    assert closed == [1]


def test_no_heartbeat_when_disabled_and_close_runs_when_the_client_leaves() -> None:
    closed: list[int] = []
    stream = with_heartbeat(iter([b"a", b"b", b"c"]), 0, lambda: closed.append(1))
    assert next(stream) == b"a"
    stream.close()  # the client hung up after the first event
    assert closed == [1]


# ---- binary replies ------------------------------------------------------------------------------

CHUNKS = [b"\x89PNG\r\n\x1a\n", b"A" * 1000, b"B" * 10]


class Source:
    """A binary source that records how far it was read and whether it was closed."""

    def __init__(self, chunks: list[bytes]) -> None:
        self.chunks = chunks
        self.given = 0
        self.finished = False

    def __iter__(self) -> Iterator[bytes]:
        try:
            for chunk in self.chunks:
                self.given += 1
                yield chunk
        finally:
            self.finished = True


def app_serving(source: Source, closes: list[int], *, content_length: int | None) -> Flask:
    app = Flask(__name__)

    @app.get("/image")
    def image() -> Response:
        return binary_response(
            iter(source), content_type="image/png", content_length=content_length,
            on_close=lambda: closes.append(1), headers={"x-workers-ai-model": "@cf/x/y"},
        )

    return app


def test_binary_response_streams_chunks_with_type_and_length() -> None:
    source, closes = Source(CHUNKS), []
    total = sum(map(len, CHUNKS))
    reply = app_serving(source, closes, content_length=total).test_client().get("/image", buffered=False)
    assert reply.status_code == 200
    assert reply.headers["Content-Type"] == "image/png"
    assert reply.headers["Content-Length"] == str(total)
    assert reply.headers["X-Accel-Buffering"] == "no"
    assert reply.headers["x-workers-ai-model"] == "@cf/x/y"
    assert source.given <= 1  # not read whole before the client reads (the WSGI layer pulls the first chunk)
    received = list(reply.response)
    assert [c for c in received if c] == CHUNKS  # chunk by chunk, not joined
    reply.close()
    assert closes == [1]
    assert source.finished


def test_binary_response_without_length_sends_none() -> None:
    source, closes = Source(CHUNKS), []
    reply = app_serving(source, closes, content_length=None).test_client().get("/image")
    assert "Content-Length" not in reply.headers  # not guessed: the client reads to the end of the stream
    assert reply.data == b"".join(CHUNKS)


def test_on_close_runs_once_when_the_client_leaves_before_reading() -> None:
    source, closes = Source(CHUNKS), []
    reply = app_serving(source, closes, content_length=1018).test_client().get("/image", buffered=False)
    reply.close()
    assert closes == [1]
    assert source.given <= 1 and source.finished


def test_on_close_runs_once_when_the_client_leaves_mid_body() -> None:
    source, closes = Source(CHUNKS), []
    reply = app_serving(source, closes, content_length=1018).test_client().get("/image", buffered=False)
    body = iter(reply.response)
    assert next(c for c in body if c) == CHUNKS[0]
    reply.close()
    assert closes == [1]
    assert source.finished and source.given < len(CHUNKS)  # the source was released, not drained


def test_binary_response_in_a_request_context_keeps_status_and_headers() -> None:
    app = Flask(__name__)
    closes: list[int] = []
    with app.test_request_context("/"):
        response = binary_response(
            iter([b"ab", b"cd"]), content_type="audio/mpeg", content_length=4, status=206,
            headers={"Content-Range": "bytes 0-3/10"}, on_close=lambda: closes.append(1),
        )
    assert response.status_code == 206
    assert response.headers["Content-Range"] == "bytes 0-3/10"
    assert response.mimetype == "audio/mpeg"
    assert b"".join(response.response) == b"abcd"
    response.close()
    assert closes == [1]
