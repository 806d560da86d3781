"""Chat Completions end to end: gunicorn + emulator + the official openai SDK."""

from __future__ import annotations

import base64
import json
import time
from typing import Any

import openai
import pytest
import requests
from pydantic import BaseModel

from tests.support.emulator import EmulatorHandle, parse_sse
from tests.support.gateway import GatewayHandle, start_gateway
from tests.support.openai_spec import assert_valid

CLASSIC = "gpt-3.5-turbo"  # -> @cf/meta/llama-3.3-70b-instruct-fp8-fast (classic output)
OPENAI_STYLE = "gpt-4o-mini"  # -> @cf/zai-org/glm-4.7-flash (OpenAI-style output)
SCOUT = "gpt-4o"  # -> @cf/meta/llama-4-scout (vision parts, OpenAI-like tool deltas)
JSON_IN_STREAM = "@cf/openai/gpt-oss-120b"  # answers stream:true with plain JSON
MODELS = [CLASSIC, OPENAI_STYLE, SCOUT, JSON_IN_STREAM]
WEATHER = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Current weather",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
    },
}
USER = [{"role": "user", "content": "hello world"}]


def raw_chat(gateway: GatewayHandle, **body: Any) -> requests.Response:
    return requests.post(f"{gateway.base_url}/chat/completions", json=body, timeout=30,
                         headers={"Authorization": f"Bearer {gateway.api_key}"})


@pytest.mark.parametrize("model", MODELS)
def test_non_streamed_chat(gateway: GatewayHandle, model: str) -> None:
    reply = gateway.client().chat.completions.create(model=model, messages=USER)
    choice = reply.choices[0]
    assert choice.message.content == "Hello! You said: hello world"
    assert choice.finish_reason == "stop" and choice.message.role == "assistant"
    assert reply.model == model and reply.id.startswith("chatcmpl-") and reply.object == "chat.completion"
    assert reply.usage.completion_tokens == 5 and reply.usage.total_tokens == reply.usage.prompt_tokens + 5
    raw = raw_chat(gateway, model=model, messages=USER)
    assert raw.headers["x-workers-ai-model"].startswith("@cf/")
    assert_valid("CreateChatCompletionResponse", raw.json())


@pytest.mark.parametrize("model", MODELS)
def test_streamed_chat_chunks_follow_the_openai_sequence(gateway: GatewayHandle, model: str) -> None:
    raw = raw_chat(gateway, model=model, messages=USER, stream=True, stream_options={"include_usage": True})
    assert raw.headers["Content-Type"].startswith("text/event-stream")
    assert raw.headers["Cache-Control"] == "no-cache" and raw.headers["X-Accel-Buffering"] == "no"
    events = parse_sse(raw.text)
    assert events[-1] == "[DONE]"
    chunks = events[:-1]
    for chunk in chunks:
        assert_valid("CreateChatCompletionStreamResponse", chunk)
    assert len({c["id"] for c in chunks}) == 1
    assert chunks[0]["choices"][0]["delta"]["role"] == "assistant"
    assert all("role" not in c["choices"][0]["delta"] for c in chunks[1:] if c["choices"])
    text = "".join(c["choices"][0]["delta"].get("content") or "" for c in chunks if c["choices"])
    assert text == "Hello! You said: hello world"
    assert chunks[-2]["choices"][0]["finish_reason"] == "stop" and chunks[-2]["choices"][0]["delta"] == {}
    assert chunks[-1]["choices"] == [] and chunks[-1]["usage"]["completion_tokens"] == 5
    if model != JSON_IN_STREAM:
        assert len([c for c in chunks if c["choices"] and c["choices"][0]["delta"].get("content")]) == 5


def test_stream_helper_accumulates_text(gateway: GatewayHandle) -> None:
    with gateway.client().chat.completions.stream(model=CLASSIC, messages=USER) as stream:
        deltas = [e.delta for e in stream if e.type == "content.delta"]
        final = stream.get_final_completion()
    assert "".join(deltas) == final.choices[0].message.content == "Hello! You said: hello world"


