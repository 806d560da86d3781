"""The Responses API through the official SDK, against gunicorn + the emulator, with stored state."""

from __future__ import annotations

import json
import time
from typing import Any

import openai
import pytest
import requests
from pydantic import BaseModel

from tests.support.emulator import EmulatorHandle
from tests.support.gateway import GatewayHandle
from tests.support.openai_spec import assert_valid, assert_valid_event

CLASSIC = "@cf/meta/llama-3.3-70b-instruct-fp8-fast"
OSS = "@cf/openai/gpt-oss-120b"
WEATHER = {"type": "function", "name": "get_weather", "description": "Weather of a city",
           "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}


def raw_events(gateway: GatewayHandle, body: dict[str, Any], path: str = "/responses", method: str = "POST",
               ) -> list[tuple[str, dict[str, Any]]]:
    """(event line, data) of every SSE event, straight off the wire."""
    response = requests.request(method, gateway.base_url + path, json=body if method == "POST" else None,
                                headers={"Authorization": f"Bearer {gateway.api_key}"}, stream=True, timeout=30)
    assert response.status_code == 200, response.text
    events = []
    for block in response.text.split("\n\n"):
        lines = [line for line in block.splitlines() if not line.startswith(":")]
        if not lines:
            continue
        name = next(line[7:] for line in lines if line.startswith("event: "))
        data = json.loads("".join(line[6:] for line in lines if line.startswith("data: ")))
        events.append((name, data))
    return events


def wait_for(gateway: GatewayHandle, response_id: str, statuses: tuple[str, ...], timeout: float = 20) -> Any:
    client = gateway.client()
    deadline = time.monotonic() + timeout
    while True:
        got = client.responses.retrieve(response_id)
        if got.status in statuses or time.monotonic() > deadline:
            return got
        time.sleep(0.1)


@pytest.mark.parametrize("model", ["gpt-4o-mini", CLASSIC, OSS])
def test_create_with_a_string(gateway: GatewayHandle, model: str) -> None:
    response = gateway.client().responses.with_raw_response.create(model=model, input="Hi there")
    body = response.http_response.json()
    assert_valid("Response", body)
    parsed = response.parse()
    assert parsed.id.startswith("resp_") and parsed.status == "completed"
    assert parsed.output_text == "Hello! You said: Hi there"
    assert parsed.model == model and parsed.usage.output_tokens > 0 and parsed.usage.input_tokens > 0
    assert body["store"] is True and body["background"] is False and body["object"] == "response"


def test_create_with_items_and_instructions(gateway: GatewayHandle, upstream: EmulatorHandle) -> None:
    response = gateway.client().responses.create(
        model=CLASSIC,
        instructions="Be brief.",
        input=[{"role": "developer", "content": "Use English."},
               {"role": "user", "content": [{"type": "input_text", "text": "What is up"}]}],
    )
    assert response.output_text == "Hello! You said: What is up"
    sent = upstream.requests()[-1]["json"]
    assert sent["messages"][0] == {"role": "system", "content": "Be brief."}
    assert sent["messages"][1] == {"role": "system", "content": "Use English."}


def test_gpt_oss_gets_responses_input_and_answers_with_reasoning(gateway: GatewayHandle,
                                                                 upstream: EmulatorHandle) -> None:
    response = gateway.client().responses.create(model=OSS, input="think", reasoning={"effort": "low"})
    sent = upstream.requests()[-1]["json"]
    assert sent["reasoning"] == {"effort": "low"} and sent["input"][0]["role"] == "user"
    assert [item.type for item in response.output] == ["reasoning", "message"]
    assert response.output[0].content[0].text


def test_stream_sends_the_named_event_sequence(gateway: GatewayHandle) -> None:
    events = raw_events(gateway, {"model": CLASSIC, "input": "stream me", "stream": True})
    names = [name for name, _ in events]
    assert all(name == data["type"] for name, data in events)
    assert [data["sequence_number"] for _, data in events] == list(range(len(events)))
    assert names[:4] == ["response.created", "response.in_progress", "response.output_item.added",
                         "response.content_part.added"]
    assert names[-4:] == ["response.output_text.done", "response.content_part.done", "response.output_item.done",
                          "response.completed"]
    deltas = [data["delta"] for name, data in events if name == "response.output_text.delta"]
    assert len(deltas) == 5 and "".join(deltas) == "Hello! You said: stream me"
    for _, data in events:
        assert_valid_event("ResponseStreamEvent", data)
    assert events[-1][1]["response"]["output"][0]["content"][0]["text"] == "Hello! You said: stream me"


@pytest.mark.parametrize("faults", [{"ttft_ms": 1000}, {"token_delay_ms": 600}])
def test_heartbeat_comments_while_the_upstream_is_silent(
    heartbeat_gateway: GatewayHandle, upstream: EmulatorHandle, faults: dict[str, int]
) -> None:
    """Proxies close a stream that says nothing for a while: a silent model must not end it."""
    upstream.set_faults(**faults)
    response = requests.post(f"{heartbeat_gateway.base_url}/responses", stream=True, timeout=30,
                             json={"model": CLASSIC, "input": "stream me", "stream": True},
                             headers={"Authorization": f"Bearer {heartbeat_gateway.api_key}"})
    text = response.text
    assert 2 <= text.count(": ping\n\n") <= 40  # one per 0.2 s of silence, not a flood
    events = [block for block in text.replace(": ping\n\n", "").split("\n\n") if block]
    assert events[-1].startswith("event: response.completed")
    deltas = [json.loads(block.split("data: ", 1)[1])["delta"] for block in events
              if block.startswith("event: response.output_text.delta")]
    assert "".join(deltas) == "Hello! You said: stream me"
    stored = json.loads(events[-1].split("data: ", 1)[1])["response"]
    assert heartbeat_gateway.client().responses.retrieve(stored["id"]).output_text == "Hello! You said: stream me"


def test_stream_helper_yields_a_final_response(gateway: GatewayHandle) -> None:
    with gateway.client().responses.stream(model="gpt-4o-mini", input="stream me") as stream:
        texts = [event.delta for event in stream if event.type == "response.output_text.delta"]
        final = stream.get_final_response()
    assert "".join(texts) == final.output_text == "Hello! You said: stream me"
    assert gateway.client().responses.retrieve(final.id).output_text == final.output_text


def test_stream_of_a_reasoning_model_sends_reasoning_events(gateway: GatewayHandle) -> None:
    events = raw_events(gateway, {"model": OSS, "input": "think", "stream": True})
    names = [name for name, _ in events]
    assert "response.reasoning_text.delta" in names and "response.reasoning_text.done" in names
    assert names.index("response.reasoning_text.done") < names.index("response.output_text.delta")
    final = events[-1][1]["response"]
    assert [item["type"] for item in final["output"]] == ["reasoning", "message"]


def test_deltas_pass_through_as_they_arrive(gateway: GatewayHandle, upstream: EmulatorHandle) -> None:
    upstream.set_faults(token_delay_ms=300)
    started = time.monotonic()
    arrivals = []
    with gateway.client().responses.stream(model=CLASSIC, input="slow please") as stream:
        for event in stream:
            if event.type == "response.output_text.delta":
                arrivals.append(time.monotonic() - started)
    assert len(arrivals) == 5 and arrivals[-1] - arrivals[0] > 0.9


def test_mid_stream_failure_ends_with_error_and_response_failed(gateway: GatewayHandle,
                                                               upstream: EmulatorHandle) -> None:
    upstream.set_faults(cut_after=2)
    events = raw_events(gateway, {"model": CLASSIC, "input": "cut me", "stream": True})
    names = [name for name, _ in events]
    assert names[-2:] == ["error", "response.failed"] and "response.completed" not in names
    error = events[-2][1]
    assert error["message"] and error["error"]["message"] == error["message"]
    assert events[-1][1]["response"]["status"] == "failed"
    with pytest.raises(openai.APIError), gateway.client().responses.stream(model=CLASSIC, input="cut") as stream:
        for _ in stream:
            pass


class City(BaseModel):
    name: str
    population: int


@pytest.mark.parametrize("model", ["gpt-4.1", OSS])
def test_parse_with_a_pydantic_model(gateway: GatewayHandle, model: str) -> None:
    parsed = gateway.client().responses.parse(model=model, input="A city?", text_format=City)
    assert parsed.output_parsed == City(name="example", population=1)


def test_json_schema_output(gateway: GatewayHandle, upstream: EmulatorHandle) -> None:
    schema = {"type": "object", "properties": {"answer": {"type": "string"}}, "required": ["answer"],
              "additionalProperties": False}
    response = gateway.client().responses.create(
        model=CLASSIC, input="json please",
        text={"format": {"type": "json_schema", "name": "reply", "schema": schema, "strict": True}})
    assert json.loads(response.output_text) == {"answer": "example"}
    assert upstream.requests()[-1]["json"]["response_format"] == {"type": "json_schema", "json_schema": schema}
    assert response.text.format.type == "json_schema"


@pytest.mark.parametrize("model", ["gpt-4o-mini", CLASSIC, OSS])
def test_function_tool_round_trip_with_previous_response_id(gateway: GatewayHandle, model: str) -> None:
    client = gateway.client()
    first = client.responses.create(model=model, input="Weather in Paris", tools=[WEATHER])
    calls = [item for item in first.output if item.type == "function_call"]
    assert len(calls) == 1 and calls[0].name == "get_weather"
    assert json.loads(calls[0].arguments) == {"city": "Paris"} and calls[0].call_id.startswith("call_")
    second = client.responses.create(
        model=model, previous_response_id=first.id, tools=[WEATHER],
        input=[{"type": "function_call_output", "call_id": calls[0].call_id, "output": "sunny, 21C"}])
    assert second.output_text == "The tool returned: sunny, 21C"
    assert second.previous_response_id == first.id


def test_a_long_chain_remembers_every_turn(gateway: GatewayHandle, upstream: EmulatorHandle) -> None:
    client = gateway.client()
    previous = None
    for turn in range(6):
        previous = client.responses.create(model=CLASSIC, input=f"turn {turn}",
                                           previous_response_id=previous.id if previous else None)
    sent = upstream.requests()[-1]["json"]["messages"]
    assert [m["content"] for m in sent if m["role"] == "user"] == [f"turn {t}" for t in range(6)]
    assert sum(1 for m in sent if m["role"] == "assistant") == 5


def test_instructions_are_not_carried_over_a_chain(gateway: GatewayHandle, upstream: EmulatorHandle) -> None:
    client = gateway.client()
    first = client.responses.create(model=CLASSIC, input="one", instructions="Speak like a pirate.")
    client.responses.create(model=CLASSIC, input="two", previous_response_id=first.id)
    assert all("pirate" not in str(m["content"]) for m in upstream.requests()[-1]["json"]["messages"])


def test_retrieve_delete_and_input_items_with_pagination(gateway: GatewayHandle) -> None:
    client = gateway.client()
    created = client.responses.create(model=CLASSIC, input=[
        {"role": "user", "content": f"message {i}"} for i in range(5)])
    assert client.responses.retrieve(created.id).output_text == created.output_text
    first_page = client.responses.input_items.list(created.id, limit=2)
    assert len(first_page.data) == 2 and first_page.has_more
    assert first_page.data[0].content[0].text == "message 4"  # newest first
    every = [item.content[0].text for item in client.responses.input_items.list(created.id, limit=2)]
    assert every == [f"message {i}" for i in (4, 3, 2, 1, 0)]
    ascending = client.responses.input_items.list(created.id, order="asc", limit=100)
    assert [item.content[0].text for item in ascending.data] == [f"message {i}" for i in range(5)]
    raw = requests.get(f"{gateway.base_url}/responses/{created.id}/input_items?limit=2",
                       headers={"Authorization": f"Bearer {gateway.api_key}"}, timeout=5).json()
    assert_valid("ResponseItemList", raw)
    client.responses.delete(created.id)
    with pytest.raises(openai.NotFoundError):
        client.responses.retrieve(created.id)
    with pytest.raises(openai.NotFoundError):
        client.responses.input_items.list(created.id)


@pytest.mark.parametrize("call", ["retrieve", "delete", "input_items", "cancel"])
def test_unknown_ids_are_404(gateway: GatewayHandle, call: str) -> None:
    client = gateway.client()
    unknown = "resp_" + "0" * 32
    actions = {
        "retrieve": lambda: client.responses.retrieve(unknown),
        "delete": lambda: client.responses.delete(unknown),
        "input_items": lambda: client.responses.input_items.list(unknown),
        "cancel": lambda: client.responses.cancel(unknown),
    }
    with pytest.raises(openai.NotFoundError) as caught:
        actions[call]()
    assert caught.value.body["type"] == "invalid_request_error"


def test_an_unknown_previous_response_id_is_a_400_as_openai_answers_it(gateway: GatewayHandle) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        gateway.client().responses.create(model=CLASSIC, input="x", previous_response_id="resp_" + "0" * 32)
    assert caught.value.code == "previous_response_not_found" and caught.value.param == "previous_response_id"


def test_store_false_persists_nothing(gateway: GatewayHandle) -> None:
    client = gateway.client()
    unstored = client.responses.create(model=CLASSIC, input="forget me", store=False)
    assert unstored.store is False and unstored.output_text
    with pytest.raises(openai.NotFoundError):
        client.responses.retrieve(unstored.id)
    with pytest.raises(openai.BadRequestError):
        client.responses.create(model=CLASSIC, input="again", previous_response_id=unstored.id)


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ({"tools": [{"type": "web_search"}]}, "tools[0].type"),
        ({"input": [{"type": "computer_call_output", "call_id": "c", "output": {}}]}, "input[0].type"),
        ({"background": True, "store": False}, "background"),
        ({"max_output_tokens": 5}, "max_output_tokens"),
        ({"metadata": {f"k{i}": "v" for i in range(17)}}, "metadata"),
        ({"metadata": {"k": "v" * 513}}, "metadata"),
        ({"tool_choice": {"type": "function", "name": "nope"}, "tools": [WEATHER]}, "tool_choice"),
        ({"input": []}, "input"),
    ],
)
def test_what_cannot_be_served_is_400_naming_it(gateway: GatewayHandle, body: dict[str, Any], param: str) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        gateway.client().responses.create(**{"model": CLASSIC, "input": "x", **body})
    assert caught.value.body["param"] == param


