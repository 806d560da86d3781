"""How the upstream client reads a Workers AI that is unavailable or answers garbage."""

from __future__ import annotations

from typing import Any

import pytest
import requests

from openai_compat.errors import ServiceUnavailableError
from openai_compat.upstream.error_map import map_upstream_error
from openai_compat.upstream.reply import UpstreamStreamError, stream_events


def test_an_unavailable_upstream_is_a_503_that_keeps_its_retry_after() -> None:
    error = map_upstream_error(503, {"errors": [{"code": 3043, "message": "busy"}]}, {"Retry-After": "7.5"}, "m")
    assert isinstance(error, ServiceUnavailableError) and error.status == 503
    assert error.code == "upstream_unavailable" and error.headers["Retry-After"] == "8"
    assert "Retry-After" not in map_upstream_error(503, None, {}, "m").headers


class _Raw:
    def __init__(self, body: bytes) -> None:
        self.body = body

    def read(self, *args: Any, **kwargs: Any) -> bytes:
        body, self.body = self.body, b""
        return body

    def close(self) -> None:
        pass

    def release_conn(self) -> None:
        pass


def _response(body: bytes) -> requests.Response:
    response = requests.Response()
    response.status_code = 200
    response.raw = _Raw(body)
    return response


@pytest.mark.parametrize("event", [b"[" * 100_000 + b"]" * 100_000, b'{"response": "cut', b"\xff\xfe"])
def test_a_stream_event_that_cannot_be_read_is_a_stream_error(event: bytes) -> None:
    body = b'data: {"response": "ok"}\n\ndata: ' + event + b"\n\ndata: [DONE]\n\n"
    events = stream_events(_response(body))
    assert next(events) == {"response": "ok"}
    with pytest.raises(UpstreamStreamError):
        next(events)
