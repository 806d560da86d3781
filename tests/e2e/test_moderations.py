"""Moderations end to end: the official SDK's `moderations.create` -> gunicorn-served gateway -> emulated Llama Guard.

The emulator's verdict rule (workers_ai_emulator/llama_guard.py): "kill" raises S1, "hate" S10, a hazard
code written as a word (S7) raises itself; anything else is safe.
"""

from __future__ import annotations

import json
import time
from typing import Any

import openai
import pytest
import requests

from tests.support.emulator import EmulatorHandle
from tests.support.gateway import GatewayHandle
from tests.support.openai_spec import assert_valid

GUARD = "@cf/meta/llama-guard-3-8b"


def on(categories: Any) -> set[str]:
    """The categories a result sets, by OpenAI's names (the SDK's model has aliases for them)."""
    return {name for name, value in categories.model_dump(by_alias=True).items() if value}


def guard_calls(emulator: EmulatorHandle) -> list[dict[str, Any]]:
    return [r for r in emulator.requests() if r["path"].endswith(f"/ai/run/{GUARD}")]


def test_a_threat_is_flagged_as_violence(gateway: GatewayHandle, upstream: EmulatorHandle) -> None:
    raw = gateway.client().moderations.with_raw_response.create(input="I want to kill them.")
    result = raw.parse()
    assert raw.headers["x-workers-ai-model"] == GUARD
    assert result.model == GUARD and result.id.startswith("modr-")
    [verdict] = result.results
    assert verdict.flagged is True
    assert on(verdict.categories) == {"violence", "illicit", "illicit/violent"}
    assert verdict.category_scores.violence == 1.0 and verdict.category_scores.hate == 0.0
    assert verdict.category_applied_input_types.violence == ["text"]
    [call] = guard_calls(upstream)
    assert call["json"]["messages"] == [{"role": "user", "content": "I want to kill them."}]


def test_a_list_gives_one_result_per_input_in_order(gateway: GatewayHandle, upstream: EmulatorHandle) -> None:
    inputs = ["Good morning!", "I hate Mondays", "lovely weather", "This is about S7 matters", "kill S10"]
    result = gateway.client().moderations.create(model="omni-moderation-latest", input=inputs)
    assert result.model == "omni-moderation-latest"
    assert [r.flagged for r in result.results] == [False, True, False, True, True]
    assert [on(r.categories) for r in result.results] == [
        set(), {"hate"}, set(), set(), {"violence", "illicit", "illicit/violent", "hate"}
    ]
    assert sorted(c["json"]["messages"][0]["content"] for c in guard_calls(upstream)) == sorted(inputs)


def test_multi_modal_text_parts_are_one_input(gateway: GatewayHandle, upstream: EmulatorHandle) -> None:
    parts = [{"type": "text", "text": "a quiet afternoon"}, {"type": "text", "text": "then I hate everything"}]
    result = gateway.client().moderations.create(model="text-moderation-latest", input=parts)
    assert len(result.results) == 1 and on(result.results[0].categories) == {"hate"}
    [call] = guard_calls(upstream)
    assert call["json"]["messages"][0]["content"] == "a quiet afternoon\nthen I hate everything"


def test_an_image_part_is_a_400_naming_it(gateway: GatewayHandle, upstream: EmulatorHandle) -> None:
    parts = [
        {"type": "text", "text": "look"},
        {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw0KGgo="}},
    ]
    with pytest.raises(openai.BadRequestError) as caught:
        gateway.client().moderations.create(input=parts)
    assert caught.value.body["param"] == "input[1]"
    assert guard_calls(upstream) == []


@pytest.mark.parametrize(
    ("body", "param"),
    [({"input": []}, "input"), ({"input": 42}, "input"), ({"input": "hi", "model": "gpt-4o"}, "model")],
)
def test_bad_requests_are_400_naming_the_field(gateway: GatewayHandle, body: dict, param: str) -> None:
    response = requests.post(
        f"{gateway.url}/moderations", json=body, headers={"Authorization": f"Bearer {gateway.api_key}"}, timeout=30
    )
    assert response.status_code == 400 and response.json()["error"]["param"] == param
    assert_valid("ErrorResponse", response.json())


def test_the_body_matches_the_openai_spec(gateway: GatewayHandle) -> None:
    response = requests.post(
        f"{gateway.url}/v1/moderations",
        json={"input": ["fine", "kill", "S6 and S13"]},
        headers={"Authorization": f"Bearer {gateway.api_key}"},
        timeout=30,
    )
    assert response.status_code == 200, response.text
    assert [r["flagged"] for r in response.json()["results"]] == [False, True, True]
    assert_valid("CreateModerationResponse", response.json())


def test_an_upstream_failure_fails_the_request(gateway: GatewayHandle, upstream: EmulatorHandle) -> None:
    upstream.set_faults(fail_status=500, fail_times=1)
    with pytest.raises(openai.InternalServerError) as caught:
        gateway.client(max_retries=0).moderations.create(input=["a", "b", "c"])
    assert caught.value.status_code == 502


def test_usage_reaches_the_access_log(gateway: GatewayHandle) -> None:
    gateway.client().moderations.create(input=["one two three", "four"], extra_headers={"X-Request-ID": "modr-usage"})
    deadline = time.monotonic() + 10
    line: dict[str, Any] = {}
    while not line and time.monotonic() < deadline:
        found = [json.loads(t) for t in gateway.log_text().splitlines() if t.startswith('{"request_id":"modr-usage"')]
        line = next((f for f in found if f.get("event") == "request"), {})
        time.sleep(0.05)
    # Each input: its words plus the emulated Llama Guard prompt template (150), reported by Workers AI.
    assert line["inputs"] == 2 and line["prompt_tokens"] == (150 + 3) + (150 + 1)
    assert "usage_estimated" not in line
