"""Non-streamed text generation: classic vs OpenAI-style outputs, tools, JSON mode, vision, gpt-oss."""

from __future__ import annotations

import base64
import json

import pytest

from tests.support.emulator import EmulatorHandle

LLAMA33 = "@cf/meta/llama-3.3-70b-instruct-fp8-fast"
SCOUT = "@cf/meta/llama-4-scout-17b-16e-instruct"
VISION32 = "@cf/meta/llama-3.2-11b-vision-instruct"
GLM = "@cf/zai-org/glm-4.7-flash"
OSS = "@cf/openai/gpt-oss-120b"
CLASSIC = [LLAMA33, "@cf/meta/llama-3.1-8b-instruct", "@cf/meta/llama-3.1-8b-instruct-fast", SCOUT, VISION32]

WEATHER = {
    "name": "get_weather",
    "description": "Weather for a city",
    "parameters": {
        "type": "object",
        "properties": {
            "city": {"type": "string", "description": "city"},
            "days": {"type": "integer", "description": "days"},
            "metric": {"type": "boolean", "description": "units"},
            "unit": {"type": "string", "description": "unit", "enum": ["c", "f"]},
            "ratio": {"type": "number", "description": "r"},
            "tags": {"type": "array", "description": "t"},
            "extra": {"type": "object", "description": "e"},
        },
        "required": ["city"],
    },
}
TIME = {
    "name": "get_time",
    "description": "Time in a city",
    "parameters": {"type": "object", "properties": {"city": {"type": "string", "description": "city"}}},
}
EXPECTED_ARGS = {"city": "Paris", "days": 1, "metric": True, "unit": "c", "ratio": 1.5, "tags": [], "extra": {}}


def result(emu: EmulatorHandle, model: str, body: dict) -> dict:
    response = emu.run(model, body)
    assert response.status_code == 200, response.text
    return response.json()["result"]


