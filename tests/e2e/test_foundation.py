"""The foundation end to end: gunicorn serving the app, the emulator upstream, the official SDK client."""

from __future__ import annotations

import json
import time
import urllib.parse

import openai
import pytest
import requests

from tests.support.emulator import EmulatorHandle
from tests.support.gateway import GatewayHandle, start_gateway
from tests.support.openai_spec import assert_valid

SCOUT = "@cf/meta/llama-4-scout-17b-16e-instruct"
USER_HI = [{"role": "user", "content": "hi"}]


def auth(gateway: GatewayHandle) -> dict[str, str]:
    return {"Authorization": f"Bearer {gateway.api_key}"}


def assert_openai_error(response: requests.Response, status: int, code: str | None = None) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["Content-Type"].startswith("application/json")
    error = response.json()["error"]
    assert set(error) == {"message", "type", "param", "code"}
    assert error["message"]
    if code is not None:
        assert error["code"] == code
    assert_valid("ErrorResponse", response.json())
    return error


def test_models_list_has_aliases_and_the_catalogue(gateway: GatewayHandle) -> None:
    models = {m.id: m for m in gateway.client().models.list()}
    assert "gpt-4o-mini" in models and models["gpt-4o-mini"].owned_by == "openai-compat"
    assert SCOUT in models and models[SCOUT].owned_by == "meta" and models[SCOUT].created > 0
    body = requests.get(f"{gateway.base_url}/models", headers=auth(gateway), timeout=5).json()
    assert_valid("ListModelsResponse", body)


def test_models_retrieve_by_alias_and_by_percent_encoded_workers_ai_id(gateway: GatewayHandle) -> None:
    client = gateway.client()
    assert client.models.retrieve("gpt-4o-mini").id == "gpt-4o-mini"
    model = client.models.retrieve(SCOUT)
    assert model.id == SCOUT and model.object == "model"
    encoded = urllib.parse.quote(SCOUT, safe="")
    raw = requests.get(f"{gateway.base_url}/models/{encoded}", headers=auth(gateway), timeout=5)
    assert raw.status_code == 200 and raw.json()["id"] == SCOUT
    assert_valid("Model", raw.json())


def test_unknown_model_is_404_model_not_found(gateway: GatewayHandle) -> None:
    with pytest.raises(openai.NotFoundError) as caught:
        gateway.client().models.retrieve("@cf/nobody/nothing")
    assert caught.value.code == "model_not_found"


def test_wrong_or_missing_key_is_rejected(gateway: GatewayHandle) -> None:
    bad = openai.OpenAI(base_url=gateway.base_url, api_key="sk-wrong", max_retries=0)
    with pytest.raises(openai.AuthenticationError) as caught:
        bad.models.list()
    assert caught.value.code == "invalid_api_key"
    missing = requests.get(f"{gateway.base_url}/models", timeout=5)
    assert assert_openai_error(missing, 401)["code"] is None  # as OpenAI: no code when no key was sent
    basic = requests.get(f"{gateway.base_url}/models", headers={"Authorization": "Basic abc"}, timeout=5)
    assert_openai_error(basic, 401, "invalid_api_key")


def test_every_configured_key_works(gateway: GatewayHandle) -> None:
    r = requests.get(f"{gateway.url}/models", headers={"Authorization": "Bearer sk-second-key"}, timeout=5)
    assert r.status_code == 200


def test_unversioned_routes(gateway: GatewayHandle) -> None:
    client = openai.OpenAI(base_url=gateway.url, api_key=gateway.api_key)
    assert any(m.id == "gpt-4o-mini" for m in client.models.list())
    assert client.models.retrieve(SCOUT).id == SCOUT


