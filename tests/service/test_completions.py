"""/v1/completions in-process: legacy text completions over a mocked Workers AI."""

from __future__ import annotations

import json

from tests.service.conftest import Gateway, envelope, sse, sse_payloads
from tests.unit.factories import run_url

MODEL = "@cf/meta/llama-3.1-8b-instruct"


def test_prompt_becomes_a_text_completion(gateway: Gateway) -> None:
    gateway.upstream.post(run_url(MODEL), json=envelope(
        {"response": " world", "usage": {"prompt_tokens": 2, "completion_tokens": 1, "total_tokens": 3}}
    ))
    reply = gateway.post("/v1/completions", {"model": MODEL, "prompt": "Hello", "max_tokens": 5})
    assert reply.status_code == 200, reply.get_json()
    body = reply.get_json()
    assert body["object"] == "text_completion" and body["id"].startswith("cmpl-")
    assert body["model"] == MODEL
    assert body["choices"] == [{"text": " world", "index": 0, "logprobs": None, "finish_reason": "stop"}]
    assert body["usage"] == {"prompt_tokens": 2, "completion_tokens": 1, "total_tokens": 3}
    assert reply.headers["x-workers-ai-model"] == MODEL
    sent = json.loads(gateway.runs(MODEL)[0].request.body)
    assert sent == {"prompt": "Hello", "max_tokens": 5}


def test_echo_prefixes_the_prompt(gateway: Gateway) -> None:
    gateway.upstream.post(run_url(MODEL), json=envelope({"response": " world"}))
    body = gateway.post("/v1/completions", {"model": MODEL, "prompt": "Hello", "echo": True}).get_json()
    assert body["choices"][0]["text"] == "Hello world"


def test_stop_sequence_is_applied_for_classic_models(gateway: Gateway) -> None:
    gateway.upstream.post(run_url(MODEL), json=envelope({"response": "one\ntwo\nthree"}))
    body = gateway.post("/v1/completions", {"model": MODEL, "prompt": "Count", "stop": "\n"}).get_json()
    assert body["choices"][0]["text"] == "one"
    assert body["choices"][0]["finish_reason"] == "stop"
    assert "stop" not in json.loads(gateway.runs(MODEL)[0].request.body)  # classic models take none


def test_two_prompts_give_two_choices_in_prompt_order(gateway: Gateway) -> None:
    def answer(request):
        prompt = json.loads(request.body)["prompt"]
        return 200, {}, json.dumps(envelope({"response": f"<{prompt}>"}))

    gateway.upstream.add_callback("POST", run_url(MODEL), callback=answer, content_type="application/json")
    body = gateway.post("/v1/completions", {"model": MODEL, "prompt": ["a", "b"]}).get_json()
    assert [c["text"] for c in body["choices"]] == ["<a>", "<b>"]
    assert [c["index"] for c in body["choices"]] == [0, 1]


def test_streamed_completion_chunks_then_done(gateway: Gateway) -> None:
    gateway.upstream.post(run_url(MODEL), body=sse({"response": "x"}, {"response": "y"}),
                          content_type="text/event-stream")
    reply = gateway.post("/v1/completions", {"model": MODEL, "prompt": "Hi", "stream": True})
    assert reply.mimetype == "text/event-stream"
    events = sse_payloads(reply.get_data())
    assert events[-1] == "[DONE]"
    chunks = events[:-1]
    assert all(c["object"] == "text_completion" for c in chunks)
    assert "".join(c["choices"][0]["text"] for c in chunks) == "xy"
    assert chunks[-1]["choices"][0]["finish_reason"] == "stop"


def test_token_id_prompt_is_refused(gateway: Gateway) -> None:
    reply = gateway.post("/v1/completions", {"model": MODEL, "prompt": [1, 2, 3]})
    assert reply.status_code == 400
    assert reply.get_json()["error"]["param"] == "prompt"
    assert gateway.runs() == []
