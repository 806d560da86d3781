"""The one Workers AI client, against a mocked upstream (`responses`)."""

from __future__ import annotations

import http.server
import json
import threading
import time

import pytest
import requests
import responses

from openai_compat.errors import (
    InvalidRequestError,
    ModelNotFoundError,
    PermissionDeniedError,
    QuotaExceededError,
    RateLimitError,
    UpstreamError,
    UpstreamTimeoutError,
)
from openai_compat.upstream import UpstreamStreamError, WorkersAIClient
from tests.unit.factories import ACCOUNT, make_settings, run_url

MODEL = "@cf/meta/llama-3.3-70b-instruct-fp8-fast"


def envelope(result: object) -> dict:
    return {"result": result, "success": True, "errors": [], "messages": []}


def failure(code: int, message: str) -> dict:
    return {"result": None, "success": False, "errors": [{"code": code, "message": message}], "messages": []}


class Sleeps(list):
    def __call__(self, seconds: float) -> None:
        self.append(seconds)


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


@pytest.fixture
def client(sleeps: Sleeps) -> WorkersAIClient:
    return WorkersAIClient(make_settings(), sleep=sleeps)


@responses.activate
def test_json_result_and_bearer_token(client: WorkersAIClient) -> None:
    responses.post(run_url(MODEL), json=envelope({"response": "hi"}))
    reply = client.run(MODEL, {"prompt": "x"})
    assert reply.result == {"response": "hi"}
    sent = responses.calls[0].request
    assert sent.headers["Authorization"] == "Bearer cf-token"
    assert json.loads(sent.body) == {"prompt": "x"}
    assert sent.url.endswith(f"/accounts/{ACCOUNT}/ai/run/@cf/meta/llama-3.3-70b-instruct-fp8-fast")


@responses.activate
def test_binary_body_arrives_as_a_stream_of_chunks(client: WorkersAIClient) -> None:
    png = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 1024
    responses.post(run_url("@cf/stabilityai/stable-diffusion-xl-base-1.0"), body=png, content_type="image/png")
    reply = client.run("@cf/stabilityai/stable-diffusion-xl-base-1.0", {"prompt": "cat"})
    assert reply.content_type == "image/png"
    assert reply.result is None and reply.events is None
    assert reply.chunks is not None
    chunks = list(reply.chunks)
    assert len(chunks) > 1 and b"".join(chunks) == png


@responses.activate
def test_ai_gateway_url_and_token() -> None:
    settings = make_settings(
        cloudflare_ai_gateway_id="my-gw",
        cloudflare_ai_gateway_base_url="https://aig.test/v1",
        cloudflare_ai_gateway_token="aig-secret",
    )
    url = f"https://aig.test/v1/{ACCOUNT}/my-gw/workers-ai/{MODEL}"
    responses.post(url, json=envelope({"response": "ok"}))
    assert WorkersAIClient(settings).run(MODEL, {"prompt": "x"}).result == {"response": "ok"}
    assert responses.calls[0].request.headers["cf-aig-authorization"] == "Bearer aig-secret"


@responses.activate
def test_retries_capacity_errors_honouring_retry_after(client: WorkersAIClient, sleeps: Sleeps) -> None:
    responses.post(run_url(MODEL), json=failure(3040, "No more data centers"), status=429,
                   headers={"Retry-After": "3"})
    responses.post(run_url(MODEL), json=envelope({"response": "ok"}))
    assert client.run(MODEL, {"prompt": "x"}).result == {"response": "ok"}
    assert sleeps == [3.0]


@responses.activate
def test_retries_502_503_504_with_growing_jittered_backoff(client: WorkersAIClient, sleeps: Sleeps) -> None:
    responses.post(run_url(MODEL), body="bad gateway", status=502)
    responses.post(run_url(MODEL), body="unavailable", status=503)
    responses.post(run_url(MODEL), json=envelope({"response": "ok"}))
    assert client.run(MODEL, {"prompt": "x"}).result == {"response": "ok"}
    assert len(sleeps) == 2
    assert 0.005 <= sleeps[0] <= 0.01 and 0.01 <= sleeps[1] <= 0.02


@responses.activate
def test_gives_up_after_max_retries_with_honest_429(client: WorkersAIClient, sleeps: Sleeps) -> None:
    for _ in range(3):
        responses.post(run_url(MODEL), json=failure(3040, "busy"), status=429)
    with pytest.raises(RateLimitError) as caught:
        client.run(MODEL, {"prompt": "x"})
    assert len(responses.calls) == 3
    assert caught.value.status == 429
    assert int(caught.value.headers["Retry-After"]) >= 1