def test_unknown_route_bad_json_405_415_413_are_openai_shaped(gateway: GatewayHandle) -> None:
    assert_openai_error(requests.post(f"{gateway.base_url}/nope", headers=auth(gateway), timeout=5), 404,
                        "unknown_url")
    assert_openai_error(requests.delete(f"{gateway.base_url}/models", headers=auth(gateway), timeout=5), 405)
    bad_json = requests.post(f"{gateway.base_url}/chat/completions", data="{not json",
                             headers={**auth(gateway), "Content-Type": "application/json"}, timeout=5)
    assert "JSON" in assert_openai_error(bad_json, 400)["message"]
    form = requests.post(f"{gateway.base_url}/chat/completions", data="a=b", headers={
        **auth(gateway), "Content-Type": "application/x-www-form-urlencoded"}, timeout=5)
    assert_openai_error(form, 415)
    huge = requests.post(f"{gateway.base_url}/chat/completions", data=b"x" * (27 * 1024 * 1024),
                         headers={**auth(gateway), "Content-Type": "application/json"}, timeout=30)
    assert_openai_error(huge, 413)


@pytest.mark.parametrize("constant", ["NaN", "Infinity", "-Infinity"])
def test_javascript_number_constants_are_not_json(gateway: GatewayHandle, constant: str) -> None:
    body = '{"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}], "tools": [{"type": "function",'
    body += f' "function": {{"name": "f", "parameters": {{"type": "object", "maximum": {constant}}}}}}}]}}'
    response = requests.post(f"{gateway.base_url}/chat/completions", data=body,
                             headers={**auth(gateway), "Content-Type": "application/json"}, timeout=5)
    assert constant in assert_openai_error(response, 400)["message"]


def test_validation_errors_name_the_field(gateway: GatewayHandle) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        gateway.client().chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user"}])
    assert caught.value.param == "messages[0]"
    with pytest.raises(openai.BadRequestError) as caught:
        gateway.client().chat.completions.create(model="gpt-4o-mini", messages=[], temperature=3)
    assert caught.value.param in {"messages", "temperature"}
    with pytest.raises(openai.BadRequestError) as caught:
        gateway.client().chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "x"}],
                                                 temperature=3)
    assert caught.value.param == "temperature"


def test_cors_preflight_passes_without_auth(gateway: GatewayHandle) -> None:
    headers = {
        "Origin": "https://app.example",
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization, content-type, x-stainless-timeout, x-stainless-os",
    }
    r = requests.options(f"{gateway.base_url}/chat/completions", headers=headers, timeout=5)
    assert r.status_code == 204
    assert r.headers["Access-Control-Allow-Origin"] == "*"
    allowed = r.headers["Access-Control-Allow-Headers"].lower()
    assert "authorization" in allowed and "x-stainless-timeout" in allowed
    actual = requests.get(f"{gateway.base_url}/models", headers={**auth(gateway), "Origin": "https://a"}, timeout=5)
    assert actual.headers["Access-Control-Allow-Origin"] == "*"


def test_health_needs_no_key_and_makes_no_upstream_call(gateway: GatewayHandle, upstream: EmulatorHandle) -> None:
    r = requests.get(f"{gateway.url}/health", timeout=5)
    assert r.status_code == 200 and r.json() == {"status": "ok"}
    assert upstream.requests() == []


def test_request_id_is_echoed_or_generated_and_logged_without_secrets(gateway: GatewayHandle) -> None:
    echoed = requests.get(f"{gateway.base_url}/models", headers={**auth(gateway), "X-Request-ID": "abc-123"}, timeout=5)
    assert echoed.headers["x-request-id"] == "abc-123"
    generated = requests.get(f"{gateway.url}/health", timeout=5).headers["x-request-id"]
    assert generated.startswith("req_")
    reply = gateway.client().chat.completions.with_raw_response.create(
        model="gpt-4o-mini", messages=[{"role": "user", "content": "my secret prompt"}])
    request_id = reply.headers["x-request-id"]
    # The access-log line is written when the response closes, just after the client has it.
    deadline = time.monotonic() + 5
    while True:
        lines = [json.loads(line) for line in gateway.log_text().splitlines() if line.startswith('{"request_id"')]
        lines = [line for line in lines if line.get("event") == "request"]
        if any(line["request_id"] == request_id for line in lines) or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    assert any(line["request_id"] == "abc-123" and line["status"] == 200 for line in lines)
    chat = [line for line in lines if line["request_id"] == request_id and line["status"] == 200]
    assert chat and chat[-1]["model"] == "gpt-4o-mini" and "upstream_ms" in chat[-1] and "duration_ms" in chat[-1]
    log = gateway.log_text()
    assert gateway.api_key not in log and "emulator-token" not in log and "my secret prompt" not in log


