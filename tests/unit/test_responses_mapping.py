"""Responses requests -> neutral requests and Workers AI inputs; generations -> output items and events."""

from __future__ import annotations

from typing import Any

import pytest

from openai_compat.core.metering import Usage
from openai_compat.errors import InvalidRequestError
from openai_compat.responses.from_workers import EventWriter, finished, items_page, output_items, response_object
from openai_compat.responses.protocol import CreateResponseRequest
from openai_compat.responses.to_workers import check_request, input_items, text_request
from openai_compat.textgen.output import Generation, ToolCall
from openai_compat.textgen.profiles import profile_for
from openai_compat.textgen.stream import ReasoningPiece, TextPiece, ToolCallPiece
from openai_compat.textgen.to_workers import workers_input

CLASSIC = profile_for("@cf/meta/llama-3.3-70b-instruct-fp8-fast")
OPENAI = profile_for("@cf/zai-org/glm-4.7-flash")
OSS = profile_for("@cf/openai/gpt-oss-120b")
TOOL = {"type": "function", "name": "lookup", "parameters": {"type": "object", "properties": {"q": {"type": "string"}}}}
HISTORY: list[dict[str, Any]] = [
    {"role": "user", "content": "find cats"},
    {"type": "function_call", "call_id": "call_a", "name": "lookup", "arguments": '{"q":"cats"}'},
    {"type": "function_call", "call_id": "call_b", "name": "lookup", "arguments": '{"q":"dogs"}'},
    {"type": "function_call_output", "call_id": "call_a", "output": "3 cats"},
    {"type": "function_call_output", "call_id": "call_b", "output": [{"type": "input_text", "text": "2 dogs"}]},
]


def req(**fields: Any) -> CreateResponseRequest:
    fields.setdefault("model", "m")
    fields.setdefault("input", "hi")
    return CreateResponseRequest.model_validate(fields)