@pytest.mark.parametrize("model", MODELS)
def test_tool_call_round_trip(gateway: GatewayHandle, model: str) -> None:
    client = gateway.client()
    messages: list[Any] = [{"role": "user", "content": "What is the weather in Paris?"}]
    with client.chat.completions.stream(model=model, messages=messages, tools=[WEATHER]) as stream:
        for _ in stream:
            pass
        final = stream.get_final_completion()
    choice = final.choices[0]
    assert choice.finish_reason == "tool_calls"
    (call,) = choice.message.tool_calls
    assert call.id.startswith("call_") and call.function.name == "get_weather"
    assert json.loads(call.function.arguments) == {"city": "Paris"}
    messages += [choice.message.model_dump(exclude_none=True, exclude={"parsed"}),
                 {"role": "tool", "tool_call_id": call.id, "content": "sunny, 21C"}]
    answer = client.chat.completions.create(model=model, messages=messages, tools=[WEATHER])
    assert answer.choices[0].message.content == "The tool returned: sunny, 21C"
    assert answer.choices[0].finish_reason == "stop"


@pytest.mark.parametrize("model", [CLASSIC, OPENAI_STYLE, SCOUT])
def test_parallel_tool_calls_stream_with_indexes(gateway: GatewayHandle, model: str) -> None:
    other = {"type": "function", "function": {"name": "get_time", "parameters": {"type": "object", "properties": {
        "zone": {"type": "string"}}}}}
    prompt = [{"role": "user", "content": "parallel please, Tokyo"}]
    with gateway.client().chat.completions.stream(model=model, messages=prompt, tools=[WEATHER, other]) as stream:
        for _ in stream:
            pass
        calls = stream.get_final_completion().choices[0].message.tool_calls
    assert [c.function.name for c in calls] == ["get_weather", "get_time"]
    assert len({c.id for c in calls}) == 2
    single = gateway.client().chat.completions.create(model=model, messages=prompt, tools=[WEATHER, other],
                                                      parallel_tool_calls=False)
    assert [c.function.name for c in single.choices[0].message.tool_calls] == ["get_weather"]


def test_non_streamed_tool_call_body_is_valid(gateway: GatewayHandle) -> None:
    raw = raw_chat(gateway, model=CLASSIC, messages=[{"role": "user", "content": "weather in Oslo"}], tools=[WEATHER])
    body = raw.json()
    assert_valid("CreateChatCompletionResponse", body)
    message = body["choices"][0]["message"]
    assert message["content"] is None and json.loads(message["tool_calls"][0]["function"]["arguments"]) == {
        "city": "Oslo"}


class Weather(BaseModel):
    city: str
    temperature: int
    sunny: bool


@pytest.mark.parametrize("model", [CLASSIC, OPENAI_STYLE])
def test_parse_with_a_pydantic_response_format(gateway: GatewayHandle, model: str) -> None:
    reply = gateway.client().chat.completions.parse(model=model, messages=[{"role": "user", "content": "json"}],
                                                    response_format=Weather)
    assert reply.choices[0].message.parsed == Weather(city="example", temperature=1, sunny=True)


def test_json_object_mode(gateway: GatewayHandle) -> None:
    reply = gateway.client().chat.completions.create(
        model=CLASSIC, messages=[{"role": "user", "content": "give json"}], response_format={"type": "json_object"})
    assert json.loads(reply.choices[0].message.content) == {"answer": "Hello! You said: give json"}


PNG = base64.b64encode(b"\x89PNG\r\n\x1a\n" + bytes(92)).decode()


@pytest.mark.parametrize("model", [SCOUT, "@cf/meta/llama-3.2-11b-vision-instruct"])
def test_vision_with_a_data_url(gateway: GatewayHandle, upstream: EmulatorHandle, model: str) -> None:
    content = [{"type": "text", "text": "What is this?"},
               {"type": "image_url", "image_url": {"url": f"data:image/png;base64,{PNG}"}}]
    reply = gateway.client().chat.completions.create(model=model, messages=[{"role": "user", "content": content}])
    assert reply.choices[0].message.content == "I see an image of 100 bytes."


def test_image_to_a_text_only_model_is_400(gateway: GatewayHandle) -> None:
    content = [{"type": "image_url", "image_url": {"url": f"data:image/png;base64,{PNG}"}}]
    with pytest.raises(openai.BadRequestError) as caught:
        gateway.client().chat.completions.create(model=CLASSIC, messages=[{"role": "user", "content": content}])
    assert caught.value.code == "image_not_supported"


