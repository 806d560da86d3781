"""Every family against every upstream fault the emulator can inject, through a gunicorn-served gateway:
bounded retries before the first byte only, then an honest OpenAI-shaped error (429 with Retry-After,
502, 503, 504); a stream that breaks after it began ends with an error event, never a fake finish; no
worker is lost or wedged, and the next request succeeds."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
import requests

from harness import processes
from tests.support.audio import make_wav
from tests.support.emulator import EmulatorHandle
from tests.support.gateway import GatewayHandle, start_gateway

LLAMA = "@cf/meta/llama-3.3-70b-instruct-fp8-fast"
READ_TIMEOUT = 2


@dataclass(frozen=True)
class Call:
    """One request of one family, as a client sends it."""

    name: str
    path: str
    json: dict[str, Any] | None = None
    files: dict[str, Any] | None = None
    data: dict[str, str] = field(default_factory=dict)
    calls: int = 1
    """Upstream calls one success makes."""

    def send(self, gateway: GatewayHandle, headers: dict[str, str] | None = None, **kwargs: Any) -> requests.Response:
        return requests.post(f"{gateway.base_url}{self.path}", json=self.json, files=self.files, data=self.data,
                             headers={"Authorization": f"Bearer {gateway.api_key}", **(headers or {})},
                             timeout=kwargs.pop("timeout", 30), **kwargs)


WAV = make_wav("en|Hello there.|Second line.", seconds=2.0)
FAMILIES = [
    Call("chat", "/chat/completions", {"model": LLAMA, "messages": [{"role": "user", "content": "hi"}]}),
    Call("completions", "/completions", {"model": LLAMA, "prompt": "hi"}),
    Call("embeddings", "/embeddings", {"model": "@cf/baai/bge-m3", "input": ["a", "b"]}),
    Call("responses", "/responses", {"model": LLAMA, "input": "hi"}),
    Call("moderations", "/moderations", {"input": "hi"}),
    Call("rerank", "/rerank", {"query": "q", "documents": ["a", "b"]}),
    Call("images", "/images/generations", {"model": "dall-e-2", "prompt": "a lake", "size": "256x256"}),
    Call("images_b64", "/images/generations", {"model": "dall-e-3", "prompt": "a lake",
                                               "response_format": "b64_json"}),
    Call("speech", "/audio/speech", {"model": "tts-1", "voice": "alloy", "input": "hello there"}),
    Call("transcriptions", "/audio/transcriptions", files={"file": ("a.wav", WAV, "audio/wav")},
         data={"model": "whisper-1"}),
]
STREAMS = [
    Call("chat", "/chat/completions", {"model": LLAMA, "messages": [{"role": "user", "content": "hi"}],
                                       "stream": True}),
    Call("completions", "/completions", {"model": LLAMA, "prompt": "hi", "stream": True}),
    Call("responses", "/responses", {"model": LLAMA, "input": "hi", "stream": True}),
    Call("speech_sse", "/audio/speech", {"model": "tts-1", "voice": "alloy", "input": "one two three four five six",
                                         "stream_format": "sse"}),
]
TRANSCRIPTION_STREAM = Call("transcriptions_stream", "/audio/transcriptions",
                            files={"file": ("a.wav", WAV, "audio/wav")}, data={"model": "whisper-1", "stream": "true"})
"""Workers AI's recognisers answer whole: a streamed transcription has every upstream byte before its first
event, so its faults are all before the first byte (and a cut cannot happen after it)."""


@pytest.fixture(scope="module")
def gateway(emulator: EmulatorHandle) -> Iterator[GatewayHandle]:
    """Retries as deployed (two), a short read timeout so a hung upstream is a quick 504."""
    with start_gateway(emulator, UPSTREAM_READ_TIMEOUT_SECONDS=str(READ_TIMEOUT)) as handle:
        yield handle


@pytest.fixture(scope="module")
def workers(gateway: GatewayHandle) -> list[int]:
    return sorted(processes.children(gateway.process.pid))


def run_calls(upstream: EmulatorHandle) -> int:
    return sum(1 for entry in upstream.requests() if "/ai/run/" in entry["path"])


def openai_error(reply: requests.Response, status: int) -> dict[str, Any]:
    assert reply.status_code == status, (reply.status_code, reply.text[:300])
    assert reply.headers["Content-Type"].startswith("application/json")
    error = reply.json()["error"]
    assert set(error) == {"message", "type", "param", "code"}, error
    assert isinstance(error["message"], str) and error["message"]
    return error


def recovers(gateway: GatewayHandle, upstream: EmulatorHandle, call: Call, workers: list[int]) -> None:
    """After the fault: a clean request succeeds, on the same worker processes."""
    upstream.clear_faults()
    reply = call.send(gateway)
    assert reply.status_code == 200, reply.text[:300]
    assert sorted(processes.children(gateway.process.pid)) == workers, "a worker died"


def ids(calls: list[Call]) -> list[str]:
    return [c.name for c in calls]


# ---- before the first byte: retried, then an honest status ------------------------------------------


@pytest.mark.parametrize("call", FAMILIES, ids=ids(FAMILIES))
def test_a_lasting_429_is_retried_twice_then_a_429_with_retry_after(
    gateway: GatewayHandle, upstream: EmulatorHandle, call: Call, workers: list[int]
) -> None:
    upstream.set_faults(fail_status=429, fail_code=3040)
    error = openai_error(reply := call.send(gateway), 429)
    assert error["code"] == "rate_limit_exceeded" and int(reply.headers["Retry-After"]) >= 1
    assert reply.headers["x-should-retry"] == "false"  # the gateway already retried: the SDK need not
    assert run_calls(upstream) == 3
    recovers(gateway, upstream, call, workers)


@pytest.mark.parametrize("call", FAMILIES, ids=ids(FAMILIES))
def test_a_429_with_a_long_retry_after_is_passed_on_at_once(
    gateway: GatewayHandle, upstream: EmulatorHandle, call: Call, workers: list[int]
) -> None:
    upstream.set_faults(fail_status=429, fail_code=3040, retry_after=45)
    reply = call.send(gateway)
    openai_error(reply, 429)
    assert reply.headers["Retry-After"] == "45" and run_calls(upstream) == 1
    recovers(gateway, upstream, call, workers)


@pytest.mark.parametrize(("status", "expected", "attempts"), [(500, 502, 1), (502, 502, 3), (503, 503, 3),
                                                              (504, 504, 3)])
@pytest.mark.parametrize("call", FAMILIES, ids=ids(FAMILIES))
def test_upstream_5xx_statuses(
    gateway: GatewayHandle, upstream: EmulatorHandle, call: Call, workers: list[int], status: int, expected: int,
    attempts: int,
) -> None:
    upstream.set_faults(fail_status=status)
    error = openai_error(call.send(gateway), expected)
    assert error["type"] == "server_error"
    assert run_calls(upstream) == attempts  # 500 is not retried: the same request would fail the same way
    recovers(gateway, upstream, call, workers)


@pytest.mark.parametrize("call", FAMILIES, ids=ids(FAMILIES))
def test_transient_faults_are_retried_invisibly(
    gateway: GatewayHandle, upstream: EmulatorHandle, call: Call, workers: list[int]
) -> None:
    for faults in ({"fail_status": 503, "fail_times": 1}, {"reset": True, "fail_times": 2},
                   {"fail_status": 429, "fail_code": 3040, "retry_after": "0", "fail_times": 1}):
        upstream.clear_requests()
        upstream.set_faults(**faults)
        reply = call.send(gateway)
        assert reply.status_code == 200, (faults, reply.text[:300])
        assert run_calls(upstream) == faults["fail_times"] + 1
    recovers(gateway, upstream, call, workers)


@pytest.mark.parametrize("call", FAMILIES, ids=ids(FAMILIES))
def test_a_connection_reset_every_time_is_a_502(
    gateway: GatewayHandle, upstream: EmulatorHandle, call: Call, workers: list[int]
) -> None:
    upstream.set_faults(reset=True)
    error = openai_error(call.send(gateway), 502)
    assert "connect" in error["message"].lower() and run_calls(upstream) == 3
    recovers(gateway, upstream, call, workers)


@pytest.mark.parametrize("call", FAMILIES, ids=ids(FAMILIES))
def test_an_upstream_that_never_answers_is_a_504_after_the_read_timeout(
    gateway: GatewayHandle, upstream: EmulatorHandle, call: Call, workers: list[int]
) -> None:
    upstream.set_faults(hang_ms=READ_TIMEOUT * 1000 + 3000)
    started = time.monotonic()
    error = openai_error(call.send(gateway), 504)
    assert error["code"] == "upstream_timeout"
    assert time.monotonic() - started < READ_TIMEOUT + 2.5  # one wait, not one per retry
    recovers(gateway, upstream, call, workers)


@pytest.mark.parametrize("call", [c for c in FAMILIES if c.name not in ("images", "speech")],
                         ids=ids([c for c in FAMILIES if c.name not in ("images", "speech")]))
def test_malformed_json_from_the_upstream_is_a_502(
    gateway: GatewayHandle, upstream: EmulatorHandle, call: Call, workers: list[int]
) -> None:
    upstream.set_faults(malformed_json=True)
    openai_error(call.send(gateway), 502)
    recovers(gateway, upstream, call, workers)


@pytest.mark.parametrize("content_type", ["text/html", "application/octet-stream"])
@pytest.mark.parametrize("call", [c for c in FAMILIES if c.name not in ("images", "speech")],
                         ids=ids([c for c in FAMILIES if c.name not in ("images", "speech")]))
def test_json_under_a_wrong_content_type_is_a_502(
    gateway: GatewayHandle, upstream: EmulatorHandle, call: Call, workers: list[int], content_type: str
) -> None:
    upstream.set_faults(content_type=content_type)
    openai_error(call.send(gateway), 502)
    recovers(gateway, upstream, call, workers)


def test_connection_refused_is_a_502_after_bounded_retries(emulator: EmulatorHandle) -> None:
    with start_gateway(emulator, WORKERS_AI_BASE_URL=f"http://127.0.0.1:{processes.free_port()}/client/v4") as dead:
        started = time.monotonic()
        for call in FAMILIES:
            error = openai_error(call.send(dead), 502)
            assert "connect" in error["message"].lower(), call.name
        assert time.monotonic() - started < 20


# ---- binary bodies -------------------------------------------------------------------------------------


def test_a_truncated_image_is_a_502_and_nothing_is_stored(
    gateway: GatewayHandle, upstream: EmulatorHandle, workers: list[int]
) -> None:
    images = FAMILIES[ids(FAMILIES).index("images")]
    upstream.set_faults(truncate_bytes=200)
    error = openai_error(images.send(gateway), 502)
    assert "200 of" in error["message"]
    upstream.set_faults(content_type="application/json")  # an image under a JSON content type
    openai_error(images.send(gateway), 502)
    recovers(gateway, upstream, images, workers)


def test_an_oversized_image_is_refused_before_it_is_read(
    gateway: GatewayHandle, upstream: EmulatorHandle, workers: list[int]
) -> None:
    images = FAMILIES[ids(FAMILIES).index("images")]
    upstream.set_faults(pad_bytes=65 * 1024 * 1024)
    error = openai_error(images.send(gateway), 502)
    assert "larger than" in error["message"]
    recovers(gateway, upstream, images, workers)


def test_truncated_speech_ends_short_and_is_never_passed_off_as_whole(
    gateway: GatewayHandle, upstream: EmulatorHandle, workers: list[int]
) -> None:
    speech = Call("speech", "/audio/speech", {"model": "tts-1", "voice": "alloy", "input": "one two three four five",
                                              "response_format": "pcm"})
    whole = speech.send(gateway).content
    upstream.set_faults(cut_after=2)
    with pytest.raises(requests.exceptions.ChunkedEncodingError):
        speech.send(gateway)
    upstream.set_faults(content_type="text/html")  # audio under a wrong content type
    openai_error(speech.send(gateway), 502)
    recovers(gateway, upstream, speech, workers)
    assert whole


# ---- streams: faults after the first byte ----------------------------------------------------------------


def stream_events(reply: requests.Response) -> list[Any]:
    events = []
    for block in reply.text.split("\n\n"):
        data = [line[6:] for line in block.splitlines() if line.startswith("data: ")]
        if data:
            events.append("[DONE]" if data[0] == "[DONE]" else json.loads("\n".join(data)))
    return events


def ends_with_error_not_a_finish(events: list[Any]) -> None:
    assert events and isinstance(events[-1], dict), events[-3:]
    last = events[-1]
    error = last.get("error") if "error" in last else (last.get("response") or {}).get("error")
    assert error and error.get("message"), last
    assert "[DONE]" not in events
    finishes = {"response.completed", "response.incomplete", "speech.audio.done"}
    assert not any(isinstance(e, dict) and e.get("type") in finishes for e in events)
    assert not any(isinstance(e, dict) and e.get("choices") and e["choices"][0].get("finish_reason")
                   for e in events)


@pytest.mark.parametrize("call", STREAMS, ids=ids(STREAMS))
def test_a_stream_cut_after_some_tokens_ends_with_an_error_event(
    gateway: GatewayHandle, upstream: EmulatorHandle, call: Call, workers: list[int]
) -> None:
    upstream.set_faults(cut_after=2, tokens=10)
    reply = call.send(gateway)
    assert reply.status_code == 200
    ends_with_error_not_a_finish(stream_events(reply))
    assert run_calls(upstream) == 1  # a stream that began is never replayed
    recovers(gateway, upstream, call, workers)


@pytest.mark.parametrize("call", STREAMS[:3], ids=ids(STREAMS[:3]))
def test_a_malformed_stream_event_ends_with_an_error_event(
    gateway: GatewayHandle, upstream: EmulatorHandle, call: Call, workers: list[int]
) -> None:
    upstream.set_faults(malformed_json=True, tokens=6)
    reply = call.send(gateway)
    ends_with_error_not_a_finish(stream_events(reply))
    recovers(gateway, upstream, call, workers)


@pytest.mark.parametrize("call", [*STREAMS, TRANSCRIPTION_STREAM], ids=ids([*STREAMS, TRANSCRIPTION_STREAM]))
def test_a_stream_failing_before_its_first_byte_keeps_its_status(
    gateway: GatewayHandle, upstream: EmulatorHandle, call: Call, workers: list[int]
) -> None:
    upstream.set_faults(fail_status=429, fail_code=3040, retry_after=45)
    reply = call.send(gateway)
    openai_error(reply, 429)
    assert reply.headers["Retry-After"] == "45"
    upstream.set_faults(hang_ms=READ_TIMEOUT * 1000 + 3000)
    openai_error(call.send(gateway), 504)
    recovers(gateway, upstream, call, workers)


@pytest.mark.parametrize("call", [*STREAMS, TRANSCRIPTION_STREAM], ids=ids([*STREAMS, TRANSCRIPTION_STREAM]))
def test_slow_first_token_and_slow_streams_finish(
    gateway: GatewayHandle, upstream: EmulatorHandle, call: Call, workers: list[int]
) -> None:
    upstream.set_faults(ttft_ms=READ_TIMEOUT * 1000 - 500, token_delay_ms=300, tokens=4)
    reply = call.send(gateway)
    events = stream_events(reply)
    assert not any(isinstance(e, dict) and ("error" in e or e.get("type") == "error") for e in events), events[-1]
    assert events[-1] == "[DONE]" or events[-1].get("type") in ("response.completed", "speech.audio.done",
                                                                "transcript.text.done")
    recovers(gateway, upstream, call, workers)


@pytest.mark.parametrize("content_type", ["application/json", "text/html"])
@pytest.mark.parametrize("call", STREAMS, ids=ids(STREAMS))
def test_a_stream_under_a_wrong_content_type_is_a_502_before_its_first_byte(
    gateway: GatewayHandle, upstream: EmulatorHandle, call: Call, workers: list[int], content_type: str
) -> None:
    upstream.set_faults(content_type=content_type)
    openai_error(call.send(gateway), 502)
    recovers(gateway, upstream, call, workers)
