"""OpenAI chat requests -> Workers AI inputs, and Workers AI outputs -> OpenAI choices, without HTTP."""

from __future__ import annotations

import json
from typing import Any

import pytest

from openai_compat.chat.from_workers import ChunkWriter, completion_body
from openai_compat.chat.protocol import ChatCompletionRequest
from openai_compat.chat.to_workers import check_request, text_request
from openai_compat.core.metering import Usage
from openai_compat.errors import InvalidRequestError
from openai_compat.net.fetcher import Fetched
from openai_compat.textgen.output import finish_generation, generation_from_result
from openai_compat.textgen.profiles import TextModelProfile, profile_for
from openai_compat.textgen.stream import StreamDecoder, TextPiece, ToolCallPiece
from openai_compat.textgen.to_workers import classic_parameters, workers_input, workers_seed

CLASSIC = profile_for("@cf/meta/llama-3.3-70b-instruct-fp8-fast")
OPENAI = profile_for("@cf/zai-org/glm-4.7-flash")
SCOUT = profile_for("@cf/meta/llama-4-scout-17b-16e-instruct")
VISION_BYTES = profile_for("@cf/meta/llama-3.2-11b-vision-instruct")
WEATHER = {
    "type": "function",
    "function": {"name": "get_weather", "parameters": {"type": "object", "properties": {"city": {"type": "string"}}}},
}


def req(**fields: Any) -> ChatCompletionRequest:
    fields.setdefault("model", "m")
    fields.setdefault("messages", [{"role": "user", "content": "hi"}])
    return ChatCompletionRequest.model_validate(fields)


def chat_input(
    r: ChatCompletionRequest, profile: TextModelProfile, images: dict[str, Fetched], *, max_tokens: int, stream: bool
) -> dict[str, Any]:
    """The Workers AI input a chat request becomes: the chat mapping, then the shared dialect mapping."""
    return workers_input(text_request(r.model_copy(update={"stream": stream}), images, max_tokens=max_tokens), profile)


def test_default_max_tokens_replaces_workers_ai_256() -> None:
    assert chat_input(req(), CLASSIC, {}, max_tokens=4096, stream=False)["max_tokens"] == 4096
    assert chat_input(req(), OPENAI, {}, max_tokens=50, stream=False)["max_completion_tokens"] == 50


def test_roles_flatten_for_classic_models() -> None:
    messages = [
        {"role": "developer", "content": "be brief"},
        {"role": "user", "content": [{"type": "text", "text": "a"}, {"type": "text", "text": "b"}]},
    ]
    out = chat_input(req(messages=messages), CLASSIC, {}, max_tokens=10, stream=True)
    assert out["messages"] == [{"role": "system", "content": "be brief"}, {"role": "user", "content": "a\nb"}]
    assert out["stream"] is True


def test_tool_round_trip_converts_argument_strings_to_objects_for_classic() -> None:
    messages = [
        {"role": "user", "content": "weather?"},
        {"role": "assistant", "content": None, "tool_calls": [
            {"id": "call_1", "type": "function", "function": {"name": "get_weather", "arguments": '{"city":"Paris"}'}}
        ]},
        {"role": "tool", "tool_call_id": "call_1", "content": "sunny"},
    ]
    out = chat_input(req(messages=messages, tools=[WEATHER]), CLASSIC, {}, max_tokens=10, stream=False)
    assistant = out["messages"][1]
    assert json.loads(assistant["content"]) == {"name": "get_weather", "arguments": {"city": "Paris"}}
    assert out["messages"][2] == {"role": "tool", "content": "sunny"}


def test_openai_dialect_keeps_tool_history_as_is() -> None:
    messages = [
        {"role": "user", "content": "weather?"},
        {"role": "assistant", "tool_calls": [
            {"id": "call_1", "type": "function", "function": {"name": "get_weather", "arguments": '{"city":"Paris"}'}}
        ]},
        {"role": "tool", "tool_call_id": "call_1", "content": "sunny"},
    ]
    out = chat_input(req(messages=messages, tools=[WEATHER], stop="x"), OPENAI, {}, max_tokens=10, stream=True)
    assert out["messages"][1]["tool_calls"][0]["function"]["arguments"] == '{"city":"Paris"}'
    assert out["messages"][2]["tool_call_id"] == "call_1"
    assert out["stop"] == "x"
    assert out["stream_options"] == {"include_usage": True}


def test_classic_tool_parameters_get_the_fields_the_schema_requires() -> None:
    params = classic_parameters({"type": "object", "properties": {"x": {"anyOf": [{"type": "integer"}]}, "y": {
        "type": ["integer", "null"], "title": "Y"}}})
    assert params["properties"]["x"] == {"anyOf": [{"type": "integer"}], "type": "string", "description": "x"}
    assert params["properties"]["y"]["type"] == "integer" and params["properties"]["y"]["description"] == "Y"


