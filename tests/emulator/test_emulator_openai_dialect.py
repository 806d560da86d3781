"""Workers AI's own OpenAI-compatible routes: /ai/v1/chat/completions and /ai/v1/embeddings."""

from __future__ import annotations

import base64
import json
import struct

import requests

from tests.support.emulator import EmulatorHandle, parse_sse

LLAMA = "@cf/meta/llama-3.1-8b-instruct"
GLM = "@cf/zai-org/glm-4.7-flash"


def post(emu: EmulatorHandle, path: str, body: dict) -> requests.Response:
    return requests.post(f"{emu.account_url}/ai/v1/{path}", json=body, headers=emu.headers, timeout=10)


def test_chat_completion_plain_object(emu: EmulatorHandle) -> None:
    body = {"model": LLAMA, "messages": [{"role": "user", "content": "hey"}], "temperature": 0.2,
            "user": "u1", "metadata": {"x": 1}, "unknown_litellm_field": True}
    response = post(emu, "chat/completions", body)
    assert response.status_code == 200
    out = response.json()
    assert "success" not in out and out["object"] == "chat.completion" and out["model"] == LLAMA
    assert out["choices"][0]["message"]["content"] == "Hello! You said: hey"
    assert out["choices"][0]["finish_reason"] == "stop"
    assert out["usage"] == {"prompt_tokens": 1, "completion_tokens": 4, "total_tokens": 5}
    assert emu.requests()[-1]["json"] == body


def test_chat_accepts_content_parts_and_null_content(emu: EmulatorHandle) -> None:
    messages = [
        {"role": "user", "content": [{"type": "text", "text": "first"}]},
        {"role": "assistant", "content": None, "tool_calls": [
            {"id": "call_1", "type": "function", "function": {"name": "f", "arguments": "{}"}}]},
        {"role": "tool", "tool_call_id": "call_1", "content": "42"},
    ]
    out = post(emu, "chat/completions", {"model": GLM, "messages": messages}).json()
    assert out["choices"][0]["message"]["content"] == "The tool returned: 42"


def test_chat_classic_model_length(emu: EmulatorHandle) -> None:
    out = post(emu, "chat/completions", {"model": LLAMA, "messages": [{"role": "user", "content": "a b"}],
                                          "max_tokens": 2}).json()
    assert out["choices"][0]["finish_reason"] == "length"
    assert out["choices"][0]["message"]["content"] == "Hello! You"


def test_chat_tool_calls(emu: EmulatorHandle) -> None:
    tools = [{"type": "function", "function": {"name": "lookup", "parameters": {
        "type": "object", "properties": {"q": {"type": "string"}}}}}]
    out = post(emu, "chat/completions", {"model": LLAMA, "tools": tools,
                                          "messages": [{"role": "user", "content": "find Berlin"}]}).json()
    call = out["choices"][0]["message"]["tool_calls"][0]
    assert out["choices"][0]["finish_reason"] == "tool_calls"
    assert call["function"]["name"] == "lookup" and json.loads(call["function"]["arguments"]) == {"q": "Berlin"}


def test_chat_stream_with_usage_chunk(emu: EmulatorHandle) -> None:
    body = {"model": LLAMA, "messages": [{"role": "user", "content": "yo"}], "stream": True,
            "stream_options": {"include_usage": True}}
    response = post(emu, "chat/completions", body)
    assert response.headers["Content-Type"].startswith("text/event-stream")
    events = parse_sse(response.text)
    first, *content, final, usage, done = events
    assert first["choices"][0]["delta"] == {"role": "assistant", "content": ""}
    assert "".join(e["choices"][0]["delta"]["content"] for e in content) == "Hello! You said: yo"
    assert final["choices"][0]["finish_reason"] == "stop" and "usage" not in final
    assert usage["choices"] == [] and usage["usage"]["completion_tokens"] == 4
    assert done == "[DONE]"


def test_chat_stream_without_usage_chunk(emu: EmulatorHandle) -> None:
    body = {"model": GLM, "messages": [{"role": "user", "content": "yo"}], "stream": True}
    events = parse_sse(post(emu, "chat/completions", body).text)
    assert events[-2]["choices"][0]["finish_reason"] == "stop"
    assert all(e["choices"] for e in events[:-1])


def test_chat_errors(emu: EmulatorHandle) -> None:
    messages = [{"role": "user", "content": "x"}]
    for model in ("@cf/meta/nope", "@cf/baai/bge-m3"):
        response = post(emu, "chat/completions", {"model": model, "messages": messages})
        assert response.status_code == 400 and response.json()["errors"][0]["code"] == 5007
    response = post(emu, "chat/completions", {"messages": messages})
    assert response.status_code == 400 and response.json()["errors"][0]["code"] == 5006
    response = post(emu, "chat/completions", {"model": LLAMA, "messages": []})
    assert response.status_code == 400 and response.json()["errors"][0]["code"] == 5006
    unauthorised = requests.post(f"{emu.account_url}/ai/v1/chat/completions", json={}, timeout=5)
    assert unauthorised.status_code == 401


def test_chat_faults_apply(emu: EmulatorHandle) -> None:
    emu.set_faults(fail_status=429, fail_times=1)
    body = {"model": LLAMA, "messages": [{"role": "user", "content": "x"}]}
    assert post(emu, "chat/completions", body).status_code == 429
    assert post(emu, "chat/completions", body).status_code == 200


def test_gateway_prefix_openai_route(emu: EmulatorHandle) -> None:
    url = f"{emu.url}/v1/{emu.account_id}/gw/workers-ai/v1/chat/completions"
    body = {"model": GLM, "messages": [{"role": "user", "content": "x"}]}
    assert requests.post(url, json=body, headers=emu.headers, timeout=5).json()["object"] == "chat.completion"


def test_embeddings(emu: EmulatorHandle) -> None:
    model = "@cf/baai/bge-small-en-v1.5"
    out = post(emu, "embeddings", {"model": model, "input": ["a b", "c"], "dimensions": None}).json()
    assert out["object"] == "list" and out["model"] == model
    assert [d["index"] for d in out["data"]] == [0, 1]
    assert all(d["object"] == "embedding" and len(d["embedding"]) == 384 for d in out["data"])
    assert out["usage"] == {"prompt_tokens": 3, "total_tokens": 3}
    native = emu.run(model, {"text": ["a b", "c"]}).json()["result"]["data"]
    assert [d["embedding"] for d in out["data"]] == native


def test_embeddings_base64(emu: EmulatorHandle) -> None:
    model = "@cf/baai/bge-base-en-v1.5"
    floats = post(emu, "embeddings", {"model": model, "input": "x"}).json()["data"][0]["embedding"]
    encoded = post(emu, "embeddings", {"model": model, "input": "x", "encoding_format": "base64"}).json()
    decoded = struct.unpack("<768f", base64.b64decode(encoded["data"][0]["embedding"]))
    assert all(abs(a - b) < 1e-6 for a, b in zip(decoded, floats, strict=True))


def test_embeddings_errors(emu: EmulatorHandle) -> None:
    response = post(emu, "embeddings", {"model": "@cf/qwen/qwen3-embedding-0.6b", "input": ["x"] * 33})
    assert response.status_code == 400 and response.json()["errors"][0]["code"] == 5006
    response = post(emu, "embeddings", {"model": "@cf/baai/bge-m3", "input": 5})
    assert response.status_code == 400 and response.json()["errors"][0]["code"] == 5006
    response = post(emu, "embeddings", {"model": LLAMA, "input": "x"})
    assert response.status_code == 400 and response.json()["errors"][0]["code"] == 5007
