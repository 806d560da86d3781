"""Operations in-process: cost headers, named keys with limits and budgets, /admin/usage, /metrics, /ready.

The catalogue the gateway reads is mocked with the published prices (`tests.support.prices`), and the
expected costs are worked out from those prices and the usage the upstream reported.
"""

from __future__ import annotations

import hashlib
from typing import Any

import pytest
from prometheus_client import REGISTRY

from tests.service.conftest import LLAMA, Gateway, envelope, sse
from tests.support.prices import published_price, unit_price
from tests.unit.factories import run_url

QWEN = "@cf/qwen/qwen3-embedding-0.6b"
GLM = "@cf/zai-org/glm-4.7-flash"
CI_SECRET = "sk-ci-bot-secret-0001"
ADMIN = "sk-admin-secret"


def record(name: str, task: str) -> dict[str, Any]:
    properties = [{"property_id": "price", "value": published_price(name)}] if published_price(name) else []
    return {"name": name, "task": {"name": task}, "properties": properties}


PRICED = [record(LLAMA, "Text Generation"), record(QWEN, "Text Embeddings"), record(GLM, "Text Generation")]


def named(name: str = "ci", secret: str = CI_SECRET, **limits: Any) -> dict[str, Any]:
    return {name: {"secret_sha256": hashlib.sha256(secret.encode()).hexdigest(), **limits}}


