"""SSE streams of every style, and every fault control (headers, control API, CLI)."""

from __future__ import annotations

import json
import time

import pytest
import requests

from tests.support.emulator import EmulatorHandle, parse_sse, start_emulator

LLAMA33 = "@cf/meta/llama-3.3-70b-instruct-fp8-fast"
LLAMA31 = "@cf/meta/llama-3.1-8b-instruct"
SCOUT = "@cf/meta/llama-4-scout-17b-16e-instruct"
GLM = "@cf/zai-org/glm-4.7-flash"
TOOL = {
    "name": "get_weather",
    "description": "Weather",
    "parameters": {"type": "object", "properties": {
        "city": {"type": "string", "description": "c"}, "days": {"type": "integer", "description": "d"}}},
}


def chat(text: str, **extra: object) -> dict:
    return {"messages": [{"role": "user", "content": text}], **extra}


def stream(emu: EmulatorHandle, model: str, body: dict, headers: dict | None = None) -> list:
    response = emu.run(model, {**body, "stream": True}, headers=headers)
    assert response.status_code == 200, response.text
    assert response.headers["Content-Type"].startswith("text/event-stream")
    return parse_sse(response.text)


@pytest.mark.parametrize("model", [LLAMA33, LLAMA31, SCOUT])
def test_classic_stream(emu: EmulatorHandle, model: str) -> None:
    events = stream(emu, model, chat("Hello world"))
    *tokens, usage, done = events
    assert done == "[DONE]"
    assert [e["response"] for e in tokens] == ["Hello!", " You", " said:", " Hello", " world"]
    assert all(isinstance(e["p"], str) and e["p"] for e in tokens)
    assert usage == {"response": "", "usage": {"prompt_tokens": 2, "completion_tokens": 5, "total_tokens": 7}}
    assert "p" not in usage


def test_stream_padding_is_deterministic(emu: EmulatorHandle) -> None:
    assert stream(emu, LLAMA33, chat("x")) == stream(emu, LLAMA33, chat("x"))


def test_whole_tool_call_stream(emu: EmulatorHandle) -> None:
    events = stream(emu, LLAMA33, chat("Weather in Paris?", tools=[TOOL]))
    call = {"name": "get_weather", "arguments": {"city": "Paris", "days": 1}}
    assert events[0] == {"response": "", "tool_calls": [call]}
    assert "usage" in events[1] and events[2] == "[DONE]"


def test_delta_tool_call_stream(emu: EmulatorHandle) -> None:
    events = stream(emu, SCOUT, chat("Weather in Paris?", tools=[TOOL]))
    header, *middle, closer, usage, done = events
    [call] = header["tool_calls"]
    assert call["id"].startswith("chatcmpl-tool-") and call["type"] == "function" and call["index"] == 0
    assert call["function"] == {"name": "get_weather"}
    assert 2 <= len(middle) <= 3
    assert all(set(e["tool_calls"][0]) == {"index", "function"} for e in middle)
    arguments = "".join(e["tool_calls"][0]["function"]["arguments"] for e in middle)
    assert json.loads(arguments) == {"city": "Paris", "days": 1}
    end = {"id": None, "type": None, "index": 0, "function": {"name": None, "arguments": ""}}
    assert closer == {"tool_calls": [end]}
    assert usage["usage"]["completion_tokens"] > 0 and done == "[DONE]"


def test_glm_chunk_stream(emu: EmulatorHandle) -> None:
    events = stream(emu, GLM, chat("Hi you"))
    first, *content, final, done = events
    assert done == "[DONE]"
    assert len({e["id"] for e in events[:-1]}) == 1 and all(e["object"] == "chat.completion.chunk" for e in events[:-1])
    assert first["choices"][0]["delta"] == {"role": "assistant", "content": ""}
    assert "".join(e["choices"][0]["delta"]["content"] for e in content) == "Hello! You said: Hi you"
    assert all(e["choices"][0]["finish_reason"] is None for e in [first, *content])
    assert final["choices"][0] == {"index": 0, "delta": {}, "logprobs": None, "finish_reason": "stop"}
    assert final["usage"] == {"prompt_tokens": 2, "completion_tokens": 5, "total_tokens": 7}