def mapped(r: CreateResponseRequest, profile: Any, history: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    items = input_items(r)
    return workers_input(text_request(r, [*(history or []), *items], {}, max_tokens=100, stream=False), profile,
                         prefer_responses=True)


def test_a_string_input_is_one_user_message_item_with_an_id() -> None:
    [item] = input_items(req(input="hello"))
    assert item["id"].startswith("msg_") and item["role"] == "user"
    assert item["content"] == [{"type": "input_text", "text": "hello"}]


def test_function_calls_in_a_row_become_one_assistant_turn_for_chat_dialects() -> None:
    out = mapped(req(input=HISTORY, tools=[TOOL]), OPENAI)
    messages = out["messages"]
    assert [m["role"] for m in messages] == ["user", "assistant", "tool", "tool"]
    assert [c["id"] for c in messages[1]["tool_calls"]] == ["call_a", "call_b"] and messages[1]["content"] is None
    assert messages[3] == {"role": "tool", "content": "2 dogs", "tool_call_id": "call_b"}


def test_gpt_oss_takes_the_items_natively() -> None:
    out = mapped(req(input=HISTORY, tools=[TOOL], reasoning={"effort": "high"}, instructions="be kind"), OSS)
    assert "messages" not in out and out["reasoning"] == {"effort": "high"}
    assert out["input"][0] == {"role": "system", "content": "be kind"}
    kinds = [item.get("type", "message") for item in out["input"]]
    assert kinds == ["message", "message", "function_call", "function_call", "function_call_output",
                     "function_call_output"]
    assert out["tools"][0]["name"] == "lookup" and "function" not in out["tools"][0]
    assert out["max_output_tokens"] == 100


def test_text_format_maps_to_each_dialect() -> None:
    schema = {"type": "object", "properties": {"a": {"type": "string"}}}
    r = req(text={"format": {"type": "json_schema", "name": "A", "schema": schema, "strict": True}})
    assert mapped(r, CLASSIC)["response_format"] == {"type": "json_schema", "json_schema": schema}
    assert mapped(r, OPENAI)["response_format"]["json_schema"] == {"name": "A", "schema": schema, "strict": True}
    assert mapped(r, OSS)["text"]["format"] == {"type": "json_schema", "name": "A", "schema": schema, "strict": True}


@pytest.mark.parametrize(
    ("fields", "param"),
    [
        ({"tools": [{"type": "file_search"}]}, "tools[0].type"),
        ({"input": [{"type": "item_reference", "id": "x"}]}, "input[0].type"),
        ({"input": [{"role": "user", "content": [{"type": "input_file", "file_id": "f"}]}]},
         "input[0].content[0].type"),
        ({"input": [{"role": "assistant", "content": [{"type": "input_image", "image_url": "data:x"}]}]},
         "input[0].content[0]"),
        ({"conversation": "conv_1"}, "conversation"),
    ],
)
def test_what_cannot_be_served_is_named(fields: dict[str, Any], param: str) -> None:
    with pytest.raises(InvalidRequestError) as caught:
        check_request(req(**fields), CLASSIC)
    assert caught.value.param == param


def test_a_whole_generation_becomes_output_items() -> None:
    generation = Generation("hi", [ToolCall("call_1", "f", "{}")], "tool_calls", Usage(3, 4), "thinking")
    items = output_items(generation)
    assert [i["type"] for i in items] == ["reasoning", "message", "function_call"]
    assert items[2]["call_id"] == "call_1" and items[1]["content"][0]["text"] == "hi"


def test_a_cut_off_answer_is_incomplete() -> None:
    response = response_object(req(), "resp_x", 1, status="in_progress", previous_response_id=None)
    finished(response, output_items(Generation("abc", finish_reason="length")), ("length", Usage(1, 16)))
    assert response["status"] == "incomplete" and response["incomplete_details"] == {"reason": "max_output_tokens"}
    assert response["output"][0]["status"] == "incomplete" and response["usage"]["output_tokens"] == 16


def test_stream_events_keep_ids_indexes_and_order() -> None:
    writer = EventWriter(response_object(req(), "resp_x", 1, status="in_progress", previous_response_id=None))
    events = [writer.lifecycle("response.created")]
    for piece in (ReasoningPiece("hmm"), TextPiece("Hel"), TextPiece("lo"), ToolCallPiece(0, "call_1", "f", '{"a"'),
                  ToolCallPiece(0, None, None, ":1}")):
        events += writer.piece(piece)
    events += writer.finish("tool_calls")
    assert [e["sequence_number"] for e in events] == list(range(len(events)))
    added = [e for e in events if e["type"] == "response.output_item.added"]
    done = [e for e in events if e["type"] == "response.output_item.done"]
    assert [e["item"]["id"] for e in added] == [e["item"]["id"] for e in done] == [i["id"] for i in writer.output]
    assert [e["output_index"] for e in added] == [0, 1, 2]
    arguments = next(e for e in events if e["type"] == "response.function_call_arguments.done")
    assert arguments["arguments"] == '{"a":1}' and arguments["name"] == "f"
    assert writer.output[1]["content"][0]["text"] == "Hello"
    assert events[0]["response"]["output"] == []  # the created event does not see what came later


def test_input_items_pages_by_cursor_newest_first() -> None:
    items = [{"id": f"msg_{i}"} for i in range(5)]
    page = items_page(items, after=None, before=None, limit=2, order="desc")
    assert [i["id"] for i in page["data"]] == ["msg_4", "msg_3"] and page["has_more"]
    page = items_page(items, after="msg_3", before=None, limit=10, order="desc")
    assert [i["id"] for i in page["data"]] == ["msg_2", "msg_1", "msg_0"] and not page["has_more"]
    page = items_page(items, after=None, before="msg_2", limit=10, order="asc")
    assert [i["id"] for i in page["data"]] == ["msg_0", "msg_1"] and page["last_id"] == "msg_1"
    with pytest.raises(InvalidRequestError):
        items_page(items, after="nope", before=None, limit=1, order="asc")
