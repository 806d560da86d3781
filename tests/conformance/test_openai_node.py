"""The official `openai` npm SDK, on the machine's Node.js, against the gateway: each test runs one scenario
of `node/conformance.mjs` (installed by `scripts/test` with `npm ci` from `node/package-lock.json`) and
asserts what the SDK observed; every response it received is checked against OpenAI's spec here.

Only this part is skipped, by name, where Node.js or the installed packages are missing.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Callable
from typing import Any

import pytest

from tests.conformance.recorder import NODE_DIR
from tests.conformance.wire import SpecCheck
from tests.support.gateway import GatewayHandle

NODE = "openai (npm)"
NODE_BIN = shutil.which("node")
Run = Callable[[str], dict[str, Any]]


@pytest.fixture(scope="module")
def node_outcomes(gateway: GatewayHandle) -> dict[str, Any]:
    """Every scenario, in one Node.js run (starting Node.js and importing the SDK is most of a run's time)."""
    if NODE_BIN is None:
        pytest.skip("Node.js is not installed")
    if not (NODE_DIR / "node_modules" / "openai").is_dir():
        pytest.skip("the npm packages are not installed: `scripts/test` runs `npm ci` in tests/conformance/node")
    env = {**os.environ, "GATEWAY_URL": gateway.url, "API_KEY": gateway.api_key}
    done = subprocess.run([NODE_BIN, "conformance.mjs"], cwd=NODE_DIR, env=env, capture_output=True, text=True,
                          timeout=120, check=False)
    assert done.returncode == 0, f"node conformance.mjs failed:\n{done.stderr[-3000:]}"
    return json.loads(done.stdout)


@pytest.fixture
def run(node_outcomes: dict[str, Any], spec: SpecCheck) -> Run:
    """A scenario's result; every response it received goes through this test's spec check."""

    def result(scenario: str) -> dict[str, Any]:
        outcome = node_outcomes[scenario]
        for exchange in outcome["exchanges"]:
            spec.exchange(exchange)
        assert outcome["error"] is None, f"{scenario} threw:\n{outcome['error']}"
        return outcome["result"]

    return result


@pytest.mark.compat(NODE, "/v1/chat/completions", "`create({stream: true})` with usage, both dialects")
def test_chat_stream(run: Run, spec: SpecCheck) -> None:
    result = run("chat_stream")
    for model in ("gpt-4.1", "gpt-4o-mini"):
        assert result[model] == {"text": "Hello! You said: Hi", "firstRole": "assistant", "completionTokens": 4}
    assert spec.validated["CreateChatCompletionStreamResponse"] >= 10 or not spec.spec_present


@pytest.mark.compat(NODE, "/v1/chat/completions", "`stream()` helper: `content` events, `finalChatCompletion()`")
def test_chat_stream_helper(run: Run, spec: SpecCheck) -> None:
    result = run("chat_stream_helper")
    assert result == {"deltas": "Hello! You said: Hi", "finalContent": "Hello! You said: Hi", "finishReason": "stop"}


@pytest.mark.compat(NODE, "/v1/chat/completions", "`runTools()` with a `zodFunction` tool")
def test_run_tools(run: Run, spec: SpecCheck) -> None:
    result = run("run_tools")
    assert result["calls"] == [{"city": "Paris"}]
    assert result["content"] == "The tool returned: sunny in Paris"
    assert result["messages"] == ["user", "assistant", "tool", "assistant"]


@pytest.mark.compat(NODE, "/v1/chat/completions", "`parse()` with `zodResponseFormat`")
def test_parse_with_zod(run: Run, spec: SpecCheck) -> None:
    result = run("parse_zod")
    assert result["parsed"] == {"city": "Paris", "country": "France", "population": 2102650}


@pytest.mark.compat(NODE, "/v1/embeddings", "`create`: default (base64, decoded by the SDK) equals `float`")
def test_embeddings(run: Run, spec: SpecCheck) -> None:
    result = run("embeddings")
    assert result == {"dimensions": 1024, "isArray": True, "sameAsFloat": True}
    assert spec.validated["CreateEmbeddingResponse"] == 2 or not spec.spec_present


@pytest.mark.compat(NODE, "/v1/responses", "`responses.stream()`: events and `finalResponse()`")
def test_responses_stream(run: Run, spec: SpecCheck) -> None:
    result = run("responses_stream")
    assert result["kinds"][0] == "response.created" and result["kinds"][-1] == "response.completed"
    assert result["outputText"] == "Hello! You said: Hi" and result["status"] == "completed"
    assert spec.total() == len(result["kinds"]) or not spec.spec_present


@pytest.mark.compat(NODE, "errors", "`NotFoundError`, `AuthenticationError`, `BadRequestError` with code and param")
def test_error_classes(run: Run, spec: SpecCheck) -> None:
    result = run("errors")
    assert result["notFound"]["isNotFound"] and result["notFound"]["code"] == "model_not_found"
    assert result["auth"]["isAuth"] and result["auth"]["code"] == "invalid_api_key"
    assert result["badRequest"]["isBadRequest"] and result["badRequest"]["param"] == "temperature"
    assert all(e["type"] == "invalid_request_error" and e["requestId"].startswith("req_") for e in result.values())
    assert spec.validated["ErrorResponse"] == 3 or not spec.spec_present


@pytest.mark.compat(NODE, "CORS", "a browser's preflight for the SDK's `x-stainless-*` headers, then the request")
def test_cors_preflight(run: Run, spec: SpecCheck) -> None:
    result = run("cors_preflight")
    requested = result["requested"]
    assert {"authorization", "content-type", "x-stainless-lang", "x-stainless-retry-count"} <= set(requested)
    assert result["preflightStatus"] == 204 and result["allowOrigin"] == "*"
    assert "POST" in result["allowMethods"]
    allowed = {h.strip().lower() for h in result["allowHeaders"].split(",")}
    assert set(requested) <= allowed
    assert result["actualAllowOrigin"] == "*"
    assert {"x-request-id", "retry-after", "x-should-retry"} <= {
        h.strip() for h in result["actualExposeHeaders"].split(",")}