def test_glm_tool_call_stream(emu: EmulatorHandle) -> None:
    tools = [{"type": "function", "function": TOOL}]
    events = stream(emu, GLM, chat("Weather in Rome", tools=tools))
    deltas = [e["choices"][0]["delta"] for e in events[1:-2]]
    assert deltas[0]["tool_calls"][0]["id"].startswith("call_")
    assert deltas[0]["tool_calls"][0]["function"] == {"name": "get_weather", "arguments": ""}
    assert all("id" not in d["tool_calls"][0] and d["tool_calls"][0]["index"] == 0 for d in deltas[1:])
    arguments = "".join(d["tool_calls"][0]["function"]["arguments"] for d in deltas)
    assert json.loads(arguments) == {"city": "Rome", "days": 1}
    assert events[-2]["choices"][0]["finish_reason"] == "tool_calls"


# ---- faults ------------------------------------------------------------------------


def test_ttft_header_delays_stream_and_json(emu: EmulatorHandle) -> None:
    started = time.monotonic()
    stream(emu, LLAMA33, chat("x"), headers={"x-emulator-ttft-ms": "300"})
    assert time.monotonic() - started >= 0.3
    started = time.monotonic()
    emu.run(LLAMA33, chat("x"), headers={"x-emulator-ttft-ms": "300"})
    assert time.monotonic() - started >= 0.3


def test_token_delay_runtime(emu: EmulatorHandle) -> None:
    emu.set_faults(token_delay_ms=50)
    started = time.monotonic()
    events = stream(emu, LLAMA33, chat("a b c d e"))  # 8 tokens -> 7 gaps
    assert len(events) == 10
    assert time.monotonic() - started >= 0.35
    started = time.monotonic()
    assert emu.run(LLAMA33, chat("a b c d e")).status_code == 200  # non-streamed: tokens x delay
    assert time.monotonic() - started >= 0.4


def test_stream_events_arrive_incrementally(emu: EmulatorHandle) -> None:
    headers = {**emu.headers, "x-emulator-token-delay-ms": "200"}
    with requests.post(emu.run_url(LLAMA33), json=chat("a b c", stream=True), headers=headers, stream=True,
                       timeout=10) as response:
        lines = response.iter_lines()
        started = time.monotonic()
        first = next(lines)
        first_at = time.monotonic() - started
        rest = b"".join(lines)
        total = time.monotonic() - started
    assert first.startswith(b"data: ") and b"[DONE]" in rest
    assert total - first_at >= 0.8  # later tokens came after the first one, not all at once


def test_fail_headers(emu: EmulatorHandle) -> None:
    response = emu.run(LLAMA33, chat("x"), headers={"x-emulator-fail-status": "503"})
    assert response.status_code == 503
    assert response.json()["errors"] == [{"code": 3043, "message": "Internal server error"}]
    response = emu.run(LLAMA33, chat("x"), headers={"x-emulator-fail-code": "3040"})
    assert response.status_code == 429
    assert response.json()["errors"] == [{"code": 3040, "message": "No more data centers to forward the request to"}]
    response = emu.run(LLAMA33, chat("x"), headers={
        "x-emulator-fail-status": "429", "x-emulator-fail-code": "3036", "x-emulator-fail-message": "quota",
        "x-emulator-retry-after": "7"})
    assert response.status_code == 429
    assert response.json()["errors"] == [{"code": 3036, "message": "quota"}]
    assert response.headers["Retry-After"] == "7"
    response = emu.run(LLAMA33, chat("x"), headers={"x-emulator-fail-code": "3007"})
    assert response.status_code == 408 and "Retry-After" not in response.headers
    assert emu.run(LLAMA33, chat("x")).status_code == 200


def test_runtime_fail_times_then_success(emu: EmulatorHandle) -> None:
    emu.set_faults(fail_status=503, fail_times=2, retry_after=1, ttft_ms=0)
    first, second, third = (emu.run(LLAMA33, chat("x")) for _ in range(3))
    assert [first.status_code, second.status_code, third.status_code] == [503, 503, 200]
    assert first.headers["Retry-After"] == "1"
    assert third.json()["result"]["response"] == "Hello! You said: x"
    assert len(emu.requests()) == 3


def test_header_fail_times_counts_per_fault(emu: EmulatorHandle) -> None:
    headers = {"x-emulator-fail-code": "3040", "x-emulator-fail-times": "1"}
    assert emu.run(LLAMA33, chat("x"), headers=headers).status_code == 429
    assert emu.run(LLAMA33, chat("x"), headers=headers).status_code == 200
    emu.clear_faults()  # resets the per-header counters
    assert emu.run(LLAMA33, chat("x"), headers=headers).status_code == 429