def test_image_url_to_a_private_address_is_400(gateway: GatewayHandle, upstream: EmulatorHandle) -> None:
    content = [{"type": "image_url", "image_url": {"url": f"{upstream.url}/__emulator/health"}}]
    with pytest.raises(openai.BadRequestError) as caught:
        gateway.client().chat.completions.create(model=SCOUT, messages=[{"role": "user", "content": content}])
    assert caught.value.code == "invalid_image_url"
    assert upstream.requests() == []


@pytest.mark.parametrize("stream", [False, True])
def test_n_choices(gateway: GatewayHandle, stream: bool) -> None:
    client = gateway.client()
    if stream:
        with client.chat.completions.stream(model=CLASSIC, messages=USER, n=2) as s:
            for _ in s:
                pass
            choices = s.get_final_completion().choices
    else:
        reply = client.chat.completions.create(model=CLASSIC, messages=USER, n=2)
        single = client.chat.completions.create(model=CLASSIC, messages=USER)
        assert reply.usage.prompt_tokens == single.usage.prompt_tokens  # the prompt is counted once
        assert reply.usage.completion_tokens == 2 * single.usage.completion_tokens
        choices = reply.choices
    assert [c.index for c in choices] == [0, 1]
    assert all(c.message.content == "Hello! You said: hello world" for c in choices)


@pytest.mark.parametrize("model", [CLASSIC, OPENAI_STYLE])
@pytest.mark.parametrize("stream", [False, True])
def test_stop_sequences(gateway: GatewayHandle, model: str, stream: bool) -> None:
    client = gateway.client()
    kwargs = {"model": model, "messages": USER, "stop": ["wor", "xyz"]}
    if stream:
        chunks = list(client.chat.completions.create(stream=True, **kwargs))
        text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
        finish = [c.choices[0].finish_reason for c in chunks if c.choices and c.choices[0].finish_reason]
    else:
        choice = client.chat.completions.create(**kwargs).choices[0]
        text, finish = choice.message.content, [choice.finish_reason]
    assert text == "Hello! You said: hello "
    assert finish == ["stop"]


@pytest.mark.parametrize("model", [CLASSIC, OPENAI_STYLE])
def test_finish_reason_length(gateway: GatewayHandle, model: str) -> None:
    client = gateway.client()
    choice = client.chat.completions.create(model=model, messages=USER, max_tokens=3).choices[0]
    assert choice.finish_reason == "length" and choice.message.content == "Hello! You said:"
    chunks = list(client.chat.completions.create(model=model, messages=USER, max_completion_tokens=2, stream=True))
    assert [c.choices[0].finish_reason for c in chunks if c.choices][-1] == "length"


def test_default_max_tokens_replaces_the_upstream_256(gateway: GatewayHandle, upstream: EmulatorHandle) -> None:
    gateway.client().chat.completions.create(model=CLASSIC, messages=USER)
    assert upstream.requests()[-1]["json"]["max_tokens"] == 4096


@pytest.mark.parametrize(
    ("field", "value"),
    [("logprobs", True), ("top_logprobs", 2), ("logit_bias", {"1": 5}), ("n", 20),
     ("modalities", ["text", "audio"]), ("functions", [{"name": "f", "parameters": {}}]),
     ("audio", {"voice": "alloy", "format": "mp3"})],
)
def test_unsupported_fields_are_400_naming_the_field(gateway: GatewayHandle, field: str, value: Any) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        gateway.client().chat.completions.create(model=CLASSIC, messages=USER, extra_body={field: value})
    assert caught.value.param == field


def test_extra_body_and_workers_ai_extras_pass(gateway: GatewayHandle, upstream: EmulatorHandle) -> None:
    gateway.client().chat.completions.create(model=CLASSIC, messages=USER, seed=42, temperature=0.2,
                                             extra_body={"top_k": 5, "repetition_penalty": 1.1, "whatever": 1})
    sent = upstream.requests()[-1]["json"]
    assert sent["top_k"] == 5 and sent["repetition_penalty"] == 1.1 and sent["seed"] == 42
    assert "whatever" not in sent


def test_upstream_error_before_first_byte_keeps_its_status(gateway: GatewayHandle, upstream: EmulatorHandle) -> None:
    upstream.set_faults(fail_status=429, fail_code=3040, retry_after=30)
    with pytest.raises(openai.RateLimitError) as caught:
        gateway.client(max_retries=0).chat.completions.create(model=CLASSIC, messages=USER, stream=True)
    assert caught.value.response.headers["retry-after"] == "30"
    upstream.set_faults(fail_status=400, fail_code=5007)
    with pytest.raises(openai.NotFoundError) as caught:
        gateway.client().chat.completions.create(model="@cf/meta/llama-9", messages=USER)
    assert caught.value.code == "model_not_found"