def bearer(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


def chat(model: str = LLAMA, **fields: Any) -> dict[str, Any]:
    return {"model": model, "messages": [{"role": "user", "content": "Say hi"}], **fields}


def reply_with(gateway: Gateway, prompt_tokens: int = 12, completion_tokens: int = 3, model: str = LLAMA) -> None:
    gateway.upstream.post(run_url(model), json=envelope(
        {"response": "hi", "usage": {"prompt_tokens": prompt_tokens, "completion_tokens": completion_tokens}}
    ))


def access_lines(gateway: Gateway) -> list[dict[str, Any]]:
    return gateway.logs.events("request", logger="openai_compat.access")


def llama_cost(prompt_tokens: int, completion_tokens: int) -> float:
    return (prompt_tokens * unit_price(LLAMA, "per M input tokens")
            + completion_tokens * unit_price(LLAMA, "per M output tokens")) / 1e6


# --- cost -----------------------------------------------------------------------------------------

@pytest.mark.parametrize("catalogue_records", [PRICED])
def test_a_chat_reply_carries_its_cost_at_the_catalogues_prices(gateway: Gateway) -> None:
    reply_with(gateway, 1200, 300)
    reply = gateway.post("/v1/chat/completions", chat(), headers={"Origin": "https://app.example"})
    assert reply.status_code == 200
    assert float(reply.headers["x-workers-ai-cost-usd"]) == pytest.approx(llama_cost(1200, 300), rel=1e-9)
    assert "x-workers-ai-cost-usd" in reply.headers["Access-Control-Expose-Headers"]  # readable in a browser
    assert "e" not in reply.headers["x-workers-ai-cost-usd"]  # a plain decimal
    reply.close()
    [line] = access_lines(gateway)
    assert line["cost_usd"] == pytest.approx(llama_cost(1200, 300), rel=1e-9)


@pytest.mark.parametrize("catalogue_records", [PRICED])
def test_an_embedding_reply_carries_its_cost(gateway: Gateway) -> None:
    gateway.upstream.post(run_url(QWEN), json=envelope(
        {"shape": [2, 3], "data": [[0.1, 0.2, 0.3], [0.3, 0.2, 0.1]], "usage": {"prompt_tokens": 5000}}
    ))
    reply = gateway.post("/v1/embeddings", {"model": QWEN, "input": ["a", "b"]})
    assert reply.status_code == 200
    expected = 5000 * unit_price(QWEN, "per M input tokens") / 1e6
    assert float(reply.headers["x-workers-ai-cost-usd"]) == pytest.approx(expected, rel=1e-9)


@pytest.mark.parametrize("catalogue_records", [PRICED])
def test_a_streams_cost_is_on_its_log_line_not_in_its_headers(gateway: Gateway) -> None:
    gateway.upstream.post(
        run_url(LLAMA),
        body=sse({"response": "a"}, {"response": "", "usage": {"prompt_tokens": 9, "completion_tokens": 4}}),
        content_type="text/event-stream",
    )
    reply = gateway.post("/v1/chat/completions", chat(stream=True))
    assert "x-workers-ai-cost-usd" not in reply.headers  # sent before the usage was known
    reply.get_data()
    reply.close()
    [line] = access_lines(gateway)
    assert line["cost_usd"] == pytest.approx(llama_cost(9, 4), rel=1e-9)
    assert line["ttft_ms"] >= 0


@pytest.mark.parametrize("catalogue_records", [PRICED])
def test_a_model_without_a_published_price_says_unknown(gateway: Gateway) -> None:
    gateway.upstream.post(run_url(GLM), json=envelope({
        "id": "x", "object": "chat.completion", "created": 1, "model": GLM,
        "choices": [{"index": 0, "message": {"role": "assistant", "content": "hi"}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 3, "completion_tokens": 1, "total_tokens": 4},
    }))
    reply = gateway.post("/v1/chat/completions", chat(GLM))
    assert reply.status_code == 200, reply.get_json()
    assert reply.headers["x-workers-ai-cost-usd"] == "unknown"
    reply.close()
    [line] = access_lines(gateway)
    assert line["cost_usd"] is None and line["cost_note"] == "no published price"


@pytest.mark.parametrize("catalogue_records", [PRICED])
@pytest.mark.parametrize("settings_overrides", [{"model_prices": {GLM: {"per M input tokens": 1.0,
                                                                        "per M output tokens": 3.0}}}])
def test_a_price_in_settings_prices_an_unpublished_model(gateway: Gateway) -> None:
    gateway.upstream.post(run_url(GLM), json=envelope({
        "id": "x", "object": "chat.completion", "created": 1, "model": GLM,
        "choices": [{"index": 0, "message": {"role": "assistant", "content": "hi"}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 1000, "completion_tokens": 1000, "total_tokens": 2000},
    }))
    reply = gateway.post("/v1/chat/completions", chat(GLM))
    assert float(reply.headers["x-workers-ai-cost-usd"]) == pytest.approx(0.004)


# --- keys, limits and budgets ------------------------------------------------------------------------

@pytest.mark.parametrize("settings_overrides", [{"named_api_keys": named(requests_per_minute=2)}])
def test_a_named_key_over_its_requests_per_minute_gets_a_429_with_openais_headers(gateway: Gateway) -> None:
    for remaining in ("1", "0"):
        reply_with(gateway)
        reply = gateway.post("/v1/chat/completions", chat(), headers=bearer(CI_SECRET))
        assert reply.status_code == 200
        assert reply.headers["x-ratelimit-limit-requests"] == "2"
        assert reply.headers["x-ratelimit-remaining-requests"] == remaining
    refused = gateway.post("/v1/chat/completions", chat(), headers=bearer(CI_SECRET))
    assert refused.status_code == 429
    error = refused.get_json()["error"]
    assert error["type"] == "requests" and error["code"] == "rate_limit_exceeded"
    assert 1 <= int(refused.headers["Retry-After"]) <= 60
    assert refused.headers["x-ratelimit-remaining-requests"] == "0"
    assert refused.headers["x-ratelimit-reset-requests"].endswith("s")
    assert len(gateway.runs(LLAMA)) == 2  # the refused request never reached Workers AI
    # The plain key beside it is unnamed and unlimited, and gets no rate-limit headers.
    reply_with(gateway)
    plain = gateway.post("/v1/chat/completions", chat())
    assert plain.status_code == 200 and "x-ratelimit-limit-requests" not in plain.headers


@pytest.mark.parametrize("catalogue_records", [PRICED])
@pytest.mark.parametrize("settings_overrides", [{"named_api_keys": named(budget_usd_per_day=0.00001)}])
def test_a_spent_budget_is_insufficient_quota(gateway: Gateway) -> None:
    reply_with(gateway, 1000, 1000)  # costs more than the whole day's budget
    assert gateway.post("/v1/chat/completions", chat(), headers=bearer(CI_SECRET)).status_code == 200
    refused = gateway.post("/v1/chat/completions", chat(), headers=bearer(CI_SECRET))
    assert refused.status_code == 429
    error = refused.get_json()["error"]
    assert error["code"] == "insufficient_quota" and error["type"] == "insufficient_quota"
    assert "daily budget" in error["message"] and "`ci`" in error["message"]
    assert refused.headers["x-should-retry"] == "false"


@pytest.mark.parametrize("settings_overrides", [{"named_api_keys": named(tokens_per_minute=20)}])
def test_tokens_per_minute_count_what_the_requests_used(gateway: Gateway) -> None:
    reply_with(gateway, 15, 10)
    first = gateway.post("/v1/chat/completions", chat(), headers=bearer(CI_SECRET))
    assert first.headers["x-ratelimit-remaining-tokens"] == "20"
    refused = gateway.post("/v1/chat/completions", chat(), headers=bearer(CI_SECRET))
    assert refused.status_code == 429 and "tokens per minute" in refused.get_json()["error"]["message"]
    assert refused.headers["x-ratelimit-remaining-tokens"] == "0"


@pytest.mark.parametrize("settings_overrides", [{"named_api_keys": named(models=["gpt-4o-mini"])}])
def test_a_key_may_use_only_its_models(gateway: Gateway) -> None:
    refused = gateway.post("/v1/chat/completions", chat("@cf/meta/llama-3.1-8b-instruct"), headers=bearer(CI_SECRET))
    assert refused.status_code == 403
    error = refused.get_json()["error"]
    assert error["param"] == "model" and error["code"] == "model_not_allowed"
    assert not gateway.runs()
    # The alias is allowed, and so is the Workers AI model behind it (gpt-4o-mini -> LLAMA in the factory).
    for model in ("gpt-4o-mini", LLAMA):
        reply_with(gateway)
        assert gateway.post("/v1/chat/completions", chat(model), headers=bearer(CI_SECRET)).status_code == 200


@pytest.mark.parametrize("settings_overrides", [{"named_api_keys": named()}])
def test_the_log_line_names_the_key_and_never_holds_its_secret(gateway: Gateway) -> None:
    reply_with(gateway)
    gateway.post("/v1/chat/completions", chat(), headers=bearer(CI_SECRET)).close()
    gateway.post("/v1/chat/completions", chat(), headers=bearer("sk-wrong")).close()
    lines = access_lines(gateway)
    assert lines[0]["key"] == "ci" and lines[1]["status"] == 401 and "key" not in lines[1]
    assert CI_SECRET not in gateway.logs.text() and "sk-wrong" not in gateway.logs.text()


# --- /admin/usage -------------------------------------------------------------------------------------

@pytest.mark.parametrize("catalogue_records", [PRICED])
@pytest.mark.parametrize("settings_overrides", [{"named_api_keys": named(budget_usd_per_day=5.0),
                                                 "admin_api_key": ADMIN}])
def test_admin_usage_reports_per_key_and_model(gateway: Gateway) -> None:
    reply_with(gateway, 100, 20)
    gateway.post("/v1/chat/completions", chat(), headers=bearer(CI_SECRET))
    reply_with(gateway, 100, 20)
    gateway.post("/v1/chat/completions", chat(), headers=bearer(CI_SECRET))
    reply_with(gateway, 7, 1)
    gateway.post("/v1/chat/completions", chat())  # the plain key
    body = gateway.client.get("/admin/usage", headers=bearer(ADMIN)).get_json()
    rows = {(r["key"], r["model"]): r for r in body["data"]}
    ci = rows[("ci", LLAMA)]
    assert (ci["requests"], ci["input_tokens"], ci["output_tokens"]) == (2, 200, 40)
    assert ci["cost_usd"] == pytest.approx(2 * llama_cost(100, 20), rel=1e-9)
    assert rows[("unnamed", LLAMA)]["requests"] == 1
    assert body["shared"] is False and body["from"] == body["to"]
    [key] = body["keys"]
    assert key["key"] == "ci" and key["budget_usd_per_day"] == 5.0
    assert key["spent_today_usd"] == pytest.approx(ci["cost_usd"])
    only_ci = gateway.client.get("/admin/usage?key=ci", headers=bearer(ADMIN)).get_json()
    assert {r["key"] for r in only_ci["data"]} == {"ci"}
    past = gateway.client.get("/admin/usage?from=2020-01-01&to=2020-01-02", headers=bearer(ADMIN)).get_json()
    assert past["data"] == []


@pytest.mark.parametrize("settings_overrides", [{"admin_api_key": ADMIN}])
def test_admin_usage_takes_only_the_admin_key(gateway: Gateway) -> None:
    assert gateway.client.get("/admin/usage").status_code == 401
    assert gateway.get("/admin/usage").status_code == 401  # a client key is not an admin key
    assert gateway.client.get("/admin/usage", headers=bearer(ADMIN)).status_code == 200
    # ... and the admin key is not a client key.
    assert gateway.client.post("/v1/chat/completions", json=chat(), headers=bearer(ADMIN)).status_code == 401
    bad = gateway.client.get("/admin/usage?from=yesterday", headers=bearer(ADMIN))
    assert bad.status_code == 400 and bad.get_json()["error"]["param"] == "from"


def test_admin_usage_is_off_without_an_admin_key(gateway: Gateway) -> None:
    reply = gateway.get("/admin/usage")
    assert reply.status_code == 403 and "ADMIN_API_KEY" in reply.get_json()["error"]["message"]


# --- /metrics -----------------------------------------------------------------------------------------

def sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


@pytest.mark.parametrize("catalogue_records", [PRICED])
@pytest.mark.parametrize("settings_overrides", [{"named_api_keys": named()}])
def test_metrics_count_requests_tokens_and_cost_by_model_and_key(gateway: Gateway) -> None:
    requests_before = sample("openai_compat_requests_total", route="/v1/chat/completions", method="POST",
                             status="200", model=LLAMA)
    tokens_before = sample("openai_compat_tokens_total", model=LLAMA, key="ci", direction="output")
    cost_before = sample("openai_compat_cost_usd_total", model=LLAMA, key="ci")
    for _ in range(2):
        reply_with(gateway, 50, 7)
        gateway.post("/v1/chat/completions", chat(), headers=bearer(CI_SECRET)).close()
    text = gateway.get("/metrics").get_data(as_text=True)
    assert "openai_compat_requests_total" in text and "openai_compat_request_duration_seconds_bucket" in text
    assert sample("openai_compat_requests_total", route="/v1/chat/completions", method="POST", status="200",
                  model=LLAMA) == requests_before + 2
    assert sample("openai_compat_tokens_total", model=LLAMA, key="ci", direction="output") == tokens_before + 14
    assert sample("openai_compat_cost_usd_total", model=LLAMA, key="ci") == pytest.approx(
        cost_before + 2 * llama_cost(50, 7), rel=1e-6)


def test_upstream_errors_are_counted_by_status_and_code(gateway: Gateway) -> None:
    labels = {"model": LLAMA, "status": "400", "code": "invalid_upstream_input"}
    before = sample("openai_compat_upstream_errors_total", **labels)
    gateway.upstream.post(run_url(LLAMA), status=400, json={
        "result": None, "success": False, "errors": [{"code": 5006, "message": "bad input"}], "messages": []})
    reply = gateway.post("/v1/chat/completions", chat())
    assert reply.status_code == 400 and reply.get_json()["error"]["code"] == "invalid_upstream_input"
    assert sample("openai_compat_upstream_errors_total", **labels) == before + 1


@pytest.mark.parametrize("catalogue_records", [PRICED])
def test_model_names_nothing_lists_share_one_label(gateway: Gateway) -> None:
    """Any well-formed @cf/ name reaches Workers AI; each must not become a new time series."""
    before = sample("openai_compat_upstream_errors_total", model="unlisted", status="404", code="model_not_found")
    for name in ("@cf/nobody/a", "@cf/nobody/b"):
        gateway.upstream.post(run_url(name), status=400, json={
            "result": None, "success": False, "errors": [{"code": 5007, "message": "No such model"}], "messages": []})
        reply = gateway.post("/v1/chat/completions", chat(name))
        assert reply.status_code == 404
        reply.close()
    text = gateway.get("/metrics").get_data(as_text=True)
    assert "@cf/nobody" not in text
    assert sample("openai_compat_upstream_errors_total", model="unlisted", status="404",
                  code="model_not_found") == before + 2


def test_metrics_take_any_client_key_by_default(gateway: Gateway) -> None:
    assert gateway.client.get("/metrics").status_code == 401
    reply = gateway.get("/metrics")
    assert reply.status_code == 200 and reply.headers["Content-Type"].startswith("text/plain")


@pytest.mark.parametrize("settings_overrides", [{"metrics_api_key": "sk-metrics"}])
def test_a_metrics_key_is_then_the_only_one(gateway: Gateway) -> None:
    assert gateway.get("/metrics").status_code == 401
    assert gateway.client.get("/metrics", headers=bearer("sk-metrics")).status_code == 200
    assert gateway.client.get("/v1/models", headers=bearer("sk-metrics")).status_code == 401


# --- /ready -------------------------------------------------------------------------------------------

def test_ready_when_configuration_and_storage_are_fine(gateway: Gateway) -> None:
    reply = gateway.client.get("/ready")
    assert reply.status_code == 200
    assert reply.get_json() == {"status": "ready",
                                "checks": {"settings": "ok", "storage": "ok", "redis": "not configured"}}
    assert not gateway.upstream.calls  # never asks Workers AI


@pytest.mark.parametrize("catalogue_records", [PRICED])
@pytest.mark.parametrize("settings_overrides", [{"named_api_keys": named(models=["gpt-4o-mini", QWEN])}])
def test_a_key_limited_to_some_models_lists_only_those(gateway: Gateway) -> None:
    listed = {m["id"] for m in gateway.client.get("/v1/models", headers=bearer(CI_SECRET)).get_json()["data"]}
    assert listed == {"gpt-4o-mini", QWEN, LLAMA}  # LLAMA: the model behind gpt-4o-mini here
    everything = {m["id"] for m in gateway.get("/v1/models").get_json()["data"]}
    assert GLM in everything and len(everything) > len(listed)


# --- every family's units, through the same hook the audio and image families call ----------------------

WHISPER = "@cf/openai/whisper-large-v3-turbo"
AURA = "@cf/deepgram/aura-2-en"
LUCID = "@cf/leonardo/lucid-origin"
FAMILY_RECORDS = [record(WHISPER, "Automatic Speech Recognition"), record(AURA, "Text-to-Speech"),
                  record(LUCID, "Text-to-Image")]


@pytest.fixture
def family(app: Any) -> Any:
    """A stand-in family route: opens a model and reports a `Usage` built from the request, as the
    transcription, speech and image families do once per request."""
    from flask import jsonify, request

    from openai_compat.core.metering import Usage
    from openai_compat.core.model_names import Task
    from openai_compat.web.services import open_model, services

    def served() -> Any:
        body = request.get_json()
        target = open_model(services(), body["model"], Task(body["task"], "-"))
        target.record(Usage(**body["usage"]))
        return jsonify({"ok": True})

    app.add_url_rule("/test/family", "test_family", served, methods=["POST"])
    return app


@pytest.mark.parametrize("catalogue_records", [FAMILY_RECORDS])
@pytest.mark.parametrize(
    ("model", "task", "usage", "expected"),
    [
        (WHISPER, "Automatic Speech Recognition", {"audio_seconds": 150.0},
         lambda: 2.5 * unit_price(WHISPER, "per audio minute")),
        (AURA, "Text-to-Speech", {"characters": 1800},
         lambda: 1.8 * unit_price(AURA, "per 1k characters")),
        (LUCID, "Text-to-Image", {"images": 2, "tiles_per_image": 4, "steps_per_image": 30},
         lambda: 2 * 4 * unit_price(LUCID, "per 512 by 512 tile") + 2 * 30 * unit_price(LUCID, "per step")),
    ],
)
def test_transcription_speech_and_image_usage_is_priced_logged_and_counted(
    gateway: Gateway, family: Any, model: str, task: str, usage: dict[str, Any], expected: Any
) -> None:
    before = sample("openai_compat_cost_usd_total", model=model, key="unnamed")
    reply = gateway.post("/test/family", {"model": model, "task": task, "usage": usage})
    assert reply.status_code == 200
    assert float(reply.headers["x-workers-ai-cost-usd"]) == pytest.approx(expected(), rel=1e-9)
    reply.close()
    [line] = access_lines(gateway)
    assert line["cost_usd"] == pytest.approx(expected(), rel=1e-9)
    assert all(line[name] == value for name, value in usage.items())
    assert sample("openai_compat_cost_usd_total", model=model, key="unnamed") == pytest.approx(before + expected())


@pytest.mark.parametrize("catalogue_records", [FAMILY_RECORDS])
def test_an_image_whose_steps_were_not_reported_costs_unknown(gateway: Gateway, family: Any) -> None:
    reply = gateway.post("/test/family", {"model": LUCID, "task": "Text-to-Image",
                                          "usage": {"images": 1, "tiles_per_image": 4}})
    assert reply.headers["x-workers-ai-cost-usd"] == "unknown"
    reply.close()
    assert "steps" in access_lines(gateway)[0]["cost_note"]