def user(text: str) -> dict:
    return {"messages": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": text}]}


@pytest.mark.parametrize("model", CLASSIC)
def test_classic_output(emu: EmulatorHandle, model: str) -> None:
    out = result(emu, model, user("What is up?"))
    assert out == {
        "response": "Hello! You said: What is up?",
        "tool_calls": [],
        "usage": {"prompt_tokens": 5, "completion_tokens": 6, "total_tokens": 11},
    }
    assert "finish_reason" not in out


def test_classic_prompt_input(emu: EmulatorHandle) -> None:
    out = result(emu, LLAMA33, {"prompt": "tell me a story"})
    assert out["response"] == "Hello! You said: tell me a story"
    assert out["usage"]["prompt_tokens"] == 4


def test_classic_max_tokens_caps_without_finish_reason(emu: EmulatorHandle) -> None:
    out = result(emu, LLAMA33, {**user("one two three four"), "max_tokens": 3})
    assert out["response"] == "Hello! You said:"
    assert out["usage"]["completion_tokens"] == 3


def test_classic_default_max_tokens_is_256(emu: EmulatorHandle) -> None:
    out = result(emu, LLAMA33, user("word " * 300))
    assert out["usage"]["completion_tokens"] == 256


def test_classic_ignores_stop(emu: EmulatorHandle) -> None:
    out = result(emu, LLAMA33, {**user("a b c"), "stop": ["said"]})
    assert out["response"] == "Hello! You said: a b c"


def test_tool_message_reply(emu: EmulatorHandle) -> None:
    body = {"messages": [
        {"role": "user", "content": "Weather in Paris?"},
        {"role": "assistant", "content": ""},
        {"role": "tool", "content": "sunny, 21C"},
    ], "tools": [WEATHER]}
    out = result(emu, LLAMA33, body)
    assert out["response"] == "The tool returned: sunny, 21C"
    assert out["tool_calls"] == []


@pytest.mark.parametrize("tool", [WEATHER, {"type": "function", "function": WEATHER}])
def test_classic_tool_call(emu: EmulatorHandle, tool: dict) -> None:
    out = result(emu, LLAMA33, {**user("Weather in Paris?"), "tools": [tool, TIME]})
    assert out["response"] == ""
    assert out["tool_calls"] == [{"name": "get_weather", "arguments": EXPECTED_ARGS}]
    assert out["usage"]["completion_tokens"] > 0


def test_tool_choice(emu: EmulatorHandle) -> None:
    named = {"type": "function", "function": {"name": "get_time"}}
    out = result(emu, LLAMA33, {**user("Time in Rome"), "tools": [WEATHER, TIME], "tool_choice": named})
    assert out["tool_calls"] == [{"name": "get_time", "arguments": {"city": "Rome"}}]
    out = result(emu, LLAMA33, {**user("Time in Rome"), "tools": [WEATHER, TIME], "tool_choice": "none"})
    assert out["tool_calls"] == [] and out["response"] == "Hello! You said: Time in Rome"


def test_parallel_tool_calls(emu: EmulatorHandle) -> None:
    out = result(emu, LLAMA33, {**user("Do both in parallel for Oslo!"), "tools": [WEATHER, TIME]})
    assert [c["name"] for c in out["tool_calls"]] == ["get_weather", "get_time"]
    assert out["tool_calls"][1]["arguments"] == {"city": "Oslo"}


def test_classic_json_schema_mode(emu: EmulatorHandle) -> None:
    schema = {
        "type": "object",
        "properties": {
            "name": {"type": "string"},
            "age": {"type": "integer"},
            "score": {"type": "number"},
            "ok": {"type": "boolean"},
            "tags": {"type": "array", "items": {"type": "string"}},
            "address": {"type": "object", "properties": {"city": {"type": "string"}, "zip": {"type": "integer"}}},
        },
    }
    out = result(emu, LLAMA33, {**user("Describe"), "response_format": {"type": "json_schema", "json_schema": schema}})
    assert out["response"] == {
        "name": "example", "age": 1, "score": 1.5, "ok": True, "tags": [], "address": {"city": "example", "zip": 1},
    }


def test_classic_json_object_mode(emu: EmulatorHandle) -> None:
    out = result(emu, LLAMA33, {**user("Capital of France"), "response_format": {"type": "json_object"}})
    assert out["response"] == {"answer": "Hello! You said: Capital of France"}


def test_classic_json_mode_does_not_stream(emu: EmulatorHandle) -> None:
    body = {**user("x"), "stream": True, "response_format": {"type": "json_object"}}
    response = emu.run(LLAMA33, body)
    assert response.headers["Content-Type"].startswith("application/json")
    assert response.json()["result"]["response"] == {"answer": "Hello! You said: x"}


# ---- vision ------------------------------------------------------------------------


def test_scout_image_parts(emu: EmulatorHandle) -> None:
    image = base64.b64encode(bytes(range(37))).decode()
    body = {"messages": [{"role": "user", "content": [
        {"type": "text", "text": "What is this?"},
        {"type": "image_url", "image_url": {"url": f"data:image/png;base64,{image}"}},
    ]}]}
    out = result(emu, SCOUT, body)
    assert out["response"] == "I see an image of 37 bytes."
    assert out["usage"]["prompt_tokens"] == 3


def test_scout_refuses_http_images(emu: EmulatorHandle) -> None:
    body = {"messages": [{"role": "user", "content": [
        {"type": "image_url", "image_url": {"url": "https://example.com/cat.png"}},
    ]}]}
    response = emu.run(SCOUT, body)
    assert response.status_code == 400
    message = "AiError: Bad input: Error: HTTP URL will not be accepted"
    assert response.json()["errors"] == [{"code": 5006, "message": message}]


def test_llama32_top_level_image(emu: EmulatorHandle) -> None:
    assert result(emu, VISION32, {"prompt": "What?", "image": [1, 2, 3, 4]})["response"] == "I see an image of 4 bytes."
    encoded = base64.b64encode(b"0123456789").decode()
    assert result(emu, VISION32, {**user("What?"), "image": encoded})["response"] == "I see an image of 10 bytes."


# ---- OpenAI-style models -----------------------------------------------------------


def test_glm_chat_completion(emu: EmulatorHandle) -> None:
    out = result(emu, GLM, {"model": GLM, **user("Hi there"), "some_future_field": 1})
    assert out["object"] == "chat.completion"
    assert out["id"].startswith("chatcmpl-") and isinstance(out["created"], int) and out["model"] == GLM
    [choice] = out["choices"]
    assert choice == {
        "index": 0,
        "message": {"role": "assistant", "content": "Hello! You said: Hi there", "refusal": None},
        "finish_reason": "stop",
        "logprobs": None,
    }
    assert out["usage"] == {"prompt_tokens": 4, "completion_tokens": 5, "total_tokens": 9}


def test_glm_length_and_stop(emu: EmulatorHandle) -> None:
    out = result(emu, GLM, {**user("a b c d"), "max_completion_tokens": 2})
    assert out["choices"][0]["message"]["content"] == "Hello! You"
    assert out["choices"][0]["finish_reason"] == "length"
    out = result(emu, GLM, {**user("a b c d"), "max_tokens": 3})
    assert out["choices"][0]["finish_reason"] == "length" and out["usage"]["completion_tokens"] == 3
    out = result(emu, GLM, {**user("alpha beta gamma"), "stop": ["beta", "zzz"]})
    assert out["choices"][0]["message"]["content"] == "Hello! You said: alpha "
    assert out["choices"][0]["finish_reason"] == "stop"
    out = result(emu, GLM, {**user("alpha beta"), "stop": "said"})
    assert out["choices"][0]["message"]["content"] == "Hello! You "


def test_glm_tool_calls(emu: EmulatorHandle) -> None:
    tools = [{"type": "function", "function": WEATHER}, {"type": "function", "function": TIME}]
    out = result(emu, GLM, {**user("Weather in Paris?"), "tools": tools})
    [choice] = out["choices"]
    assert choice["finish_reason"] == "tool_calls"
    message = choice["message"]
    assert message["content"] is None
    [call] = message["tool_calls"]
    assert call["id"].startswith("call_") and call["type"] == "function"
    assert call["function"]["name"] == "get_weather"
    assert json.loads(call["function"]["arguments"]) == EXPECTED_ARGS
    out = result(emu, GLM, {**user("Weather in Paris?"), "tools": tools, "tool_choice": "none"})
    assert out["choices"][0]["message"]["content"] == "Hello! You said: Weather in Paris?"


def test_glm_json_schema_is_a_string(emu: EmulatorHandle) -> None:
    rf = {"type": "json_schema", "json_schema": {"name": "x", "schema": {
        "type": "object", "properties": {"city": {"type": "string"}, "n": {"type": "integer"}}}}}
    out = result(emu, GLM, {**user("go"), "response_format": rf})
    content = out["choices"][0]["message"]["content"]
    assert isinstance(content, str) and json.loads(content) == {"city": "example", "n": 1}


def test_gpt_oss_dialects(emu: EmulatorHandle) -> None:
    chat = result(emu, OSS, user("hello"))
    assert chat["object"] == "chat.completion"
    assert chat["choices"][0]["message"]["content"] == "Hello! You said: hello"
    completion = result(emu, OSS, {"prompt": "hello"})
    assert completion["object"] == "text_completion"
    assert completion["choices"][0]["text"] == "Hello! You said: hello"
    responses = result(emu, OSS, {"input": "hello", "reasoning": {"effort": "low"}})
    assert responses["object"] == "response"
    reasoning, message = responses["output"]
    assert reasoning["type"] == "reasoning" and reasoning["content"][0]["type"] == "reasoning_text"
    assert message["content"][0]["text"] == "Hello! You said: hello"
    assert responses["usage"] == {"input_tokens": 1, "output_tokens": 4, "total_tokens": 5}


def test_gpt_oss_responses_input_items_and_text_format(emu: EmulatorHandle) -> None:
    tool_result = result(emu, OSS, {"input": [
        {"role": "user", "content": [{"type": "input_text", "text": "weather?"}]},
        {"type": "function_call", "call_id": "call_1", "name": "w", "arguments": "{}"},
        {"type": "function_call_output", "call_id": "call_1", "output": "sunny"},
    ]})
    assert tool_result["output"][-1]["content"][0]["text"] == "The tool returned: sunny"
    schema = {"type": "object", "properties": {"city": {"type": "string"}}}
    structured = result(emu, OSS, {"input": "go", "text": {"format": {"type": "json_schema", "name": "c",
                                                                      "schema": schema}}})
    assert json.loads(structured["output"][-1]["content"][0]["text"]) == {"city": "example"}


def test_gpt_oss_never_streams(emu: EmulatorHandle) -> None:
    response = emu.run(OSS, {**user("hello"), "stream": True})
    assert response.headers["Content-Type"].startswith("application/json")
    assert response.json()["result"]["object"] == "chat.completion"
