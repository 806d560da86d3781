"""The emulator's catalogue prices are Cloudflare's: the gateway's cost figures are checked against them.

Every restated price must equal the `price` property of the model's catalogue file, every emulated
model whose catalogue file has a price must carry it, and `models/search` serves them as the real API
does (a `price` property holding the list). The file comparisons skip when the catalogue is absent.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
import requests

from tests.support.emulator import EmulatorHandle, shared_dir
from workers_ai_emulator.prices import PRICES
from workers_ai_emulator.registry import MODELS

SHARED = shared_dir()
CATALOGUE = SHARED / "specs" / "workers-ai-models" if SHARED else None
needs_catalogue = pytest.mark.skipif(
    CATALOGUE is None or not CATALOGUE.is_dir(), reason="../shared/specs/workers-ai-models not available"
)


def catalogue_prices() -> dict[str, Any]:
    """Model name -> the `price` property of its catalogue file (None where it has none)."""
    assert CATALOGUE is not None
    found: dict[str, Any] = {}
    for path in sorted(CATALOGUE.glob("*.json")):
        record = json.loads(path.read_text())
        props = {p.get("property_id"): p.get("value") for p in record.get("properties") or []}
        found[record["name"]] = props.get("price")
    return found


@needs_catalogue
def test_every_restated_price_is_the_catalogues() -> None:
    published = catalogue_prices()
    for model, price in PRICES.items():
        assert model in published, f"{model} has no catalogue file to check its price against"
        assert price == published[model], model


@needs_catalogue
def test_every_emulated_model_with_a_published_price_carries_it() -> None:
    published = catalogue_prices()
    missing = [name for name in MODELS if published.get(name) and name not in PRICES]
    assert not missing


def test_models_search_serves_the_price_property(emu: EmulatorHandle) -> None:
    response = requests.get(f"{emu.account_url}/ai/models/search", headers=emu.headers, timeout=5)
    records = {r["name"]: r for r in response.json()["result"]}
    llama = {p["property_id"]: p["value"] for p in records["@cf/meta/llama-3.3-70b-instruct-fp8-fast"]["properties"]}
    assert llama["price"] == [
        {"unit": "per M input tokens", "price": 0.29, "currency": "USD"},
        {"unit": "per M output tokens", "price": 2.25, "currency": "USD"},
    ]
    glm = {p["property_id"] for p in records["@cf/zai-org/glm-4.7-flash"]["properties"]}
    assert "price" not in glm  # no published price: none made up


def test_restated_prices_are_well_formed() -> None:
    for model, items in PRICES.items():
        assert items and all(set(item) == {"unit", "price", "currency"} for item in items), model
