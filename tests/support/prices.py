"""Published Workers AI prices for tests: the catalogue file's `price` property where
`../shared/specs/workers-ai-models` is present, else the emulator's restatement of it (which
`tests/emulator/test_emulator_prices.py` holds equal to the files whenever they are present)."""

from __future__ import annotations

import json
from typing import Any

from tests.support.emulator import shared_dir
from workers_ai_emulator.prices import PRICES


def catalogue_records() -> dict[str, dict[str, Any]]:
    """Every catalogue file's record by model name (empty without ../shared)."""
    shared = shared_dir()
    folder = shared / "specs" / "workers-ai-models" if shared else None
    if folder is None or not folder.is_dir():
        return {}
    records = (json.loads(path.read_text()) for path in sorted(folder.glob("*.json")))
    return {record["name"]: record for record in records}


def published_price(model: str) -> list[dict[str, Any]] | None:
    record = catalogue_records().get(model)
    if record is not None:
        props = {p.get("property_id"): p.get("value") for p in record.get("properties") or []}
        return props.get("price")
    return PRICES.get(model)


def unit_price(model: str, unit: str) -> float:
    """The published USD price of `model` in `unit` (as the catalogue spells it)."""
    items = published_price(model) or []
    found = [item["price"] for item in items if item["unit"] == unit]
    assert found, f"{model} has no published price per {unit!r}"
    return float(found[0])