@responses.activate
def test_retry_after_beyond_the_budget_is_not_waited_for(client: WorkersAIClient, sleeps: Sleeps) -> None:
    responses.post(run_url(MODEL), json=failure(3040, "busy"), status=429, headers={"Retry-After": "120"})
    with pytest.raises(RateLimitError) as caught:
        client.run(MODEL, {"prompt": "x"})
    assert sleeps == []
    assert caught.value.headers["Retry-After"] == "120"


@responses.activate
def test_daily_allocation_is_not_retried_and_says_so(client: WorkersAIClient) -> None:
    responses.post(run_url(MODEL), json=failure(3036, "You have used up your daily free allocation"), status=429)
    with pytest.raises(QuotaExceededError) as caught:
        client.run(MODEL, {"prompt": "x"})
    assert len(responses.calls) == 1
    assert caught.value.headers["x-should-retry"] == "false"
    assert 1 <= int(caught.value.headers["Retry-After"]) <= 86400
    assert caught.value.body()["error"]["code"] == "insufficient_quota"


@responses.activate
def test_connection_errors_are_retried_then_reported_as_502(client: WorkersAIClient, sleeps: Sleeps) -> None:
    for _ in range(3):
        responses.post(run_url(MODEL), body=requests.exceptions.ConnectionError("refused"))
    with pytest.raises(UpstreamError) as caught:
        client.run(MODEL, {"prompt": "x"})
    assert caught.value.status == 502
    assert len(sleeps) == 2


@responses.activate
def test_read_timeout_is_504_and_not_retried(client: WorkersAIClient) -> None:
    responses.post(run_url(MODEL), body=requests.exceptions.ReadTimeout("slow"))
    with pytest.raises(UpstreamTimeoutError) as caught:
        client.run(MODEL, {"prompt": "x"})
    assert caught.value.status == 504
    assert len(responses.calls) == 1


@pytest.mark.parametrize(
    ("status", "code", "expected", "http"),
    [
        (400, 5007, ModelNotFoundError, 404),
        (404, 3042, ModelNotFoundError, 404),
        (400, 5006, InvalidRequestError, 400),
        (401, 10000, UpstreamError, 502),
        (403, 10000, UpstreamError, 502),
        (404, 7003, UpstreamError, 502),
        (403, 5016, PermissionDeniedError, 403),
        (408, 3007, UpstreamTimeoutError, 504),
    ],
)
@responses.activate
def test_envelope_errors_map_by_code(
    client: WorkersAIClient, status: int, code: int, expected: type, http: int
) -> None:
    responses.post(run_url(MODEL), json=failure(code, "upstream says no"), status=status)
    with pytest.raises(expected) as caught:
        client.run(MODEL, {"prompt": "x"})
    assert caught.value.status == http
    assert len(responses.calls) == 1


@responses.activate
def test_bad_credentials_say_whose_fault_it_is(client: WorkersAIClient) -> None:
    responses.post(run_url(MODEL), json=failure(10000, "Authentication error"), status=401)
    with pytest.raises(UpstreamError) as caught:
        client.run(MODEL, {"prompt": "x"})
    assert "CLOUDFLARE_API_TOKEN" in caught.value.message
    assert caught.value.code == "upstream_authentication_failed"


class ChunkedBody:
    """An SSE body delivered in awkward pieces, as a network would."""

    def __init__(self, pieces: list[bytes]) -> None:
        self.pieces = pieces

    def __iter__(self):
        return iter(self.pieces)


def _sse_reply(client: WorkersAIClient, pieces: list[bytes]):
    responses.post(run_url(MODEL), body=b"".join(pieces), content_type="text/event-stream")
    return client.run(MODEL, {"messages": [], "stream": True})


@responses.activate
def test_sse_events_split_across_chunk_boundaries(client: WorkersAIClient, monkeypatch: pytest.MonkeyPatch) -> None:
    raw = (
        'data: {"response":"Hé"}\r\n\r\ndata: {"response":" there","p":"abc"}\n\n: comment\n\n'
        'data: {"response":"","usage":{"prompt_tokens":1,"completion_tokens":2,"total_tokens":3}}\n\n'
        "data: [DONE]\n\n"
    ).encode()
    # Split everywhere, including inside CRLF and inside the two-byte é.
    pieces = [raw[i : i + 3] for i in range(0, len(raw), 3)]
    monkeypatch.setattr(requests.Response, "iter_content", lambda self, chunk_size=None: iter(pieces))
    reply = _sse_reply(client, pieces)
    events = list(reply.events)
    assert [e.get("response") for e in events] == ["Hé", " there", ""]
    assert events[-1]["usage"]["completion_tokens"] == 2