def test_background_response_is_polled_to_completion(gateway: GatewayHandle) -> None:
    client = gateway.client()
    queued = client.responses.create(model=CLASSIC, input="in the background", background=True)
    assert queued.status == "queued" and queued.background is True
    done = wait_for(gateway, queued.id, ("completed",))
    assert done.status == "completed" and done.output_text == "Hello! You said: in the background"


def test_background_response_streams_and_resumes(gateway: GatewayHandle, upstream: EmulatorHandle) -> None:
    upstream.set_faults(token_delay_ms=100)
    events = raw_events(gateway, {"model": CLASSIC, "input": "follow me", "background": True, "stream": True})
    names = [name for name, _ in events]
    assert names[0] == "response.created" and events[0][1]["response"]["status"] == "queued"
    assert names[-1] == "response.completed"
    response_id = events[0][1]["response"]["id"]
    resumed = raw_events(gateway, {}, path=f"/responses/{response_id}?stream=true&starting_after=3", method="GET")
    assert [data["sequence_number"] for _, data in resumed] == list(range(4, len(events)))
    assert [name for name, _ in resumed] == names[4:]
    with gateway.client().responses.retrieve(response_id, stream=True, starting_after=0) as stream:
        replayed = [event.type for event in stream]
    assert replayed == names[1:]


