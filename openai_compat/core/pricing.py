"""What a request cost, from the Workers AI catalogue's published prices and the request's `Usage`.

Prices are Workers AI's own: each catalogue record may carry a `price` property, a list of
`{"unit": "per M input tokens", "price": 0.29, "currency": "USD"}` items, and the cost is the sum of
each item's price times the request's quantity in that unit. `settings.toml` can override a model's
prices (or give one Cloudflare does not publish). Where a cost cannot be known (no published price,
a unit this code does not understand, a quantity the family did not report) the answer says why,
and never a guess: an unknown cost is not a cost of zero.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from openai_compat.core.metering import COST_DECIMALS, Cost, Usage

TILE_PIXELS = 512


def tiles(width: int, height: int) -> int:
    """512x512 tiles an image of this size is billed as (a partial tile counts whole)."""
    return math.ceil(width / TILE_PIXELS) * math.ceil(height / TILE_PIXELS)


def _images_times(*per_image: str) -> Callable[[Usage], float | None]:
    """A per-image unit: None (unknown) when images were made but a factor was not reported."""

    def quantity(usage: Usage) -> float | None:
        factors = [getattr(usage, name) for name in per_image]
        if usage.images and not all(factors):
            return None
        return float(usage.images * math.prod(factors))

    return quantity


# Each understood unit (normalised: lower case, single spaces, "512x512" for "512 by 512") and the
# request's quantity in it.
UNITS: dict[str, Callable[[Usage], float | None]] = {
    "per m input tokens": lambda u: u.prompt_tokens / 1_000_000,
    "per m output tokens": lambda u: u.completion_tokens / 1_000_000,
    "per audio minute": lambda u: u.audio_seconds / 60,
    "per 1k characters": lambda u: u.characters / 1000,
    "per image": _images_times(),
    "per step": _images_times("steps_per_image"),
    "per 512x512 tile": _images_times("tiles_per_image"),
    "per input 512x512 tile, per step": _images_times("input_tiles_per_image", "steps_per_image"),
    "per output 512x512 tile, per step": _images_times("tiles_per_image", "steps_per_image"),
    "per inference request": lambda u: 1.0,
}
_MISSING = {
    "per step": "diffusion steps",
    "per 512x512 tile": "image size",
    "per input 512x512 tile, per step": "input image size and steps",
    "per output 512x512 tile, per step": "image size and steps",
}


def normalise_unit(unit: str) -> str:
    text = re.sub(r"\s+", " ", unit.strip().lower())
    return re.sub(r"(\d+) ?(?:by|x) ?(\d+)", r"\1x\2", text)


def known_unit(unit: str) -> bool:
    return normalise_unit(unit) in UNITS


@dataclass(frozen=True)
class PriceItem:
    unit: str
    usd: float




def parse_price(value: Any) -> tuple[PriceItem, ...] | str:
    """The catalogue's `price` property as items, or the reason it cannot be used."""
    if not isinstance(value, list) or not value:
        return "no published price"
    items: list[PriceItem] = []
    for entry in value:
        if not isinstance(entry, Mapping):
            return "the published price is not understood"
        unit, amount, currency = entry.get("unit"), entry.get("price"), entry.get("currency", "USD")
        if not isinstance(unit, str) or not known_unit(unit):
            return f"the price unit {unit!r} is not understood"
        if isinstance(amount, bool) or not isinstance(amount, int | float) or amount < 0 or not math.isfinite(amount):
            return f"the price for {unit!r} is not a number"
        if currency != "USD":
            return f"the price for {unit!r} is not in USD"
        items.append(PriceItem(normalise_unit(unit), float(amount)))
    return tuple(items)


def price_cost(items: tuple[PriceItem, ...], usage: Usage) -> Cost:
    total = 0.0
    measured = False
    for item in items:
        quantity = UNITS[item.unit](usage)
        if quantity is None:
            return Cost(None, f"the request's {_MISSING.get(item.unit, item.unit)} was not reported")
        measured = measured or quantity > 0
        total += item.usd * quantity
    if not measured and any(item.usd > 0 for item in items):
        # The model is priced in units this request reported none of: a family that reports the
        # wrong units must not look free.
        return Cost(None, "the request reported no usage in the model's priced units")
    return Cost(round(total, COST_DECIMALS), "from estimated token counts" if usage.estimated else None)


class PriceBook:
    """Prices by Workers AI model: the operator's overrides first, then the (cached) catalogue."""

    def __init__(
        self,
        catalogue_price: Callable[[str], tuple[bool, Any]],
        overrides: Mapping[str, Mapping[str, float]] | None = None,
    ) -> None:
        """`catalogue_price(model)` answers (catalogue reachable, the model's `price` property or None)."""
        self._catalogue_price = catalogue_price
        self._parsed: dict[str, tuple[Any, tuple[PriceItem, ...] | str]] = {}
        self._overrides = {
            model: tuple(PriceItem(normalise_unit(unit), float(usd)) for unit, usd in units.items())
            for model, units in (overrides or {}).items()
        }

    def items(self, model: str) -> tuple[PriceItem, ...] | str:
        if model in self._overrides:
            return self._overrides[model]
        reachable, value = self._catalogue_price(model)
        if not reachable:
            return "the Workers AI catalogue (and its prices) could not be read"
        # Parsed once per catalogue copy: a refreshed catalogue brings new value objects.
        cached = self._parsed.get(model)
        if cached is not None and cached[0] is value:
            return cached[1]
        parsed = parse_price(value)
        self._parsed[model] = (value, parsed)
        return parsed

    def cost(self, model: str, usage: Usage) -> Cost:
        items = self.items(model)
        if isinstance(items, str):
            return Cost(None, items)
        return price_cost(items, usage)
