"""Scripted answers: a rule decides what a text model says when it fits the request, in every dialect and in
streams; otherwise the default generation answers. Malformed scripts are refused by name."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from tests.support.emulator import EmulatorHandle, parse_sse, start_emulator

LLAMA33 = "@cf/meta/llama-3.3-70b-instruct-fp8-fast"
GLM = "@cf/zai-org/glm-4.7-flash"
OSS = "@cf/openai/gpt-oss-120b"
MAGIC = {"name": "magic_function", "description": "Apply a magic function.", "parameters": {
    "type": "object", "properties": {"input": {"type": "integer", "description": "n"}}, "required": ["input"]}}
OTHER = {"name": "other", "description": "Another tool.",
         "parameters": {"type": "object", "properties": {"x": {"type": "string", "description": "x"}}}}
JOKE = {"setup": "Why?", "punchline": "Because."}
RULES = [
    {"contains": "magic_function(3)", "tool_calls": [{"name": "magic_function", "arguments": {"input": 3}}]},
    {"contains": "joke", "json": JOKE},
    {"contains": "joke", "reply": "No jokes today."},
]


@pytest.fixture
def scripted(emu: EmulatorHandle) -> Iterator[EmulatorHandle]:
    emu.set_script(RULES)
    yield emu
    emu.clear_script()


def chat(text: str, **extra: object) -> dict:
    return {"messages": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": text}], **extra}


def result(emu: EmulatorHandle, model: str, body: dict) -> dict:
    response = emu.run(model, body)
    assert response.status_code == 200, response.text
    return response.json()["result"]


def test_a_tool_call_rule_makes_exactly_its_calls(scripted: EmulatorHandle) -> None:
    question = "What is the value of magic_function(3)? Use the tool."
    classic = result(scripted, LLAMA33, chat(question, tools=[OTHER, MAGIC]))
    assert classic["tool_calls"] == [{"name": "magic_function", "arguments": {"input": 3}}]
    tools = [{"type": "function", "function": OTHER}, {"type": "function", "function": MAGIC}]
    [call] = result(scripted, GLM, chat(question, tools=tools))["choices"][0]["message"]["tool_calls"]
    assert call["function"]["name"] == "magic_function" and json.loads(call["function"]["arguments"]) == {"input": 3}
    events = parse_sse(scripted.run(LLAMA33, chat(question, tools=[MAGIC], stream=True)).text)
    assert [e["tool_calls"] for e in events if isinstance(e, dict) and e.get("tool_calls")] == [
        [{"name": "magic_function", "arguments": {"input": 3}}]]


def test_a_tool_call_rule_needs_its_tools_offered_and_allowed(scripted: EmulatorHandle) -> None:
    question = "What is the value of magic_function(3)?"
    assert result(scripted, LLAMA33, chat(question))["response"] == "Hello! You said: " + question
    assert result(scripted, LLAMA33, chat(question, tools=[OTHER]))["tool_calls"] == [
        {"name": "other", "arguments": {"x": "magicfunction3"}}]  # the default generation's call
    assert result(scripted, LLAMA33, chat(question, tools=[MAGIC], tool_choice="none"))["tool_calls"] == []


def test_a_json_rule_answers_json_mode_and_a_reply_rule_the_rest(scripted: EmulatorHandle) -> None:
    schema = {"type": "json_schema", "json_schema": {"name": "Joke", "schema": {
        "type": "object", "properties": {"setup": {"type": "string"}, "punchline": {"type": "string"}}}}}
    classic = result(scripted, LLAMA33, chat("Tell me a joke", response_format={"type": "json_object"}))
    assert classic["response"] == JOKE
    content = result(scripted, GLM, chat("Tell me a joke", response_format=schema))["choices"][0]["message"]["content"]
    assert json.loads(content) == JOKE
    responses = result(scripted, OSS, {"input": "Tell me a joke", "text": {"format": {"type": "json_object"}}})
    assert json.loads(responses["output"][-1]["content"][0]["text"]) == JOKE
    assert result(scripted, LLAMA33, chat("Tell me a joke"))["response"] == "No jokes today."
    events = parse_sse(scripted.run(GLM, chat("Tell me a joke", stream=True)).text)
    text = "".join(e["choices"][0]["delta"].get("content") or "" for e in events
                   if isinstance(e, dict) and e.get("choices"))
    assert text == "No jokes today."
    with_tools = result(scripted, LLAMA33, chat("Tell me a joke", tools=[OTHER]))
    assert with_tools == {**with_tools, "response": "No jokes today.", "tool_calls": []}


def test_rules_answer_only_the_users_turn(scripted: EmulatorHandle) -> None:
    body = {"messages": [{"role": "user", "content": "Tell me a joke"},
                         {"role": "assistant", "content": "", "tool_calls": []},
                         {"role": "tool", "content": "sunny"}]}
    assert result(scripted, LLAMA33, body)["response"] == "The tool returned: sunny"


def test_the_control_api_shows_replaces_and_clears_the_script(emu: EmulatorHandle) -> None:
    url = f"{emu.url}/__emulator/script"
    try:
        assert emu.set_script(RULES)["rules"] == RULES
        assert requests.get(url, timeout=5).json() == {"ok": True, "rules": RULES}
        for rules, complaint in [
            ([{"contains": "x"}], "rules[0] must give exactly one of reply, tool_calls, json"),
            ([RULES[0], {"contains": "", "reply": "y"}], "rules[1].contains must be a non-empty string"),
            ([{"contains": "x", "tool_calls": [{"arguments": {}}]}], "rules[0].tool_calls[0] must be an object"),
            ([{"contains": "x", "reply": "y", "when": 1}], "rules[0] has unknown fields ['when']"),
        ]:
            refused = requests.post(url, json={"rules": rules}, timeout=5)
            assert refused.status_code == 400 and refused.json()["error"].startswith(complaint)
        assert requests.get(url, timeout=5).json()["rules"] == RULES  # a refused script changes nothing
        emu.clear_script()
        assert requests.get(url, timeout=5).json()["rules"] == []
        assert result(emu, LLAMA33, chat("Tell me a joke"))["response"] == "Hello! You said: Tell me a joke"
    finally:
        emu.clear_script()


def test_a_script_file_on_the_command_line(tmp_path: Path) -> None:
    script = tmp_path / "rules.json"
    script.write_text(json.dumps({"rules": RULES}))
    with start_emulator("--script", str(script)) as emu:
        assert result(emu, LLAMA33, chat("Tell me a joke"))["response"] == "No jokes today."