def test_catalogue_failure_still_lists_aliases(emulator: EmulatorHandle) -> None:
    # The catalogue's host refuses connections while inference (through AI Gateway) still works.
    with start_gateway(emulator, UPSTREAM_MAX_RETRIES="0", WORKERS_AI_BASE_URL="http://127.0.0.1:9/client/v4",
                       CLOUDFLARE_AI_GATEWAY_ID="gw", CLOUDFLARE_AI_GATEWAY_BASE_URL=f"{emulator.url}/v1") as gw:
        ids = [m.id for m in gw.client().models.list()]
        assert gw.client().models.retrieve("gpt-4o-mini").id == "gpt-4o-mini"
    assert "gpt-4o-mini" in ids and SCOUT not in ids


def test_bad_upstream_credentials_are_a_502_that_says_so(emulator: EmulatorHandle) -> None:
    with start_gateway(emulator, CLOUDFLARE_API_TOKEN="wrong-token") as gw, pytest.raises(
        openai.InternalServerError
    ) as caught:
        gw.client(max_retries=0).chat.completions.create(model="gpt-4o-mini", messages=USER_HI)
    assert caught.value.status_code == 502
    assert caught.value.code == "upstream_authentication_failed"
    assert "CLOUDFLARE_API_TOKEN" in caught.value.message


def test_ai_gateway_route(emulator: EmulatorHandle) -> None:
    with start_gateway(emulator, CLOUDFLARE_AI_GATEWAY_ID="my-gateway",
                       CLOUDFLARE_AI_GATEWAY_BASE_URL=f"{emulator.url}/v1") as gw:
        emulator.clear_requests()
        reply = gw.client().chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "hi"}])
    assert reply.choices[0].message.content == "Hello! You said: hi"
    paths = [r["path"] for r in emulator.requests()]
    assert paths == [f"/v1/{emulator.account_id}/my-gateway/workers-ai/{SCOUT}"]


def test_unauthenticated_mode_is_explicit_and_warned(emulator: EmulatorHandle) -> None:
    with start_gateway(emulator, GATEWAY_API_KEYS="", ALLOW_UNAUTHENTICATED="true") as gw:
        r = requests.get(f"{gw.base_url}/models", timeout=5)
        log = gw.log_text()
    assert r.status_code == 200
    assert "auth_disabled" in log


def test_gunicorn_worker_log_lines_survive_the_apps_logging_setup(emulator: EmulatorHandle) -> None:
    """The app tunes stdlib logging in each worker; gunicorn's own lines (with their pid) must still print."""
    with start_gateway(emulator) as gw:
        requests.get(f"{gw.url}/health", timeout=10)
        gw.process.terminate()  # a graceful stop: each worker logs as it exits
        gw.process.wait(timeout=30)
        log = gw.log_text()
    assert "Worker exiting" in log
    assert "Logging error" not in log


def test_sdk_retries_do_not_multiply_the_gateways(gateway: GatewayHandle, upstream: EmulatorHandle) -> None:
    """On a lasting 429 the gateway retries (2 retries: 3 calls) and then tells the SDK not to, so the
    SDK's own retries do not turn 3 calls into 9; a request that says it is a client's retry gets one."""
    upstream.set_faults(fail_status=429, fail_code=3040, retry_after="0")
    client = gateway.client(max_retries=2)
    with pytest.raises(openai.RateLimitError) as caught:
        client.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}])
    assert caught.value.response.headers["x-should-retry"] == "false"
    assert caught.value.body["type"] == "requests" and caught.value.body["code"] == "rate_limit_exceeded"
    assert len([r for r in upstream.requests() if "/ai/run/" in r["path"]]) == 3
    upstream.clear_requests()
    retried = requests.post(f"{gateway.base_url}/chat/completions", headers={
        **auth(gateway), "x-stainless-retry-count": "1"}, json={
        "model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]}, timeout=10)
    assert retried.status_code == 429 and retried.headers["x-should-retry"] == "true"
    assert len([r for r in upstream.requests() if "/ai/run/" in r["path"]]) == 1