def test_header_overrides_runtime(emu: EmulatorHandle) -> None:
    emu.set_faults(fail_status=500)
    assert emu.run(LLAMA33, chat("x")).status_code == 500
    assert emu.run(LLAMA33, chat("x"), headers={"x-emulator-fail-code": "3040"}).status_code == 429
    emu.set_faults(tokens=2)
    out = emu.run(LLAMA33, chat("x"), headers={"x-emulator-tokens": "4"}).json()["result"]
    assert out["usage"]["completion_tokens"] == 4


def test_bad_fault_header_is_5006(emu: EmulatorHandle) -> None:
    response = emu.run(LLAMA33, chat("x"), headers={"x-emulator-ttft-ms": "soon"})
    assert response.status_code == 400 and response.json()["errors"][0]["code"] == 5006


def test_cut_after_breaks_the_stream(emu: EmulatorHandle) -> None:
    headers = {**emu.headers, "x-emulator-cut-after": "2"}
    body = chat("one two three four", stream=True)
    received: list[bytes] = []
    with (
        pytest.raises(requests.exceptions.ChunkedEncodingError),
        requests.post(emu.run_url(LLAMA33), json=body, headers=headers, stream=True, timeout=10) as response,
    ):
        for line in response.iter_lines():
            received.append(line)
    events = parse_sse(b"\n".join(received).decode())
    assert [e["response"] for e in events] == ["Hello!", " You"]
    assert emu.run(LLAMA33, chat("ok")).status_code == 200  # the server survives


def test_cut_after_runtime_on_glm(emu: EmulatorHandle) -> None:
    emu.set_faults(cut_after=1)
    received = bytearray()
    with (
        pytest.raises(requests.exceptions.ChunkedEncodingError),
        requests.post(emu.run_url(GLM), json=chat("x y", stream=True), headers=emu.headers, stream=True,
                      timeout=10) as response,
    ):
        for chunk in response.iter_content(chunk_size=None):
            received += chunk
    events = parse_sse(received.decode())
    assert len(events) == 2 and events[1]["choices"][0]["delta"] == {"content": "Hello!"}


def test_tokens_forces_length(emu: EmulatorHandle) -> None:
    events = stream(emu, LLAMA33, chat("a b", max_tokens=1000), headers={"x-emulator-tokens": "12"})
    tokens = [e["response"] for e in events[:-2]]
    assert len(tokens) == 12
    assert "".join(tokens) == "Hello! You said: a b Hello! You said: a b Hello! You"
    assert events[-2]["usage"]["completion_tokens"] == 12
    out = emu.run(GLM, chat("a b"), headers={"x-emulator-tokens": "700"}).json()["result"]
    assert out["usage"]["completion_tokens"] == 700 and out["choices"][0]["finish_reason"] == "stop"
    out = emu.run(LLAMA33, chat("a b"), headers={"x-emulator-tokens": "700"}).json()["result"]
    assert out["usage"]["completion_tokens"] == 256  # max_tokens still caps


def test_stream_as_json(emu: EmulatorHandle) -> None:
    response = emu.run(LLAMA33, chat("x", stream=True), headers={"x-emulator-stream-as-json": "true"})
    assert response.headers["Content-Type"].startswith("application/json")
    assert response.json()["result"]["response"] == "Hello! You said: x"
    emu.set_faults(stream_as_json=True)
    assert emu.run(GLM, chat("x", stream=True)).json()["result"]["object"] == "chat.completion"


def test_cli_faults() -> None:
    with start_emulator("--fail-status", "500", "--fail-code", "3043", "--retry-after", "3") as emu:
        response = emu.run(LLAMA33, chat("x"))
        assert response.status_code == 500 and response.headers["Retry-After"] == "3"
        assert response.json()["errors"][0]["code"] == 3043
        emu.set_faults(fail_code=3040)  # the runtime layer beats the CLI ...
        assert emu.run(LLAMA33, chat("x")).status_code == 429
        emu.set_faults(fail_code=3040, fail_times=0)  # ... unless it is used up
        assert emu.run(LLAMA33, chat("x")).status_code == 500
    with start_emulator("--tokens", "3", "--ttft-ms", "200", "--token-delay-ms", "10", "--cut-after", "2") as emu:
        started = time.monotonic()
        out = emu.run(LLAMA33, chat("a b c d")).json()["result"]
        assert time.monotonic() - started >= 0.2
        assert out["response"] == "Hello! You said:"
        with (
            pytest.raises(requests.exceptions.ChunkedEncodingError),
            requests.post(emu.run_url(LLAMA33), json=chat("x", stream=True), headers=emu.headers, stream=True,
                          timeout=10) as response,
        ):
            response.content  # noqa: B018 - reading the body is the point