def test_a_background_response_can_be_followed_while_it_runs(gateway: GatewayHandle,
                                                            upstream: EmulatorHandle) -> None:
    upstream.set_faults(token_delay_ms=200)
    queued = gateway.client().responses.create(model=CLASSIC, input="one two three four", background=True)
    followed = raw_events(gateway, {}, path=f"/responses/{queued.id}?stream=true", method="GET")
    deltas = [data["delta"] for name, data in followed if name == "response.output_text.delta"]
    assert "".join(deltas) == "Hello! You said: one two three four"
    assert followed[-1][0] == "response.completed"


def test_background_response_is_cancelled(gateway: GatewayHandle, upstream: EmulatorHandle) -> None:
    upstream.set_faults(ttft_ms=200, token_delay_ms=500)
    client = gateway.client()
    queued = client.responses.create(model=CLASSIC, input="a long answer please", background=True)
    time.sleep(0.5)
    cancelled = client.responses.cancel(queued.id)
    assert cancelled.status == "cancelled"
    assert client.responses.retrieve(queued.id).status == "cancelled"
    time.sleep(1.5)
    assert client.responses.retrieve(queued.id).status == "cancelled"  # the run stopped and did not overwrite it


def test_only_background_responses_can_be_cancelled(gateway: GatewayHandle) -> None:
    client = gateway.client()
    done = client.responses.create(model=CLASSIC, input="x")
    with pytest.raises(openai.BadRequestError):
        client.responses.cancel(done.id)