@responses.activate
def test_sse_stream_without_done_raises(client: WorkersAIClient, monkeypatch: pytest.MonkeyPatch) -> None:
    pieces = [b'data: {"response":"a"}\n\n', b'data: {"resp']
    monkeypatch.setattr(requests.Response, "iter_content", lambda self, chunk_size=None: iter(pieces))
    reply = _sse_reply(client, pieces)
    events = reply.events
    assert next(events)["response"] == "a"
    with pytest.raises(UpstreamStreamError):
        next(events)


@responses.activate
def test_sse_connection_break_mid_stream_raises(client: WorkersAIClient, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(self, chunk_size=None):
        yield b'data: {"response":"a"}\n\n'
        raise requests.exceptions.ChunkedEncodingError("connection broken")

    monkeypatch.setattr(requests.Response, "iter_content", broken)
    reply = _sse_reply(client, [])
    events = reply.events
    assert next(events)["response"] == "a"
    with pytest.raises(UpstreamStreamError) as caught:
        next(events)
    assert caught.value.status == 502


@responses.activate
def test_models_search_reads_every_page(client: WorkersAIClient) -> None:
    url = f"https://cf.test/client/v4/accounts/{ACCOUNT}/ai/models/search"
    page = {"success": True, "errors": [], "messages": []}
    responses.get(url, json={**page, "result": [{"name": "@cf/a"}], "result_info": {"page": 1, "total_pages": 2}})
    responses.get(url, json={**page, "result": [{"name": "@cf/b"}], "result_info": {"page": 2, "total_pages": 2}})
    assert [m["name"] for m in client.search_models()] == ["@cf/a", "@cf/b"]


def test_proxy_settings_are_read_once_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.test:3128")
    monkeypatch.setenv("NO_PROXY", "")
    client = WorkersAIClient(make_settings())
    assert "https" in client._proxies
    assert client._proxies["https"] == "http://proxy.test:3128"
    monkeypatch.setenv("NO_PROXY", "cf.test")
    assert "https" not in WorkersAIClient(make_settings())._proxies


class _TricklingBody:
    """A body that never ends: one byte every 20 ms after [DONE]."""

    connection = None

    def __init__(self) -> None:
        self.reads = 0

    def read(self, amt: int, decode_content: bool) -> bytes:
        self.reads += 1
        time.sleep(0.02)
        return b"x"


def test_reading_a_finished_streams_tail_is_bounded_in_time() -> None:
    from openai_compat.upstream.reply import DRAIN_SECONDS
    from openai_compat.upstream.reply import hand_back as _hand_back

    response = requests.Response()
    response.raw = _TricklingBody()
    started = time.monotonic()
    _hand_back(response)
    assert time.monotonic() - started < DRAIN_SECONDS + 0.1
    assert response.raw.reads >= 2


@responses.activate
def test_a_redirect_is_an_upstream_error_naming_where_it_pointed(client: WorkersAIClient) -> None:
    responses.post(run_url(MODEL), status=301, headers={"Location": "https://elsewhere.test/"})
    with pytest.raises(UpstreamError) as caught:
        client.run(MODEL, {"prompt": "x"})
    assert "https://elsewhere.test/" in caught.value.message and caught.value.status == 502
    assert len(responses.calls) == 1


class _SlowBody(http.server.BaseHTTPRequestHandler):
    """Answers with a body in five pieces 200 ms apart, with a Content-Length or chunked."""

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", "0")))
        chunked = "chunked" in self.path
        self.send_response(200)
        self.send_header("Content-Type", "audio/mpeg")
        if chunked:
            self.send_header("Transfer-Encoding", "chunked")
        else:
            self.send_header("Content-Length", "5000")
        self.end_headers()
        for index in range(5):
            piece = bytes([65 + index]) * 1000
            self.wfile.write(b"%x\r\n%s\r\n" % (len(piece), piece) if chunked else piece)
            self.wfile.flush()
            time.sleep(0.2)
        if chunked:
            self.wfile.write(b"0\r\n\r\n")

    def log_message(self, *args: object) -> None:
        pass


@pytest.mark.parametrize("model", ["@cf/deepgram/aura-2-en", "@cf/deepgram/chunked"])
def test_a_binary_body_is_passed_on_as_it_arrives_with_or_without_a_length(model: str) -> None:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _SlowBody)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        base = f"http://127.0.0.1:{server.server_address[1]}/client/v4"
        client = WorkersAIClient(make_settings(workers_ai_base_url=base))
        reply = client.run(model, {"text": "hi"})
        started = time.monotonic()
        arrivals = [(time.monotonic() - started, chunk) for chunk in reply.chunks or []]
    finally:
        server.shutdown()
    assert b"".join(chunk for _, chunk in arrivals) == b"".join(bytes([65 + i]) * 1000 for i in range(5))
    assert len(arrivals) >= 4 and arrivals[0][0] < 0.15  # the first piece long before the last was sent