def test_tool_choice_none_and_named() -> None:
    other = {"type": "function", "function": {"name": "other"}}
    assert "tools" not in chat_input(req(tools=[WEATHER], tool_choice="none"), CLASSIC, {}, max_tokens=1, stream=False)
    named = req(tools=[WEATHER, other], tool_choice={"type": "function", "function": {"name": "other"}})
    assert [t["function"]["name"] for t in chat_input(named, CLASSIC, {}, max_tokens=1, stream=False)["tools"]] == [
        "other"
    ]


def test_json_schema_is_sent_bare_to_classic_models_and_wrapped_to_openai_ones() -> None:
    schema = {"type": "object", "properties": {"a": {"type": "string"}}}
    r = req(response_format={"type": "json_schema", "json_schema": {"name": "A", "schema": schema}})
    assert chat_input(r, CLASSIC, {}, max_tokens=1, stream=False)["response_format"] == {
        "type": "json_schema", "json_schema": schema}
    assert chat_input(r, OPENAI, {}, max_tokens=1, stream=False)["response_format"]["json_schema"]["schema"] == schema


def test_sampling_ranges_fit_workers_ai() -> None:
    out = chat_input(req(top_p=0, seed=0, temperature=1.5, top_k=5), CLASSIC, {}, max_tokens=1, stream=False)
    assert out["top_p"] == 0.001 and out["seed"] == 1 and out["temperature"] == 1.5 and out["top_k"] == 5


def test_seeds_outside_workers_ai_range_fold_into_it_and_stay_distinct() -> None:
    folded = [workers_seed(s) for s in (-5, -6, 0, 2**63 - 1, 10_000_000_000)]
    assert all(1 <= s <= 9_999_999_999 for s in folded)
    assert len(set(folded)) == len(folded)
    assert workers_seed(42) == 42 and workers_seed(9_999_999_999) == 9_999_999_999


@pytest.mark.parametrize(
    ("fields", "param"),
    [
        ({"logprobs": True}, "logprobs"),
        ({"top_logprobs": 3}, "top_logprobs"),
        ({"logit_bias": {"50256": -100}}, "logit_bias"),
        ({"n": 9}, "n"),
        ({"stream_options": {"include_usage": True}}, "stream_options"),
        ({"modalities": ["text", "audio"]}, "modalities"),
        ({"functions": [{"name": "f"}]}, "functions"),
        ({"tools": [WEATHER], "tool_choice": {"type": "function", "function": {"name": "nope"}}}, "tool_choice"),
    ],
)
def test_unservable_fields_are_refused_by_name(fields: dict[str, Any], param: str) -> None:
    with pytest.raises(InvalidRequestError) as caught:
        check_request(req(**fields), CLASSIC)
    assert caught.value.param == param


def test_logprobs_false_is_accepted() -> None:
    check_request(req(logprobs=False, top_logprobs=0), CLASSIC)


IMAGE = [{"type": "text", "text": "what?"}, {"type": "image_url", "image_url": {"url": "data:image/png;base64,AAAA"}}]


def test_images_become_data_uri_parts_or_a_byte_array_by_model() -> None:
    images = {"data:image/png;base64,AAAA": Fetched("image/png", b"\x00\x01\x02")}
    r = req(messages=[{"role": "user", "content": IMAGE}])
    parts = chat_input(r, SCOUT, images, max_tokens=1, stream=False)["messages"][0]["content"]
    assert parts[1] == {"type": "image_url", "image_url": {"url": "data:image/png;base64,AAEC"}}
    out = chat_input(r, VISION_BYTES, images, max_tokens=1, stream=False)
    assert out["image"] == [0, 1, 2] and out["messages"][0]["content"] == "what?"


def test_image_to_text_only_model_is_refused() -> None:
    with pytest.raises(InvalidRequestError) as caught:
        check_request(req(model="gpt-3.5-turbo", messages=[{"role": "user", "content": IMAGE}]), CLASSIC)
    assert caught.value.param == "messages[0].content[1].image_url.url"


def test_classic_output_with_object_arguments_and_json_mode() -> None:
    gen = generation_from_result(
        {"response": "", "tool_calls": [{"name": "f", "arguments": {"a": 1}}], "usage": {
            "prompt_tokens": 3, "completion_tokens": 4, "total_tokens": 7}}, max_tokens=100)
    assert gen.tool_calls[0].arguments == '{"a":1}' and gen.finish_reason == "tool_calls"
    json_mode = generation_from_result({"response": {"city": "Paris"}}, max_tokens=100)
    assert json.loads(json_mode.content) == {"city": "Paris"}


def test_classic_length_is_inferred_from_usage() -> None:
    usage = {"prompt_tokens": 3, "completion_tokens": 5, "total_tokens": 8}
    assert generation_from_result({"response": "x", "usage": usage}, max_tokens=5).finish_reason == "length"
    assert generation_from_result({"response": "x", "usage": usage}, max_tokens=6).finish_reason == "stop"


