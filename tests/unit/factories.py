"""Settings for unit tests, built directly so no environment or settings file leaks in."""

from __future__ import annotations

from typing import Any

from openai_compat.settings import Settings

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
