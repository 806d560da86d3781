"""The service tier: the real Flask app in-process (werkzeug's test client), Workers AI mocked with `responses`.

Each test gets a fresh app, so the catalogue cache and metering never leak between tests. The catalogue
answers with no models unless a test parametrizes `catalogue_records`.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import responses
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from openai_compat.core.metering import Measurement
from openai_compat.web.app import build_app
from openai_compat.web.services import EXTENSION_KEY
from tests.unit.factories import ACCOUNT, BASE, make_settings, run_url

AUTH = {"Authorization": "Bearer sk-unit"}
CATALOGUE_URL = re.compile(re.escape(f"{BASE}/accounts/{ACCOUNT}/ai/models/search") + r"(\?.*)?$")
LLAMA = "@cf/meta/llama-3.3-70b-instruct-fp8-fast"


def envelope(result: Any) -> dict[str, Any]:
    return {"result": result, "success": True, "errors": [], "messages": []}


def failure(code: int, message: str) -> dict[str, Any]:
    return {"result": None, "success": False, "errors": [{"code": code, "message": message}], "messages": []}


def sse(*events: dict[str, Any] | str) -> bytes:
    """An upstream SSE body: each event as `data: ...`, then `data: [DONE]`."""
    lines = [f"data: {e if isinstance(e, str) else json.dumps(e)}\n\n" for e in events]
    return ("".join(lines) + "data: [DONE]\n\n").encode()


def sse_payloads(body: bytes) -> list[Any]:
    """What a client reads from a gateway stream: the JSON of each data event, `[DONE]` as a string."""
    out: list[Any] = []
    for block in body.decode().split("\n\n"):
        data = [line[len("data: "):] for line in block.split("\n") if line.startswith("data: ")]
        if data:
            text = "\n".join(data)
            out.append(text if text == "[DONE]" else json.loads(text))
    return out


class LogLines(logging.Handler):
    """Every record the gateway's loggers write, parsed from its JSON line."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    def text(self) -> str:
        return "\n".join(r.getMessage() for r in self.records)

    def events(self, name: str, logger: str | None = None) -> list[dict[str, Any]]:
        found = []
        for record in self.records:
            if logger is not None and record.name != logger:
                continue
            try:
                line = json.loads(record.getMessage())
            except ValueError:
                continue
            if line.get("event") == name:
                found.append(line)
        return found


@dataclass
class Gateway:
    app: Flask
    client: FlaskClient
    upstream: responses.RequestsMock
    logs: LogLines

    def post(self, path: str, body: Any, **kwargs: Any) -> TestResponse:
        headers = {**AUTH, **kwargs.pop("headers", {})}
        return self.client.post(path, json=body, headers=headers, **kwargs)

    def get(self, path: str, **kwargs: Any) -> TestResponse:
        headers = {**AUTH, **kwargs.pop("headers", {})}
        return self.client.get(path, headers=headers, **kwargs)

    def runs(self, model: str | None = None) -> list[Any]:
        """Upstream model calls (not catalogue lookups), optionally for one model only."""
        prefix = run_url(model) if model else f"{BASE}/accounts/{ACCOUNT}/ai/run/"
        return [c for c in self.upstream.calls if c.request.url.startswith(prefix)]

    def catalogue_calls(self) -> list[Any]:
        return [c for c in self.upstream.calls if CATALOGUE_URL.match(c.request.url)]


@pytest.fixture
def catalogue_records() -> list[dict[str, Any]]:
    """Override with `@pytest.mark.parametrize("catalogue_records", [[...]])`."""
    return []


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    return {}


@pytest.fixture
def upstream() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


@pytest.fixture
def app(settings_overrides: dict[str, Any]) -> Flask:
    return build_app(make_settings(**settings_overrides))


@pytest.fixture
def gateway(
    app: Flask, upstream: responses.RequestsMock, catalogue_records: list[dict[str, Any]]
) -> Iterator[Gateway]:
    upstream.get(
        CATALOGUE_URL,
        json={"success": True, "errors": [], "messages": [], "result": catalogue_records,
              "result_info": {"total_pages": 1}},
    )
    lines = LogLines()
    root = logging.getLogger("openai_compat")  # configure_logging stops propagation here: caplog sees nothing
    root.addHandler(lines)
    try:
        yield Gateway(app, app.test_client(), upstream, lines)
    finally:
        root.removeHandler(lines)


@pytest.fixture
def measurements(gateway: Gateway) -> list[Measurement]:
    """Every measurement the metering hook makes during the test (usage, cost), in order."""
    found: list[Measurement] = []
    gateway.app.extensions[EXTENSION_KEY].meter.add_sink(found.append)
    return found