def test_transient_capacity_errors_are_retried_invisibly(gateway: GatewayHandle, upstream: EmulatorHandle) -> None:
    upstream.set_faults(fail_status=429, fail_code=3040, fail_times=1)
    reply = gateway.client(max_retries=0).chat.completions.create(model=CLASSIC, messages=USER)
    assert reply.choices[0].message.content == "Hello! You said: hello world"
    assert len(upstream.requests()) == 2


def test_mid_stream_failure_is_an_error_event_not_a_fake_stop(gateway: GatewayHandle,
                                                              upstream: EmulatorHandle) -> None:
    upstream.set_faults(cut_after=2)
    raw = raw_chat(gateway, model=CLASSIC, messages=USER, stream=True)
    events = parse_sse(raw.text)
    assert "error" in events[-1] and events[-1]["error"]["code"] == "upstream_error"
    assert "[DONE]" not in events
    assert not any(c.get("choices") and c["choices"][0].get("finish_reason") for c in events[:-1])
    with pytest.raises(openai.APIError):
        for _ in gateway.client().chat.completions.create(model=CLASSIC, messages=USER, stream=True):
            pass


def test_tokens_pass_through_as_they_arrive(gateway: GatewayHandle, upstream: EmulatorHandle) -> None:
    upstream.set_faults(token_delay_ms=300)
    started = time.monotonic()
    arrivals = []
    for chunk in gateway.client().chat.completions.create(model=CLASSIC, messages=USER, stream=True):
        if chunk.choices and chunk.choices[0].delta.content:
            arrivals.append(time.monotonic() - started)
    assert len(arrivals) == 5
    assert arrivals[-1] - arrivals[0] > 0.9  # spread out as generated, not delivered in one burst


@pytest.mark.parametrize("stream", [False, True])
def test_finished_requests_reuse_the_upstream_connection(
    gateway: GatewayHandle, upstream: EmulatorHandle, stream: bool
) -> None:
    """Upstream is HTTPS: a connection closed after every stream would cost each one a TLS handshake."""
    for _ in range(3):
        reply = gateway.client().chat.completions.create(model=CLASSIC, messages=USER, stream=stream)
        if stream:
            assert [c for c in reply][-1].choices[0].finish_reason == "stop"
    peers = {entry["peer"] for entry in upstream.requests() if "/ai/run/" in entry["path"]}
    assert len(peers) == 1, peers


def test_a_stream_ends_at_done_even_if_the_upstream_body_stays_open(
    gateway: GatewayHandle, upstream: EmulatorHandle
) -> None:
    upstream.set_faults(hold_after_done_ms=5000)
    started = time.monotonic()
    chunks = list(gateway.client().chat.completions.create(model=CLASSIC, messages=USER, stream=True))
    assert chunks[-1].choices[0].finish_reason == "stop"
    assert time.monotonic() - started < 2.5  # not held for the upstream's 5 s


@pytest.mark.parametrize("stream", [True, False])
def test_gpt_oss_answering_a_stream_with_an_empty_result_is_asked_again(
    gateway: GatewayHandle, upstream: EmulatorHandle, stream: bool
) -> None:
    upstream.set_faults(empty_when_streamed=True)
    client = gateway.client()
    if stream:
        chunks = list(client.chat.completions.create(model=JSON_IN_STREAM, messages=USER, stream=True))
        text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    else:
        text = client.chat.completions.create(model=JSON_IN_STREAM, messages=USER).choices[0].message.content
    assert text == "Hello! You said: hello world"
    sent = [bool(entry["json"].get("stream")) for entry in upstream.requests() if "/ai/run/" in entry["path"]]
    assert sent == ([True, False] if stream else [False])


@pytest.mark.parametrize("faults", [{"ttft_ms": 1000}, {"token_delay_ms": 600}])
def test_heartbeat_comments_while_the_upstream_is_silent(
    heartbeat_gateway: GatewayHandle, upstream: EmulatorHandle, faults: dict[str, int]
) -> None:
    upstream.set_faults(**faults)
    raw = raw_chat(heartbeat_gateway, model=CLASSIC, messages=USER, stream=True)
    # One per 0.2 s of silence: at least two, and not a flood (a worker once sent thousands).
    assert 2 <= raw.text.count(": ping\n\n") <= 40
    body = raw.text.replace(": ping\n\n", "")
    assert parse_sse(body)[-1] == "[DONE]"


