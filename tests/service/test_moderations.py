"""/v1/moderations in-process: one Llama Guard call per input, bounded, in order; usage recorded once."""

from __future__ import annotations

import json
import threading
import time
from typing import Any

import pytest

from openai_compat.core.metering import Measurement
from tests.service.conftest import Gateway, envelope, failure
from tests.unit.factories import run_url

GUARD = "@cf/meta/llama-guard-3-8b"


class GuardUpstream:
    """Answers `unsafe\\nS<n>` for a message `flag S<n>`, else `safe`; records calls and peak concurrency."""

    def __init__(self, delay: float = 0.0) -> None:
        self.contents: list[str] = []
        self.payloads: list[dict[str, Any]] = []
        self.in_flight = 0
        self.peak = 0
        self.delay = delay
        self._lock = threading.Lock()

    def __call__(self, request: Any) -> tuple[int, dict[str, str], str]:
        payload = json.loads(request.body)
        content = payload["messages"][-1]["content"]
        with self._lock:
            self.payloads.append(payload)
            self.contents.append(content)
            self.in_flight += 1
            self.peak = max(self.peak, self.in_flight)
        try:
            # Later inputs answer sooner, so a gateway that kept arrival order would scramble results.
            time.sleep(self.delay / (1 + len(self.contents)))
            answer = "unsafe\n" + content.split()[-1] if content.startswith("flag ") else "safe"
            usage = {"prompt_tokens": 100, "completion_tokens": 2, "total_tokens": 102}
            return 200, {}, json.dumps(envelope({"response": answer, "usage": usage}))
        finally:
            with self._lock:
                self.in_flight -= 1


@pytest.fixture
def guard(gateway: Gateway) -> GuardUpstream:
    upstream = GuardUpstream()
    gateway.upstream.add_callback("POST", run_url(GUARD), callback=upstream, content_type="application/json")
    return upstream


def flagged(body: dict[str, Any]) -> list[set[str]]:
    return [{c for c, on in r["categories"].items() if on} for r in body["results"]]


def test_default_model_one_result_per_input_in_order(
    gateway: Gateway, guard: GuardUpstream, measurements: list[Measurement]
) -> None:
    inputs = ["hello", "flag S10", "fine", "flag S1"]
    reply = gateway.post("/v1/moderations", {"input": inputs})
    assert reply.status_code == 200, reply.get_json()
    body = reply.get_json()
    assert body["model"] == GUARD and reply.headers["x-workers-ai-model"] == GUARD
    assert [r["flagged"] for r in body["results"]] == [False, True, False, True]
    assert flagged(body) == [set(), {"hate"}, set(), {"violence", "illicit", "illicit/violent"}]
    assert sorted(guard.contents) == sorted(inputs)
    assert all(p["messages"] == [{"role": "user", "content": p["messages"][0]["content"]}] for p in guard.payloads)
    assert all(p["temperature"] == 0 for p in guard.payloads)
    assert len(measurements) == 1
    usage = measurements[0].usage
    assert (usage.prompt_tokens, usage.completion_tokens, usage.estimated) == (400, 8, False)
    assert measurements[0].model.upstream == GUARD


@pytest.mark.parametrize("settings_overrides", [{"moderation_max_concurrency": 2}])
def test_inputs_go_with_bounded_concurrency_and_keep_their_order(gateway: Gateway) -> None:
    upstream = GuardUpstream(delay=0.3)
    gateway.upstream.add_callback("POST", run_url(GUARD), callback=upstream, content_type="application/json")
    inputs = [f"flag S{n}" if n % 2 else f"text {n}" for n in range(1, 11)]
    body = gateway.post("/v1/moderations", {"input": inputs}).get_json()
    assert [r["flagged"] for r in body["results"]] == [n % 2 == 1 for n in range(1, 11)]
    assert flagged(body)[0] == {"violence", "illicit", "illicit/violent"} and flagged(body)[8] == {
        "violence", "illicit", "illicit/violent"}
    assert upstream.peak == 2


@pytest.mark.parametrize(
    "settings_overrides", [{"model_aliases": {"omni-moderation-latest": GUARD, "gpt-4o": "@cf/meta/llama-4-scout"}}]
)
def test_an_alias_is_echoed_and_a_chat_model_refused(gateway: Gateway, guard: GuardUpstream) -> None:
    reply = gateway.post("/moderations", {"model": "omni-moderation-latest", "input": "hi"})
    assert reply.status_code == 200 and reply.get_json()["model"] == "omni-moderation-latest"
    refused = gateway.post("/v1/moderations", {"model": "gpt-4o", "input": "hi"})
    assert refused.status_code == 400 and refused.get_json()["error"]["param"] == "model"
    assert len(guard.contents) == 1


@pytest.mark.parametrize(
    "catalogue_records", [[{"name": "@cf/baai/llama-guard-embedder", "task": {"name": "Text Embeddings"}}]]
)
def test_a_model_of_another_task_is_refused(gateway: Gateway) -> None:
    reply = gateway.post("/v1/moderations", {"model": "@cf/baai/llama-guard-embedder", "input": "hi"})
    assert reply.status_code == 400 and reply.get_json()["error"]["param"] == "model"
    assert gateway.runs() == []


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ({"input": []}, "input"),
        ({}, "input"),
        ({"input": [{"type": "text", "text": "a"}, {"type": "image_url", "image_url": {"url": "https://x/y.png"}}]},
         "input[1]"),
        ({"input": ["a", "x" * 131_073]}, "input[1]"),
        ({"input": "hi", "model": ""}, "model"),
    ],
)
def test_bad_requests_are_refused_before_any_upstream_call(gateway: Gateway, body: dict, param: str) -> None:
    reply = gateway.post("/v1/moderations", body)
    assert reply.status_code == 400 and reply.get_json()["error"]["param"] == param
    assert gateway.runs() == []


def test_one_failing_input_fails_the_request_with_its_status(gateway: Gateway) -> None:
    def answer(request: Any) -> tuple[int, dict[str, str], str]:
        if json.loads(request.body)["messages"][0]["content"] == "bad":
            return 400, {}, json.dumps(failure(5006, "AiError: Bad input"))
        return 200, {}, json.dumps(envelope({"response": "safe"}))

    gateway.upstream.add_callback("POST", run_url(GUARD), callback=answer, content_type="application/json")
    reply = gateway.post("/v1/moderations", {"input": ["ok", "bad", "ok"]})
    assert reply.status_code == 400 and reply.get_json()["error"]["code"] == "invalid_upstream_input"


def test_a_reply_that_is_no_verdict_is_a_502(gateway: Gateway) -> None:
    gateway.upstream.post(run_url(GUARD), json=envelope({"response": "Sure! Here is a poem."}))
    reply = gateway.post("/v1/moderations", {"input": "hi"})
    assert reply.status_code == 502 and "verdict" in reply.get_json()["error"]["message"]


def test_the_parsed_object_form_is_read_too(gateway: Gateway, measurements: list[Measurement]) -> None:
    gateway.upstream.post(run_url(GUARD), json=envelope({"response": {"safe": False, "categories": ["S11"]}}))
    body = gateway.post("/v1/moderations", {"input": "some text here"}).get_json()
    assert flagged(body) == [{"self-harm"}] and body["results"][0]["category_scores"]["self-harm"] == 1.0
    assert measurements[0].usage.estimated is True and measurements[0].usage.prompt_tokens == 4
