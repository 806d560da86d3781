"""Input a hostile or careless client sends: every kind of bad body is a 400 naming what is wrong, never a 500."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.service.conftest import LLAMA, Gateway, envelope
from tests.unit.factories import run_url

CHAT = {"model": LLAMA, "messages": [{"role": "user", "content": "hi"}]}


def raw(gateway: Gateway, path: str, body: str, content_type: str = "application/json") -> Any:
    return gateway.client.post(path, data=body, content_type=content_type,
                               headers={"Authorization": "Bearer sk-unit"})


def assert_openai_400(reply: Any, param: str | None = None) -> dict[str, Any]:
    assert reply.status_code == 400, reply.get_data(as_text=True)
    error = reply.get_json()["error"]
    assert set(error) == {"message", "type", "param", "code"} and error["type"] == "invalid_request_error"
    if param is not None:
        assert error["param"] == param
    return error


@pytest.mark.parametrize(("path", "field"), [
    ("/v1/chat/completions", "max_tokens"), ("/v1/chat/completions", "seed"), ("/v1/embeddings", "dimensions"),
    ("/v1/responses", "max_output_tokens"), ("/v1/completions", "n"),
])
def test_integers_of_thousands_of_digits_are_400(gateway: Gateway, path: str, field: str) -> None:
    body = {"model": LLAMA, "messages": [{"role": "user", "content": "x"}], "prompt": "x", "input": "x"}
    text = json.dumps(body)[:-1] + f', "{field}": ' + "9" * 5000 + "}"
    assert_openai_400(raw(gateway, path, text))
    assert not gateway.runs()


@pytest.mark.parametrize("arguments", ["[" * 5000 + "]" * 5000, '{"a": ' + "7" * 5000 + "}",
                                       "[" * 900 + "1" + "]" * 900])
def test_json_inside_tool_call_arguments_never_breaks_the_gateway(gateway: Gateway, arguments: str) -> None:
    gateway.upstream.post(run_url(LLAMA), json=envelope({"response": "ok"}))
    messages = [
        {"role": "user", "content": "go"},
        {"role": "assistant", "tool_calls": [{"id": "call_1", "type": "function",
                                              "function": {"name": "f", "arguments": arguments}}]},
        {"role": "tool", "tool_call_id": "call_1", "content": "done"},
    ]
    reply = gateway.post("/v1/chat/completions", {"model": LLAMA, "messages": messages})
    assert reply.status_code == 200, reply.get_data(as_text=True)
    sent = json.loads(gateway.runs(LLAMA)[0].request.body)["messages"][1]["content"]
    assert json.loads(sent)["name"] == "f"


@pytest.mark.parametrize(("path", "body", "param"), [
    ("/v1/embeddings", '{"model": "@cf/baai/bge-m3", "input": ["fine", "a\\ud800b"]}', "input[1]"),
    ("/v1/chat/completions", '{"model": "m", "messages": [{"role": "user", "content": "x\\udfff"}]}',
     "messages[0].content"),
    ("/v1/moderations", '{"input": "\\ud800"}', "input"),
])
def test_lone_surrogates_are_400_naming_the_field(gateway: Gateway, path: str, body: str, param: str) -> None:
    error = assert_openai_400(raw(gateway, path, body), param)
    assert "surrogate" in error["message"]
    assert not gateway.runs()


def test_valid_surrogate_pairs_pass(gateway: Gateway) -> None:
    gateway.upstream.post(run_url(LLAMA), json=envelope({"response": "ok"}))
    reply = raw(gateway, "/v1/chat/completions",
                json.dumps({**CHAT, "messages": [{"role": "user", "content": "\ud83d\ude00"}]}, ensure_ascii=True))
    assert reply.status_code == 200
    assert json.loads(gateway.runs(LLAMA)[0].request.body)["messages"][0]["content"] == "\U0001f600"


@pytest.mark.parametrize(("path", "body", "param"), [
    ("/v1/chat/completions", {**CHAT, "top_p": False}, "top_p"),
    ("/v1/chat/completions", {**CHAT, "temperature": True}, "temperature"),
    ("/v1/chat/completions", {**CHAT, "max_tokens": True}, "max_tokens"),
    ("/v1/completions", {"model": LLAMA, "prompt": "x", "n": True}, "n"),
    ("/v1/embeddings", {"model": "@cf/baai/bge-m3", "input": "x", "dimensions": True}, "dimensions"),
    ("/v1/responses", {"model": LLAMA, "input": "x", "temperature": False}, "temperature"),
    ("/v1/rerank", {"query": "q", "documents": ["d"], "top_n": True}, "top_n"),
])
def test_booleans_are_not_numbers(gateway: Gateway, path: str, body: dict[str, Any], param: str) -> None:
    assert_openai_400(gateway.post(path, body), param)
    assert not gateway.runs()


@pytest.mark.parametrize("body", ["{", '{"model": NaN}', '{"a": Infinity}', "[1, 2]", '"text"', "", "\xff\xfe",
                                  '{"model": "m"' + "}" * 3, "[" * 100_000])
def test_malformed_json_is_400(gateway: Gateway, body: str) -> None:
    assert_openai_400(raw(gateway, "/v1/chat/completions", body))


def test_duplicate_keys_keep_the_last_as_json_does(gateway: Gateway) -> None:
    gateway.upstream.post(run_url(LLAMA), json=envelope({"response": "ok"}))
    reply = raw(gateway, "/v1/chat/completions",
                '{"model": "nope", "model": "' + LLAMA + '", "messages": [{"role": "user", "content": "x"}]}')
    assert reply.status_code == 200


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data"])
def test_wrong_content_types_are_415(gateway: Gateway, content_type: str) -> None:
    reply = raw(gateway, "/v1/chat/completions", json.dumps(CHAT), content_type)
    assert reply.status_code == 415 and reply.get_json()["error"]["code"] == "unsupported_media_type"
