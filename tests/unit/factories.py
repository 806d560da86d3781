"""Settings for unit tests, built directly so no environment or settings file leaks in; and the SSE
parser driven as a pull loop, as the parser tests read it."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from openai_compat.settings import Settings
from openai_compat.upstream.event_stream import EventParser

BASE = "https://cf.test/client/v4"
ACCOUNT = "0123456789abcdef0123456789abcdef"


def make_settings(**overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "cloudflare_account_id": ACCOUNT,
        "cloudflare_api_token": "cf-token",
        "workers_ai_base_url": BASE,
        "gateway_api_keys": ["sk-unit"],
        "upstream_backoff_seconds": 0.01,
        "model_aliases": {"gpt-4o-mini": "@cf/meta/llama-3.3-70b-instruct-fp8-fast"},
    }
    values.update(overrides)
    return Settings.model_validate(values)


def run_url(model: str) -> str:
    return f"{BASE}/accounts/{ACCOUNT}/ai/run/{model}"


def iter_event_data(chunks: Iterable[bytes]) -> Iterator[str]:
    """Every event's data, as text, from chunks pulled one at a time: the parser driven as a loop."""
    parser = EventParser()
    for chunk in chunks:
        for data in parser.feed(chunk):
            yield data.decode("utf-8")
    for data in parser.close():
        yield data.decode("utf-8")
