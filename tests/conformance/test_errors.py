"""Errors as the official Python SDK meets them: every kind the gateway sends, with the status, `type` and
`code` OpenAI itself sends for the same failure (openai-api.md §8.2; `previous_response_not_found` as OpenAI
answers Codex), the exception class the SDK picks from the status, and the retries: the SDK's own, honouring
`Retry-After`, never stacked on the gateway's.

Failures OpenAI has no counterpart for (the upstream failing or timing out, an unknown stored response) keep
OpenAI's `type` for their status and the gateway's documented `code`. Where OpenAI sends `param: null` the
gateway may still name the field (`model` for an unknown model): the SDKs copy `param`, never branch on it.
"""

from __future__ import annotations

import itertools
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx2
import openai
import pytest

from tests.conformance.wire import SpecCheck
from tests.support.emulator import EmulatorHandle
from tests.support.gateway import GatewayHandle

PY = "openai (Python)"
HI = [{"role": "user", "content": "Hi"}]


@dataclass(frozen=True)
class Case:
    trigger: Callable[[openai.OpenAI, EmulatorHandle], Any]
    status: int
    exception: type[openai.APIStatusError]
    type: str
    code: str | None
    param: str | None = None


def _no_key(client: openai.OpenAI, _: EmulatorHandle) -> Any:
    return client.models.list(extra_headers={"Authorization": openai.omit})


def _wrong_key(client: openai.OpenAI, _: EmulatorHandle) -> Any:
    return client.with_options(api_key="sk-wrong").models.list()


def _unknown_url(client: openai.OpenAI, _: EmulatorHandle) -> Any:
    return client.post("/chat/completion", body={"model": "gpt-4o-mini", "messages": HI}, cast_to=object)


def _too_long(client: openai.OpenAI, _: EmulatorHandle) -> Any:
    return client.embeddings.create(model="@cf/baai/bge-small-en-v1.5", input="word " * 5000)


def _quota(client: openai.OpenAI, upstream: EmulatorHandle) -> Any:
    upstream.set_faults(fail_status=429, fail_code=3036)
    return client.chat.completions.create(model="gpt-4o-mini", messages=HI)


def _upstream_500(client: openai.OpenAI, upstream: EmulatorHandle) -> Any:
    upstream.set_faults(fail_status=500)
    return client.chat.completions.create(model="gpt-4o-mini", messages=HI)


def _upstream_timeout(client: openai.OpenAI, upstream: EmulatorHandle) -> Any:
    upstream.set_faults(fail_code=3007)
    return client.chat.completions.create(model="gpt-4o-mini", messages=HI)


CASES: dict[str, Case] = {
    "401 no key": Case(_no_key, 401, openai.AuthenticationError, "invalid_request_error", None),
    "401 wrong key": Case(_wrong_key, 401, openai.AuthenticationError, "invalid_request_error", "invalid_api_key"),
    "404 unknown model": Case(
        lambda c, _: c.chat.completions.create(model="@cf/nobody/nothing", messages=HI),
        404, openai.NotFoundError, "invalid_request_error", "model_not_found", "model"),
    "404 unknown URL": Case(_unknown_url, 404, openai.NotFoundError, "invalid_request_error", "unknown_url"),
    "404 unknown response": Case(lambda c, _: c.responses.retrieve("resp_" + "0" * 32),
                                 404, openai.NotFoundError, "invalid_request_error", "not_found", "response_id"),
    "400 invalid value": Case(
        lambda c, _: c.chat.completions.create(model="gpt-4o-mini", messages=HI, temperature=7),
        400, openai.BadRequestError, "invalid_request_error", "invalid_value", "temperature"),
    "400 context length": Case(_too_long, 400, openai.BadRequestError, "invalid_request_error",
                               "context_length_exceeded", "input"),
    "400 unknown previous response": Case(
        lambda c, _: c.responses.create(model="gpt-4o-mini", input="x", previous_response_id="resp_" + "0" * 32),
        400, openai.BadRequestError, "invalid_request_error", "previous_response_not_found", "previous_response_id"),
    "429 quota": Case(_quota, 429, openai.RateLimitError, "insufficient_quota", "insufficient_quota"),
    "502 upstream failure": Case(_upstream_500, 502, openai.InternalServerError, "server_error", "upstream_error"),
    "504 upstream timeout": Case(_upstream_timeout, 504, openai.InternalServerError, "server_error",
                                 "upstream_timeout"),
}


