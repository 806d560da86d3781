"""Limits, budgets and usage shared through a real Redis by two gateway instances in this process.

Each instance is a separately built app (its own services, limiter and ledger objects) on the same
`REDIS_URL`, as two gunicorn workers or two PaaS instances would be; tests/e2e does the same with two
gunicorn-served gateways.
"""

from __future__ import annotations

from typing import Any

import pytest
from flask.testing import FlaskClient

from harness.processes import free_port
from openai_compat.web.app import build_app
from tests.service.conftest import LLAMA, Gateway
from tests.service.test_operations import CI_SECRET, PRICED, bearer, chat, llama_cost, named, reply_with
from tests.unit.factories import make_settings

ADMIN = "sk-admin-secret"


@pytest.fixture
def limits() -> dict[str, Any]:
    return {"requests_per_minute": 3}


@pytest.fixture
def settings_overrides(redis_url: str, limits: dict[str, Any]) -> dict[str, Any]:
    return {"redis_url": redis_url, "named_api_keys": named(**limits), "admin_api_key": ADMIN}


@pytest.fixture
def other(settings_overrides: dict[str, Any]) -> FlaskClient:
    """A second instance on the same Redis."""
    return build_app(make_settings(**settings_overrides)).test_client()


def ask(client: FlaskClient, gateway: Gateway, **usage: int) -> Any:
    reply_with(gateway, **usage)
    return client.post("/v1/chat/completions", json=chat(), headers=bearer(CI_SECRET))


def test_two_instances_share_one_requests_per_minute(gateway: Gateway, other: FlaskClient) -> None:
    assert ask(gateway.client, gateway).headers["x-ratelimit-remaining-requests"] == "2"
    assert ask(other, gateway).headers["x-ratelimit-remaining-requests"] == "1"
    assert ask(gateway.client, gateway).headers["x-ratelimit-remaining-requests"] == "0"
    for client in (other, gateway.client):
        refused = ask(client, gateway)
        assert refused.status_code == 429 and refused.get_json()["error"]["code"] == "rate_limit_exceeded"
    assert len(gateway.runs(LLAMA)) == 3


@pytest.mark.parametrize("limits", [{"tokens_per_minute": 30}])
def test_two_instances_share_one_tokens_per_minute(gateway: Gateway, other: FlaskClient) -> None:
    assert ask(gateway.client, gateway, prompt_tokens=20, completion_tokens=15).status_code == 200
    refused = ask(other, gateway)
    assert refused.status_code == 429 and refused.headers["x-ratelimit-remaining-tokens"] == "0"


@pytest.mark.parametrize("catalogue_records", [PRICED])
@pytest.mark.parametrize("limits", [{"budget_usd_per_day": 0.001}])
def test_a_budget_spent_on_one_instance_is_spent_on_the_other(gateway: Gateway, other: FlaskClient) -> None:
    assert ask(gateway.client, gateway, prompt_tokens=1000, completion_tokens=1000).status_code == 200
    refused = ask(other, gateway)
    assert refused.status_code == 429 and refused.get_json()["error"]["code"] == "insufficient_quota"


@pytest.mark.parametrize("catalogue_records", [PRICED])
@pytest.mark.parametrize("limits", [{}])
def test_usage_from_every_instance_is_read_on_any(gateway: Gateway, other: FlaskClient) -> None:
    ask(gateway.client, gateway, prompt_tokens=10, completion_tokens=2)
    ask(other, gateway, prompt_tokens=30, completion_tokens=4)
    body = other.get("/admin/usage", headers=bearer(ADMIN)).get_json()
    assert body["shared"] is True and "worker_pid" not in body
    [row] = [r for r in body["data"] if r["key"] == "ci"]
    assert (row["requests"], row["input_tokens"], row["output_tokens"]) == (2, 40, 6)
    assert row["cost_usd"] == pytest.approx(llama_cost(10, 2) + llama_cost(30, 4), rel=1e-9)
    assert body["keys"][0]["spent_today_usd"] == pytest.approx(row["cost_usd"], rel=1e-9)


def test_ready_checks_redis(gateway: Gateway) -> None:
    reply = gateway.client.get("/ready")
    assert reply.status_code == 200 and reply.get_json()["checks"]["redis"] == "ok"


def test_not_ready_and_still_serving_when_redis_is_down(gateway: Gateway, capsys: pytest.CaptureFixture[str]) -> None:
    down = f"redis://127.0.0.1:{free_port()}/0"  # nothing listens there
    settings = make_settings(redis_url=down, redis_timeout_seconds=0.5, named_api_keys=named(requests_per_minute=1))
    app = build_app(settings)  # its logging set-up replaces the fixture's capture: read stdout instead
    client = app.test_client()
    reply = client.get("/ready")
    assert reply.status_code == 503 and reply.get_json()["checks"]["redis"].startswith("error:")
    # Limits cannot be applied, but the gateway keeps serving (and logs each failure).
    for _ in range(2):
        assert ask(client, gateway).status_code == 200
    assert capsys.readouterr().out.count('"event":"quota_store_unavailable"') >= 2