def test_missing_usage_is_estimated_and_stop_applied() -> None:
    gen = finish_generation(generation_from_result({"response": "one. two. three."}, max_tokens=50),
                            stops=["two"], parallel_tool_calls=True, prompt_estimate=7)
    assert gen.content == "one. " and gen.finish_reason == "stop"
    assert gen.usage == Usage(7, 2, estimated=True)


def test_openai_dialect_output() -> None:
    result = {"id": "x", "object": "chat.completion", "choices": [{"index": 0, "finish_reason": "tool_calls",
              "message": {"role": "assistant", "content": None, "tool_calls": [
                  {"id": "call_9", "type": "function", "function": {"name": "f", "arguments": "{}"}}]}}]}
    gen = generation_from_result(result, max_tokens=5)
    body = completion_body(completion_id="chatcmpl-1", created=1, model="gpt-4o-mini", generations=[gen])
    message = body["choices"][0]["message"]
    assert message["content"] is None and message["refusal"] is None
    expected = {"id": "call_9", "type": "function", "function": {"name": "f", "arguments": "{}"}}
    assert message["tool_calls"][0] == expected


def decoder(**kw: Any) -> StreamDecoder:
    kw.setdefault("stops", [])
    kw.setdefault("native_stop", False)
    kw.setdefault("max_tokens", 100)
    kw.setdefault("parallel_tool_calls", True)
    return StreamDecoder(**kw)


def test_classic_stream_whole_tool_calls_become_indexed_pieces() -> None:
    d = decoder()
    calls = [{"name": "a", "arguments": {"x": 1}}, {"name": "b", "arguments": {}}]
    pieces = d.feed({"response": "", "tool_calls": calls})
    assert [(p.index, p.name, p.arguments) for p in pieces if isinstance(p, ToolCallPiece)] == [
        (0, "a", '{"x":1}'), (1, "b", "{}")]
    assert all(p.id and p.id.startswith("call_") for p in pieces)
    assert d.finish_reason() == "tool_calls"


def test_openai_like_tool_deltas_carry_id_and_name_only_once() -> None:
    d = decoder(parallel_tool_calls=False)
    events = [
        {"tool_calls": [{"id": "chatcmpl-tool-1", "type": "function", "index": 0, "function": {"name": "calc"}}]},
        {"tool_calls": [{"index": 0, "function": {"arguments": '{"a": '}}]},
        {"tool_calls": [{"index": 0, "function": {"arguments": "1}"}}]},
        {"tool_calls": [{"id": None, "type": None, "index": 0, "function": {"name": None, "arguments": ""}}]},
        {"tool_calls": [{"id": "chatcmpl-tool-2", "type": "function", "index": 1, "function": {"name": "second"}}]},
    ]
    pieces = [p for e in events for p in d.feed(e)]
    assert [(p.id is not None, p.name, p.arguments) for p in pieces] == [
        (True, "calc", ""), (False, None, '{"a": '), (False, None, "1}")]


def test_stream_length_and_stop_finish_reasons() -> None:
    d = decoder(max_tokens=2)
    for token in ("a", " b"):
        d.feed({"response": token})
    d.feed({"response": "", "usage": {"prompt_tokens": 1, "completion_tokens": 2, "total_tokens": 3}})
    assert d.finish_reason() == "length"
    s = decoder(stops=["b"])
    assert [p.text for p in s.feed({"response": "a b"}) if isinstance(p, TextPiece)] == ["a "]
    assert s.stopped and s.finish_reason() == "stop"


def test_chunks_put_role_first_and_usage_last() -> None:
    writer = ChunkWriter("chatcmpl-1", 1, "gpt-4o-mini")
    assert writer.role(0, TextPiece("hi"))["choices"][0]["delta"] == {"role": "assistant", "content": "",
                                                                       "refusal": None}
    tool_first = writer.role(0, ToolCallPiece(0, "call_1", "f", ""))["choices"][0]["delta"]
    assert tool_first == {"role": "assistant", "content": None, "refusal": None}
    call = writer.piece(0, ToolCallPiece(0, "call_1", "f", ""))["choices"][0]["delta"]["tool_calls"][0]
    assert call == {"index": 0, "id": "call_1", "type": "function", "function": {"name": "f", "arguments": ""}}
    more = writer.piece(0, ToolCallPiece(0, None, None, "{}"))["choices"][0]["delta"]["tool_calls"][0]
    assert more == {"index": 0, "function": {"arguments": "{}"}}
    usage = writer.usage(Usage(1, 2))
    assert usage["choices"] == [] and usage["usage"]["total_tokens"] == 3


def test_validation_errors_pick_the_branch_the_client_meant() -> None:
    from pydantic import ValidationError

    from openai_compat.web.bodies import validation_error

    with pytest.raises(ValidationError) as caught:
        req(stop=["a", "b", "c", "d", "e"])
    error = validation_error(caught.value)
    assert error.param == "stop" and "at most 4" in error.message
    with pytest.raises(ValidationError) as caught:
        req(messages=[{"role": "user", "content": [{"type": "video", "video": "x"}]}])
    error = validation_error(caught.value)
    assert error.param == "messages[0].content[0]" and "video" in error.message
