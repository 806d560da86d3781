"""Legacy Completions end to end with the official SDK."""

from __future__ import annotations

from typing import Any

import openai
import pytest
import requests

from tests.support.emulator import EmulatorHandle, parse_sse
from tests.support.gateway import GatewayHandle
from tests.support.openai_spec import assert_valid

MODELS = ["gpt-3.5-turbo-instruct", "@cf/zai-org/glm-4.7-flash", "@cf/openai/gpt-oss-120b"]


@pytest.mark.parametrize("model", MODELS)
def test_completion(gateway: GatewayHandle, model: str) -> None:
    reply = gateway.client().completions.create(model=model, prompt="tell me")
    assert reply.object == "text_completion" and reply.id.startswith("cmpl-") and reply.model == model
    assert reply.choices[0].text == "Hello! You said: tell me" and reply.choices[0].finish_reason == "stop"
    raw = requests.post(f"{gateway.base_url}/completions", json={"model": model, "prompt": "tell me"},
                        headers={"Authorization": f"Bearer {gateway.api_key}"}, timeout=30)
    assert_valid("CreateCompletionResponse", raw.json())


def test_prompt_list_and_n_give_one_choice_each_in_order(gateway: GatewayHandle) -> None:
    reply = gateway.client().completions.create(model="gpt-3.5-turbo-instruct", prompt=["one", "two"], n=2)
    assert [(c.index, c.text) for c in reply.choices] == [
        (0, "Hello! You said: one"), (1, "Hello! You said: one"),
        (2, "Hello! You said: two"), (3, "Hello! You said: two")]
    assert reply.usage.completion_tokens == 16
    assert reply.usage.prompt_tokens == 2  # each prompt counted once, not once per choice


def test_echo_max_tokens_and_stop(gateway: GatewayHandle) -> None:
    client = gateway.client()
    echoed = client.completions.create(model="gpt-3.5-turbo-instruct", prompt="abc", echo=True)
    assert echoed.choices[0].text == "abcHello! You said: abc"
    short = client.completions.create(model="gpt-3.5-turbo-instruct", prompt="abc", max_tokens=2)
    assert short.choices[0].finish_reason == "length" and short.choices[0].text == "Hello! You"
    stopped = client.completions.create(model="gpt-3.5-turbo-instruct", prompt="abc", stop="said")
    assert stopped.choices[0].text == "Hello! You " and stopped.choices[0].finish_reason == "stop"


def test_streamed_completion(gateway: GatewayHandle) -> None:
    raw = requests.post(
        f"{gateway.base_url}/completions",
        json={"model": "gpt-3.5-turbo-instruct", "prompt": "go", "stream": True,
              "stream_options": {"include_usage": True}, "echo": True},
        headers={"Authorization": f"Bearer {gateway.api_key}"}, timeout=30)
    events = parse_sse(raw.text)
    assert events[-1] == "[DONE]"
    chunks = events[:-1]
    assert all(c["object"] == "text_completion" for c in chunks)
    text = "".join(c["choices"][0]["text"] for c in chunks if c["choices"])
    assert text == "goHello! You said: go"
    assert chunks[-2]["choices"][0]["finish_reason"] == "stop"
    assert chunks[-1]["choices"] == [] and chunks[-1]["usage"]["completion_tokens"] == 4
    assert_valid("CreateCompletionResponse", chunks[-2])
    sdk = list(gateway.client().completions.create(model="gpt-3.5-turbo-instruct", prompt="go", stream=True))
    assert "".join(c.choices[0].text for c in sdk if c.choices) == "Hello! You said: go"


@pytest.mark.parametrize(
    ("field", "value"),
    [("suffix", "end"), ("best_of", 3), ("logprobs", 2), ("prompt", [1, 2, 3]), ("prompt", [[1, 2]]),
     ("prompt", ""), ("logit_bias", {"1": 1})],
)
def test_unsupported_fields_are_400(gateway: GatewayHandle, field: str, value: Any) -> None:
    body: dict[str, Any] = {"model": "gpt-3.5-turbo-instruct", "prompt": "x", field: value}
    with pytest.raises(openai.BadRequestError) as caught:
        gateway.client().completions.create(**body)
    assert caught.value.param == field


def test_upstream_errors_map(gateway: GatewayHandle, upstream: EmulatorHandle) -> None:
    upstream.set_faults(fail_status=408, fail_code=3007)
    with pytest.raises(openai.APIStatusError) as caught:
        gateway.client(max_retries=0).completions.create(model="gpt-3.5-turbo-instruct", prompt="x")
    assert caught.value.status_code == 504
