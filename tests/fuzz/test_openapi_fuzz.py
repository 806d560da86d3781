"""The gateway's own OpenAPI document, fuzzed with schemathesis: thousands of generated requests (valid
and invalid) across every operation, against the real app in-process with the emulator as Workers AI.
Zero 5xx, and every error body in OpenAI's shape."""

from __future__ import annotations

import collections
import os
import tempfile
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from flask import Flask
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error

from openai_compat.settings import load_settings
from openai_compat.web.app import build_app
from openai_compat.web.openapi import OPERATIONS
from tests.support.emulator import EmulatorHandle

KEY = "sk-fuzz-client-key"
AUTH = {"Authorization": f"Bearer {KEY}"}
EXAMPLES_PER_OPERATION = int(os.environ.get("FUZZ_EXAMPLES", "110"))
SENT: list[int] = []


@pytest.fixture(scope="module")
def fuzz_app(emulator: EmulatorHandle) -> Iterator[Flask]:
    env = {"CLOUDFLARE_ACCOUNT_ID": emulator.account_id, "CLOUDFLARE_API_TOKEN": emulator.token,
           "WORKERS_AI_BASE_URL": emulator.base_url, "GATEWAY_API_KEYS": KEY, "ADMIN_API_KEY": "sk-fuzz-admin",
           "STORAGE_DIR": tempfile.mkdtemp(prefix="fuzz-storage-"), "UPSTREAM_MAX_RETRIES": "0",
           "URL_SIGNING_SECRET": "fuzz-signing-secret-0123456789", "IMAGE_FETCH_TIMEOUT_SECONDS": "1"}
    with pytest.MonkeyPatch.context() as patch:
        for name, value in env.items():
            patch.setenv(name, value)
        app = build_app(load_settings())
    # Generated image URLs name hosts that do not exist: resolve none of them (the machine has no
    # network), so each is refused at once as the guard refuses private hosts.
    app.extensions["openai_compat"].fetcher._resolve = lambda host, port: ["10.0.0.1"]
    yield app


@pytest.fixture(scope="module")
def fuzz_schema(fuzz_app: Flask) -> Any:
    schema = schemathesis.openapi.from_wsgi("/openapi.json", fuzz_app, headers=AUTH)
    return schema


def openai_shaped_errors(ctx: Any, response: Any, case: Any) -> None:
    """Every error a client can meet is `{"error": {"message", "type", "param", "code"}}`."""
    if response.status_code < 400:
        return
    body = response.json()
    assert isinstance(body, dict) and set(body) == {"error"}, body
    error = body["error"]
    assert set(error) == {"message", "type", "param", "code"}, error
    assert isinstance(error["message"], str) and error["message"] and isinstance(error["type"], str)


@pytest.mark.parametrize("operation_id", [op.operation_id for op in OPERATIONS])
def test_every_operation_answers_without_5xx_and_in_openai_shape(fuzz_schema: Any, operation_id: str) -> None:
    operation = fuzz_schema.find_operation_by_id(operation_id)
    cases = st.one_of(operation.as_strategy(generation_mode=GenerationMode.POSITIVE),
                      operation.as_strategy(generation_mode=GenerationMode.NEGATIVE))

    @given(case=cases)
    @settings(max_examples=EXAMPLES_PER_OPERATION, deadline=None, suppress_health_check=list(HealthCheck),
              derandomize=True, database=None, phases=[Phase.explicit, Phase.generate])
    def answers(case: Any) -> None:
        response = case.call(headers=AUTH)
        SENT.append(response.status_code)
        case.validate_response(response, checks=[not_a_server_error, openai_shaped_errors])

    answers()


def test_thousands_of_requests_were_sent() -> None:
    """The fuzzing above ran at its intended scale (runs after it: tests run in file order)."""
    if not SENT:
        pytest.skip("run with the fuzzing test")
    counts = collections.Counter(status // 100 for status in SENT)
    print(f"fuzzing sent {len(SENT)} requests: {dict(sorted(counts.items()))} by status class")
    assert len(SENT) >= 2000, len(SENT)
    assert any(s < 300 for s in SENT) and any(400 <= s < 500 for s in SENT)