@pytest.mark.parametrize("case", list(CASES))
@pytest.mark.compat(PY, "errors", "every error kind: the SDK's exception class, and `type` and `code` as OpenAI "
                    "sends them (401, 404, 400, 429, 5xx)")
def test_error_kinds(client: openai.OpenAI, upstream: EmulatorHandle, spec: SpecCheck, case: str) -> None:
    expected = CASES[case]
    with pytest.raises(openai.APIStatusError) as caught:
        expected.trigger(client.with_options(max_retries=0), upstream)
    error = caught.value
    assert type(error) is expected.exception and error.status_code == expected.status
    assert (error.type, error.code, error.param) == (expected.type, expected.code, expected.param)
    assert error.message and error.request_id and error.request_id.startswith("req_")
    assert spec.validated["ErrorResponse"] == 1 or not spec.spec_present


def _attempts(upstream: EmulatorHandle) -> int:
    return sum("/ai/run/" in r["path"] for r in upstream.requests())


@pytest.mark.compat(PY, "errors", "`RateLimitError` after the SDK's own retries, which wait the `Retry-After` the "
                    "gateway passes on (client opted out of gateway retries)")
def test_rate_limit_error_after_the_sdks_retries(gateway: GatewayHandle, http_client: httpx2.Client,
                                                 spec: SpecCheck, upstream: EmulatorHandle) -> None:
    sent: list[float] = []
    http_client.event_hooks["request"].append(lambda request: sent.append(time.monotonic()))
    client = openai.OpenAI(base_url=gateway.base_url, api_key=gateway.api_key, http_client=http_client,
                           default_headers={"x-gateway-upstream-retries": "0"})
    upstream.set_faults(fail_status=429, fail_code=3040, retry_after="1")
    with pytest.raises(openai.RateLimitError) as caught:
        client.chat.completions.create(model="gpt-4o-mini", messages=HI)
    error = caught.value
    assert error.type == "requests" and error.code == "rate_limit_exceeded"
    assert error.response.headers["retry-after"] == "1" and error.response.headers["x-should-retry"] == "true"
    assert len(sent) == 3 and _attempts(upstream) == 3  # the SDK's three tries, one upstream call each
    gaps = [b - a for a, b in itertools.pairwise(sent)]
    assert min(gaps) >= 0.95, gaps  # the SDK's own backoff would be 0.375-0.5 s before its first retry


@pytest.mark.compat(PY, "errors", "`RateLimitError` once the gateway's own retries are spent: "
                    "`x-should-retry: false`, no SDK retries stacked on them")
def test_rate_limit_error_without_stacked_retries(client: openai.OpenAI, gateway: GatewayHandle,
                                                  upstream: EmulatorHandle) -> None:
    upstream.set_faults(fail_status=429, fail_code=3040, retry_after="0")
    with pytest.raises(openai.RateLimitError) as caught:
        client.chat.completions.create(model="gpt-4o-mini", messages=HI)
    assert caught.value.response.headers["x-should-retry"] == "false"
    assert _attempts(upstream) == 3  # 1 + UPSTREAM_MAX_RETRIES (2), and no SDK retry on top
    lines = [json.loads(line) for line in gateway.log_text().splitlines() if line.startswith("{")]
    retries = [line for line in lines if line.get("event") == "upstream_retry"
               and line.get("request_id") == caught.value.request_id]
    assert [line["attempt"] for line in retries] == [1, 2]  # an operator finds them by the client's request id


@pytest.mark.compat(PY, "errors", "`APIError` raised by the SDK for an upstream failure in the middle of a stream")
def test_mid_stream_failure(client: openai.OpenAI, upstream: EmulatorHandle, spec: SpecCheck) -> None:
    upstream.set_faults(cut_after=2)
    received = []
    with pytest.raises(openai.APIError) as caught:
        for chunk in client.chat.completions.create(model="gpt-4.1", messages=HI, stream=True):
            received.append(chunk)
    assert not isinstance(caught.value, openai.APIStatusError)  # the status was 200: an error event ends it
    assert caught.value.message and received and all(c.choices[0].finish_reason is None for c in received)
    assert spec.validated["ErrorResponse"] == 1 or not spec.spec_present
