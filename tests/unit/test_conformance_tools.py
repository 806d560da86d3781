"""The conformance suite's own machinery: the spec check finds what is wrong (and only that), SSE is framed
as the SDKs frame it, and the compatibility table is built from outcomes and read back from the README."""

from __future__ import annotations

import base64
import json
import struct
from types import SimpleNamespace

import httpx2
import pytest

from tests.conformance.recorder import Outcome, _feature_result, _suite_result
from tests.conformance.wire import SpecCheck, SpecTransport, SSEDecoder
from tests.support import compat_table
from tests.support.openai_spec import validator

needs_spec = pytest.mark.skipif(validator() is None, reason="../shared/specs/openai-openapi.yaml is absent")
MODEL = {"id": "m", "object": "model", "created": 1, "owned_by": "me"}


def chunk(finish_reason: str | None) -> dict:
    return {"id": "c", "object": "text_completion", "created": 1, "model": "m",
            "choices": [{"index": 0, "text": "hi", "finish_reason": finish_reason, "logprobs": None}]}


@needs_spec
def test_the_spec_check_names_what_breaks_the_spec() -> None:
    check = SpecCheck()
    check.body("GET", "http://h/v1/models/m", 200, "application/json", json.dumps(MODEL).encode())
    check.body("GET", "http://h/v1/models/m", 200, "application/json", json.dumps({**MODEL, "created": "x"}).encode())
    check.body("GET", "http://h/v1/models", 404, "application/json", b'{"error": {"message": "no"}}')
    check.body("POST", "http://h/v1/embeddings", 200, "application/json", b"not json")
    assert check.validated == {"Model": 2, "ErrorResponse": 1}
    assert len(check.problems) == 3
    assert check.problems[0].startswith("GET /v1/models/m (200) is not a valid Model: [\"created: 'x' is not of")
    assert "ErrorResponse" in check.problems[1] and "'type' is a required property" in check.problems[1]
    assert "not JSON" in check.problems[2]


@needs_spec
def test_only_the_named_spec_gaps_are_allowed() -> None:
    check = SpecCheck()
    check.event("POST", "http://h/v1/completions", None, json.dumps(chunk(None)), 0)
    check.event("POST", "http://h/v1/completions", None, json.dumps(chunk("stop")), 1)
    floats = base64.b64encode(struct.pack("<2f", 0.5, -0.25)).decode()
    embedding = {"object": "list", "model": "m", "usage": {"prompt_tokens": 1, "total_tokens": 1},
                 "data": [{"object": "embedding", "index": 0, "embedding": floats}]}
    check.body("POST", "http://h/v1/embeddings", 200, "application/json", json.dumps(embedding).encode())
    assert check.problems == [] and check.total() == 3
    check.event("POST", "http://h/v1/completions", None, json.dumps(chunk("banana")), 2)
    embedding["data"][0]["embedding"] = "not base64!"
    check.body("POST", "http://h/v1/embeddings", 200, "application/json", json.dumps(embedding).encode())
    assert len(check.problems) == 2


@needs_spec
def test_stream_events_are_checked_by_their_kind() -> None:
    check = SpecCheck()
    check.event("POST", "http://h/v1/chat/completions", "message", json.dumps({"choices": []}), 0)
    check.event("POST", "http://h/v1/chat/completions", None, "[DONE]", 1)
    check.event("POST", "http://h/v1/responses", "response.created", json.dumps({"type": "response.done"}), 2)
    assert "named event ('message')" in check.problems[0]
    assert "differs from its type" in check.problems[-2] and "not an event of ResponseStreamEvent" in check.problems[-1]


def test_sse_is_framed_as_the_sdks_frame_it() -> None:
    decoder = SSEDecoder()
    stream = b": ping\r\n\r\nevent: a\r\ndata: {\"x\":\ndata: 1}\r\n\r\ndata: [DONE]\r"
    events = [e for i in range(0, len(stream), 3) for e in decoder.feed(stream[i : i + 3])]
    events += list(decoder.end())
    assert events == [("a", '{"x":\n1}'), (None, "[DONE]")]


def test_the_transport_hands_json_and_streams_over_unchanged() -> None:
    sse = b"data: {\"a\": 1}\n\ndata: [DONE]\n\n"

    def upstream(request: httpx2.Request) -> httpx2.Response:
        if request.url.path.endswith("stream"):
            return httpx2.Response(200, content=sse, headers={"content-type": "text/event-stream"})
        return httpx2.Response(200, json={"ok": True})

    check = SpecCheck()
    with httpx2.Client(transport=SpecTransport(check, httpx2.MockTransport(upstream))) as client:
        assert client.get("http://h/v1/other").json() == {"ok": True}
        with client.stream("GET", "http://h/v1/stream") as response:
            assert b"".join(response.iter_bytes()) == sse
    assert check.unvalidated["GET /v1/other (no schema in OpenAI's spec)"] == 1
    assert check.unvalidated["GET /v1/stream event (no schema in OpenAI's spec)"] == 1


def outcomes(*kinds: str) -> list[Outcome | None]:
    return [Outcome(f"test_{i}", kind, "why" if kind in ("xfailed", "skipped") else "")
            for i, kind in enumerate(kinds)]


def test_a_feature_row_claims_only_what_ran() -> None:
    assert _feature_result(outcomes("passed", "passed")) == "pass"
    assert _feature_result(outcomes("passed", "failed")) == "FAIL"
    assert _feature_result(outcomes("passed", "xfailed")) == "xfail: why"
    assert _feature_result(outcomes("passed", "skipped")) is None  # e.g. no Node.js here: no claim
    assert _feature_result([*outcomes("passed"), None]) is None  # deselected or not reached


def test_a_suite_row_counts_its_tests() -> None:
    assert _suite_result(outcomes("passed", "passed", "xfailed", "skipped", "failed")) == (
        "2 passed, 1 FAILED (test_4), 1 xfail (`test_2`: why), 1 skipped by the suite (`test_3`)")


def test_the_readme_table_reads_back_what_was_written() -> None:
    rows = [compat_table.Row("openai (npm)", "1.0", "/v1/embeddings", "`create` | base64", "pass"),
            compat_table.Row("openai (Python)", "2.0", "errors", "x", "FAIL"),
            compat_table.Row("openai (Python)", "2.0", "/v1/models", "list", "pass")]
    block = compat_table.render(rows)
    assert [line.split(" | ")[2] for line in block.splitlines()[3:-1]] == ["/v1/models", "errors", "/v1/embeddings"]
    assert compat_table.parse(block) == {r.key: r for r in rows}
    newer = compat_table.Row("openai (Python)", "2.1", "errors", "x", "pass")
    assert set(compat_table.merged(compat_table.parse(block), [newer], full=False)) == {rows[0], rows[2], newer}
    assert compat_table.merged(compat_table.parse(block), [newer], full=True) == [newer]


def test_the_readme_has_the_table_block() -> None:
    assert compat_table.readme_block(compat_table.README.read_text()) is not None


def test_rows_need_a_known_client() -> None:
    from tests.conformance.recorder import Recorder

    marker = SimpleNamespace(args=("curl", "/v1/models", "x"), kwargs={})
    item = SimpleNamespace(get_closest_marker=lambda name: marker, nodeid="t", path=compat_table.README)
    with pytest.raises(pytest.UsageError):
        Recorder().expect(item)  # type: ignore[arg-type]
