"""/v1/chat/completions in-process: what an OpenAI client sees for a mocked Workers AI."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.service.conftest import AUTH, LLAMA, Gateway, envelope, failure, sse, sse_payloads
from tests.unit.factories import run_url

WEATHER_TOOL = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Weather for a city",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
    },
}


def chat(model: str = LLAMA, **fields: Any) -> dict[str, Any]:
    return {"model": model, "messages": [{"role": "user", "content": "Say hi"}], **fields}


def test_classic_reply_becomes_a_chat_completion(gateway: Gateway) -> None:
    gateway.upstream.post(run_url(LLAMA), json=envelope(
        {"response": "hi", "usage": {"prompt_tokens": 12, "completion_tokens": 3, "total_tokens": 15}}
    ))
    reply = gateway.post("/v1/chat/completions", chat())
    assert reply.status_code == 200, reply.get_json()
    body = reply.get_json()
    assert body["object"] == "chat.completion"
    assert body["id"].startswith("chatcmpl-")
    assert body["model"] == LLAMA
    assert body["choices"] == [{
        "index": 0,
        "message": {"role": "assistant", "content": "hi", "refusal": None},
        "logprobs": None,
        "finish_reason": "stop",
    }]
    assert body["usage"] == {"prompt_tokens": 12, "completion_tokens": 3, "total_tokens": 15}
    assert reply.headers["x-workers-ai-model"] == LLAMA
    sent = json.loads(gateway.runs(LLAMA)[0].request.body)
    assert sent["messages"] == [{"role": "user", "content": "Say hi"}]
    assert sent["max_tokens"] == 4096  # the configured default when the client sets none
    assert "stream" not in sent


def test_usage_reaches_the_access_log_line(gateway: Gateway) -> None:
    gateway.upstream.post(run_url(LLAMA), json=envelope(
        {"response": "hi", "usage": {"prompt_tokens": 12, "completion_tokens": 3, "total_tokens": 15}}
    ))
    reply = gateway.post("/v1/chat/completions", chat(), headers={"x-request-id": "req-usage-1"})
    reply.close()  # the access line is written when the response is closed
    [line] = gateway.logs.events("request", logger="openai_compat.access")
    assert line["request_id"] == "req-usage-1"
    assert line["status"] == 200 and line["path"] == "/v1/chat/completions"
    assert (line["prompt_tokens"], line["completion_tokens"]) == (12, 3)
    assert line["workers_ai_model"] == LLAMA


def test_a_streams_usage_reaches_its_access_log_line(gateway: Gateway) -> None:
    gateway.upstream.post(
        run_url(LLAMA),
        body=sse({"response": "a"}, {"response": "", "usage": {"prompt_tokens": 9, "completion_tokens": 4}}),
        content_type="text/event-stream",
    )
    reply = gateway.post("/v1/chat/completions", chat(stream=True))
    reply.get_data()
    reply.close()
    [line] = gateway.logs.events("request", logger="openai_compat.access")
    assert (line["prompt_tokens"], line["completion_tokens"]) == (9, 4)
    assert line["stream"] is True


def test_missing_usage_is_estimated_and_never_zero(gateway: Gateway) -> None:
    gateway.upstream.post(run_url(LLAMA), json=envelope({"response": "Hello there, friend."}))
    usage = gateway.post("/v1/chat/completions", chat()).get_json()["usage"]
    assert usage["prompt_tokens"] > 0 and usage["completion_tokens"] > 0
    assert usage["total_tokens"] == usage["prompt_tokens"] + usage["completion_tokens"]


def test_streamed_reply_is_role_content_finish_done(gateway: Gateway) -> None:
    gateway.upstream.post(
        run_url(LLAMA),
        body=sse({"response": "a"}, {"response": "b"}),
        content_type="text/event-stream",
    )
    reply = gateway.post("/v1/chat/completions", chat(stream=True))
    assert reply.status_code == 200
    assert reply.mimetype == "text/event-stream"
    assert reply.headers["x-workers-ai-model"] == LLAMA
    events = sse_payloads(reply.get_data())
    assert events[-1] == "[DONE]"
    chunks = events[:-1]
    assert all(c["object"] == "chat.completion.chunk" for c in chunks)
    assert len({c["id"] for c in chunks}) == 1
    deltas = [c["choices"][0]["delta"] for c in chunks]
    assert deltas[0]["role"] == "assistant"
    assert "".join(d.get("content") or "" for d in deltas) == "ab"
    assert all("role" not in d for d in deltas[1:])
    assert deltas[-1] == {} and chunks[-1]["choices"][0]["finish_reason"] == "stop"
    assert all(c["choices"][0]["finish_reason"] is None for c in chunks[:-1])
    assert json.loads(gateway.runs(LLAMA)[0].request.body)["stream"] is True


def test_stream_without_include_usage_has_no_usage_chunk(gateway: Gateway) -> None:
    gateway.upstream.post(run_url(LLAMA), body=sse({"response": "a"}), content_type="text/event-stream")
    events = sse_payloads(gateway.post("/v1/chat/completions", chat(stream=True)).get_data())
    assert all("usage" not in e for e in events[:-1])


def test_stream_include_usage_ends_with_upstream_usage(gateway: Gateway) -> None:
    gateway.upstream.post(
        run_url(LLAMA),
        body=sse({"response": "a"}, {"response": "", "usage": {"prompt_tokens": 7, "completion_tokens": 1}}),
        content_type="text/event-stream",
    )
    body = chat(stream=True, stream_options={"include_usage": True})
    events = sse_payloads(gateway.post("/v1/chat/completions", body).get_data())
    assert events[-1] == "[DONE]"
    usage_chunk = events[-2]
    assert usage_chunk["choices"] == []
    assert usage_chunk["usage"] == {"prompt_tokens": 7, "completion_tokens": 1, "total_tokens": 8}


WHOLE_CALL = [{"response": "", "tool_calls": [{"name": "get_weather", "arguments": {"city": "Paris"}}]}]
DELTA_CALL = [
    {"tool_calls": [{"index": 0, "id": "call_abc", "function": {"name": "get_weather", "arguments": ""}}]},
    {"tool_calls": [{"index": 0, "function": {"arguments": '{"city":'}}]},
    {"tool_calls": [{"index": 0, "function": {"arguments": '"Paris"}'}}]},
]


@pytest.mark.parametrize("upstream_events", [WHOLE_CALL, DELTA_CALL], ids=["whole", "deltas"])
def test_streamed_tool_call_without_upstream_usage_counts_its_arguments(
    gateway: Gateway, upstream_events: list[dict[str, Any]]
) -> None:
    gateway.upstream.post(run_url(LLAMA), body=sse(*upstream_events), content_type="text/event-stream")
    body = chat(stream=True, stream_options={"include_usage": True}, tools=[WEATHER_TOOL])
    events = sse_payloads(gateway.post("/v1/chat/completions", body).get_data())
    assert events[-1] == "[DONE]"
    chunks = [e for e in events[:-1] if e["choices"]]
    calls = [c for chunk in chunks for c in chunk["choices"][0]["delta"].get("tool_calls") or []]
    assert calls[0]["id"].startswith("call_") and calls[0]["function"]["name"] == "get_weather"
    assert all("id" not in c for c in calls[1:])
    assert json.loads("".join(c["function"]["arguments"] for c in calls)) == {"city": "Paris"}
    assert chunks[-1]["choices"][0]["finish_reason"] == "tool_calls"
    usage = events[-2]["usage"]
    assert usage["completion_tokens"] > 0
    assert usage["total_tokens"] == usage["prompt_tokens"] + usage["completion_tokens"]


def test_tool_call_answer_non_streamed(gateway: Gateway) -> None:
    gateway.upstream.post(run_url(LLAMA), json=envelope(
        {"response": None, "tool_calls": [{"name": "get_weather", "arguments": {"city": "Paris"}}]}
    ))
    body = gateway.post("/v1/chat/completions", chat(tools=[WEATHER_TOOL])).get_json()
    choice = body["choices"][0]
    assert choice["finish_reason"] == "tool_calls"
    assert choice["message"]["content"] is None
    [call] = choice["message"]["tool_calls"]
    assert call["type"] == "function" and call["id"].startswith("call_")
    assert json.loads(call["function"]["arguments"]) == {"city": "Paris"}
    assert body["usage"]["completion_tokens"] > 0


def test_upstream_failure_mid_stream_is_an_in_band_error_without_done(gateway: Gateway) -> None:
    broken = b'data: {"response":"a"}\n\ndata: {"resp'  # cut off, no [DONE]
    gateway.upstream.post(run_url(LLAMA), body=broken, content_type="text/event-stream")
    events = sse_payloads(gateway.post("/v1/chat/completions", chat(stream=True)).get_data())
    assert "[DONE]" not in events
    assert events[-1]["error"]["type"] == "server_error"
    assert all(c.get("choices", [{}])[0].get("finish_reason") is None for c in events[:-1])


def test_upstream_429_is_a_429_with_retry_after(gateway: Gateway) -> None:
    gateway.upstream.post(run_url(LLAMA), json=failure(3040, "No more data centers"), status=429,
                          headers={"Retry-After": "120"})
    reply = gateway.post("/v1/chat/completions", chat())
    assert reply.status_code == 429
    assert reply.headers["Retry-After"] == "120"
    error = reply.get_json()["error"]
    assert error["type"] == "requests" and error["code"] == "rate_limit_exceeded"
    assert len(gateway.runs(LLAMA)) == 1  # a wait beyond the retry budget is not waited for


def test_streamed_request_refused_upstream_keeps_its_status(gateway: Gateway) -> None:
    gateway.upstream.post(run_url(LLAMA), json=failure(3040, "busy"), status=429, headers={"Retry-After": "60"})
    reply = gateway.post("/v1/chat/completions", chat(stream=True))
    assert reply.status_code == 429
    assert reply.mimetype == "application/json"
    assert reply.headers["Retry-After"] == "60"


def test_unknown_model_name_is_404_model_not_found(gateway: Gateway) -> None:
    reply = gateway.post("/v1/chat/completions", chat(model="gpt-nonexistent"))
    assert reply.status_code == 404
    error = reply.get_json()["error"]
    assert error["code"] == "model_not_found" and error["param"] == "model"
    assert "gpt-nonexistent" in error["message"]
    assert gateway.runs() == []


def test_model_workers_ai_does_not_serve_is_404(gateway: Gateway) -> None:
    model = "@cf/nobody/no-such-model"
    gateway.upstream.post(run_url(model), json=failure(5007, "No such model"), status=400)
    reply = gateway.post("/v1/chat/completions", chat(model=model))
    assert reply.status_code == 404
    assert reply.get_json()["error"]["code"] == "model_not_found"


def test_alias_runs_its_workers_ai_model_and_echoes_the_alias(gateway: Gateway) -> None:
    gateway.upstream.post(run_url(LLAMA), json=envelope({"response": "hi"}))
    reply = gateway.post("/v1/chat/completions", chat(model="gpt-4o-mini"))
    assert reply.status_code == 200
    assert reply.get_json()["model"] == "gpt-4o-mini"
    assert reply.headers["x-workers-ai-model"] == LLAMA
    assert len(gateway.runs(LLAMA)) == 1


def test_unversioned_path_serves_the_same_endpoint(gateway: Gateway) -> None:
    gateway.upstream.post(run_url(LLAMA), json=envelope({"response": "hi"}))
    reply = gateway.post("/chat/completions", chat())
    assert reply.status_code == 200 and reply.get_json()["choices"][0]["message"]["content"] == "hi"


def test_unknown_fields_are_logged_by_name_never_by_value(gateway: Gateway) -> None:
    gateway.upstream.post(run_url(LLAMA), json=envelope({"response": "hi"}))
    body = chat(foo={"secret": "s3cr3t-value-xyz"})
    body["messages"][0]["bar"] = "another-s3cr3t"
    reply = gateway.post("/v1/chat/completions", body)
    assert reply.status_code == 200
    reply.close()
    [line] = gateway.logs.events("ignored_fields", logger="openai_compat.requests")
    assert line["fields"] == ["foo", "messages[0].bar"]
    assert line["path"] == "/v1/chat/completions"
    assert "s3cr3t" not in gateway.logs.text()


def test_a_request_without_unknown_fields_logs_no_ignored_fields(gateway: Gateway) -> None:
    gateway.upstream.post(run_url(LLAMA), json=envelope({"response": "hi"}))
    assert gateway.post("/v1/chat/completions", chat()).status_code == 200
    assert gateway.logs.events("ignored_fields") == []


@pytest.mark.parametrize(
    "catalogue_records", [[{"name": "@cf/baai/bge-m3", "task": {"name": "Text Embeddings"}}]]
)
def test_a_model_of_another_task_is_400_naming_model(gateway: Gateway) -> None:
    reply = gateway.post("/v1/chat/completions", chat(model="@cf/baai/bge-m3"))
    assert reply.status_code == 400
    error = reply.get_json()["error"]
    assert error["param"] == "model" and error["type"] == "invalid_request_error"
    assert "Text Embeddings" in error["message"]
    assert gateway.runs() == []
    assert len(gateway.catalogue_calls()) == 1


def test_an_unreachable_catalogue_does_not_block_chat(gateway: Gateway) -> None:
    gateway.upstream.replace("GET", gateway.upstream.registered()[0].url, status=500, json={"success": False})
    gateway.upstream.post(run_url(LLAMA), json=envelope({"response": "hi"}))
    assert gateway.post("/v1/chat/completions", chat()).status_code == 200
    [call] = gateway.catalogue_calls()
    assert call.response.status_code == 500


@pytest.mark.parametrize(
    ("field", "value"),
    [("logprobs", True), ("logit_bias", {"50256": -100}), ("audio", {"voice": "alloy"})],
)
def test_fields_workers_ai_cannot_honour_are_refused_by_name(gateway: Gateway, field: str, value: Any) -> None:
    reply = gateway.post("/v1/chat/completions", chat(**{field: value}))
    assert reply.status_code == 400
    assert reply.get_json()["error"]["param"] == field
    assert gateway.runs() == []


def test_missing_key_is_401_and_nothing_goes_upstream(gateway: Gateway) -> None:
    reply = gateway.client.post("/v1/chat/completions", json=chat())
    assert reply.status_code == 401
    assert reply.get_json()["error"]["type"] == "invalid_request_error"
    assert reply.get_json()["error"]["code"] is None  # OpenAI's missing-key body; a wrong key says invalid_api_key
    assert len(gateway.upstream.calls) == 0


def test_invalid_message_names_the_parameter(gateway: Gateway) -> None:
    body = {"model": LLAMA, "messages": [{"role": "tool", "content": "x"}]}
    reply = gateway.post("/v1/chat/completions", body)
    assert reply.status_code == 400
    assert reply.get_json()["error"]["param"] == "messages[0]"


def _body_of_size(size: int) -> bytes:
    body = chat(model="gpt-nonexistent")
    body["messages"][0]["content"] = ""
    body["messages"][0]["content"] = "x" * (size - len(json.dumps(body)))
    raw = json.dumps(body).encode()
    assert len(raw) == size
    return raw


@pytest.mark.parametrize("settings_overrides", [{"max_request_bytes": 1024}])
def test_a_body_over_max_request_bytes_is_413(gateway: Gateway) -> None:
    reply = gateway.client.post("/v1/chat/completions", data=_body_of_size(1025),
                                content_type="application/json", headers=AUTH)
    assert reply.status_code == 413
    assert reply.get_json()["error"]["code"] == "request_too_large"


@pytest.mark.parametrize("settings_overrides", [{"max_request_bytes": 1024}])
def test_a_body_of_exactly_max_request_bytes_is_accepted(gateway: Gateway) -> None:
    reply = gateway.client.post("/v1/chat/completions", data=_body_of_size(1024),
                                content_type="application/json", headers=AUTH)
    assert reply.status_code == 404  # read and parsed: the (unknown) model is what is wrong with it