def test_an_upstream_silent_past_the_read_timeout_ends_the_stream_despite_heartbeats(
    emulator: EmulatorHandle, upstream: EmulatorHandle
) -> None:
    """Heartbeats keep a client's connection alive through a slow model, not through a dead one: a
    stream whose upstream sends nothing for the read timeout ends with an error event, as before."""
    upstream.set_faults(token_delay_ms=4000)
    with start_gateway(emulator, SSE_HEARTBEAT_SECONDS="0.2", UPSTREAM_READ_TIMEOUT_SECONDS="1") as gateway:
        started = time.monotonic()
        raw = raw_chat(gateway, model=CLASSIC, messages=USER, stream=True)
        assert time.monotonic() - started < 3.5
    assert 2 <= raw.text.count(": ping\n\n") <= 10
    events = parse_sse(raw.text.replace(": ping\n\n", ""))
    assert "error" in events[-1] and events[-1]["error"]["code"] == "upstream_error"
    assert "[DONE]" not in events


def test_client_leaving_during_the_wait_for_the_first_token_ends_the_request(
    heartbeat_gateway: GatewayHandle, upstream: EmulatorHandle
) -> None:
    upstream.set_faults(ttft_ms=20_000)
    request_id = "disconnect-before-first-token"
    with requests.post(f"{heartbeat_gateway.base_url}/chat/completions", stream=True, timeout=30,
                       json={"model": CLASSIC, "messages": USER, "stream": True},
                       headers={"Authorization": f"Bearer {heartbeat_gateway.api_key}",
                                "X-Request-ID": request_id}) as r:
        assert next(r.iter_lines()) == b": ping"
    line = _wait_for_log_line(heartbeat_gateway, request_id)
    assert line["duration_ms"] < 10_000


def test_client_disconnect_stops_the_stream(gateway: GatewayHandle, upstream: EmulatorHandle) -> None:
    upstream.set_faults(token_delay_ms=50, tokens=400)  # a 20-second stream
    request_id = "disconnect-test-1"
    with requests.post(f"{gateway.base_url}/chat/completions", stream=True, timeout=30,
                       json={"model": CLASSIC, "messages": USER, "stream": True},
                       headers={"Authorization": f"Bearer {gateway.api_key}", "X-Request-ID": request_id}) as r:
        lines = r.iter_lines()
        for _ in range(6):
            next(lines)
    line = _wait_for_log_line(gateway, request_id)
    assert line["duration_ms"] < 10_000


def _wait_for_log_line(gateway: GatewayHandle, request_id: str) -> dict[str, Any]:
    """The request's log line, written when its response is closed."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        for text in gateway.log_text().splitlines():
            if request_id in text and text.startswith("{"):
                return json.loads(text)
        time.sleep(0.1)
    raise AssertionError("the gateway kept streaming after the client left")


@pytest.mark.parametrize("model", ["text-embedding-3-small", "@cf/baai/bge-m3"])
def test_chat_with_an_embedding_model_is_400_naming_model(gateway: GatewayHandle, model: str) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        gateway.client().chat.completions.create(model=model, messages=USER)
    assert caught.value.param == "model" and caught.value.code == "invalid_model"
    with pytest.raises(openai.BadRequestError):
        gateway.client().completions.create(model=model, prompt="x")


def test_a_streamed_tool_call_accumulates_to_the_non_streamed_message(gateway: GatewayHandle) -> None:
    """The first delta's content is null when the model calls a tool, as OpenAI's is, so the SDK's
    accumulated stream equals the non-streamed answer."""
    tools = [{"type": "function", "function": {"name": "get_weather", "parameters": {
        "type": "object", "properties": {"city": {"type": "string"}}}}}]
    client = gateway.client()
    whole = client.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "Paris"}],
                                           tools=tools)
    with client.chat.completions.stream(model="gpt-4o-mini", messages=[{"role": "user", "content": "Paris"}],
                                        tools=tools) as stream:
        streamed = stream.get_final_completion()
    assert whole.choices[0].message.content is None
    assert streamed.choices[0].message.content is None
    assert streamed.choices[0].message.tool_calls[0].function.arguments == (
        whole.choices[0].message.tool_calls[0].function.arguments)