def test_upstream_error_before_the_first_byte_keeps_its_status(gateway: GatewayHandle,
                                                               upstream: EmulatorHandle) -> None:
    upstream.set_faults(fail_status=404, fail_code=5007)
    with pytest.raises(openai.NotFoundError):
        gateway.client().responses.create(model=CLASSIC, input="x", stream=True)


def test_a_background_run_failing_upstream_ends_failed(gateway: GatewayHandle, upstream: EmulatorHandle) -> None:
    upstream.set_faults(fail_status=400, fail_code=5006)
    queued = gateway.client().responses.create(model=CLASSIC, input="x", background=True)
    failed = wait_for(gateway, queued.id, ("failed",))
    assert failed.status == "failed" and failed.error is not None and failed.error.message


PNG_URL = "data:image/png;base64," + __import__("base64").b64encode(b"\x89PNG\r\n\x1a\n" + bytes(92)).decode()


def test_input_image_reaches_a_vision_model(gateway: GatewayHandle) -> None:
    response = gateway.client().responses.create(model="gpt-4o", input=[{"role": "user", "content": [
        {"type": "input_text", "text": "what is this"}, {"type": "input_image", "image_url": PNG_URL,
                                                          "detail": "auto"}]}])
    assert response.output_text == "I see an image of 100 bytes."


@pytest.mark.parametrize(("model", "url", "code"), [
    (CLASSIC, PNG_URL, "image_not_supported"),
    ("gpt-4o", "http://127.0.0.1/cat.png", "invalid_image_url"),
])
def test_images_the_gateway_cannot_send_are_400(gateway: GatewayHandle, model: str, url: str, code: str) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        gateway.client().responses.create(model=model, input=[{"role": "user", "content": [
            {"type": "input_image", "image_url": url, "detail": "auto"}]}])
    assert caught.value.body["code"] == code and caught.value.body["param"] == "input[0].content[0].image_url"
