"""What a request consumed, and the one hook every family reports it to.

Each family calls `Meter.record` once per request (for a stream: when it ends) with the model and
its `Usage`. The meter prices it and names the caller, then hands the measurement to the sinks
attached at start-up: the access log line, metrics, per-key usage and limits. No family ever needs
to know they exist.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from openai_compat.core.keys import caller_name
from openai_compat.core.logs import log_event
from openai_compat.core.model_names import ResolvedModel

log = logging.getLogger("openai_compat.metering")


def tokens_for_characters(count: int) -> int:
    """About four characters a token: used only where Workers AI reports no usage (documented)."""
    return max(1, (count + 3) // 4) if count > 0 else 0


def estimate_tokens(text: str) -> int:
    return tokens_for_characters(len(text))


@dataclass
class Usage:
    """A request's consumption in every unit Workers AI prices by; a family fills the ones it uses."""

    prompt_tokens: int = 0
    completion_tokens: int = 0
    estimated: bool = False
    """Token counts were estimated because Workers AI reported none."""
    images: int = 0
    audio_seconds: float = 0.0
    characters: int = 0
    steps_per_image: int = 0
    """Diffusion steps each image took (every image of one request takes the same)."""
    tiles_per_image: int = 0
    """512x512 tiles each image is billed as (`core.pricing.tiles(width, height)`)."""
    input_tiles_per_image: int = 0
    """512x512 tiles of the input image, for image-to-image models priced by input tiles."""

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens

    def fields(self) -> dict[str, int | float | bool]:
        """The non-zero measures, for log lines and metrics."""
        found: dict[str, int | float | bool] = {}
        if self.prompt_tokens or self.completion_tokens:
            found.update(prompt_tokens=self.prompt_tokens, completion_tokens=self.completion_tokens)
        if self.estimated:
            found["usage_estimated"] = True
        for name in ("images", "audio_seconds", "characters", "steps_per_image", "tiles_per_image",
                     "input_tiles_per_image"):
            value = getattr(self, name)
            if value:
                found[name] = round(value, 3) if isinstance(value, float) else value
        return found


COST_DECIMALS = 12


@dataclass(frozen=True)
class Cost:
    """What a request cost in USD; `usd` is None when it cannot be known, and `note` says why."""

    usd: float | None
    note: str | None = None

    def header_value(self) -> str:
        """For `x-workers-ai-cost-usd`: a plain decimal (no exponent), or `unknown`."""
        if self.usd is None:
            return "unknown"
        text = f"{self.usd:.{COST_DECIMALS}f}".rstrip("0")
        return text + "0" if text.endswith(".") else text

    def fields(self) -> dict[str, float | str | None]:
        """For the access-log line."""
        return {"cost_usd": self.usd, "cost_note": self.note} if self.note else {"cost_usd": self.usd}


UNPRICED = Cost(None, "no price book")


@dataclass(frozen=True)
class Measurement:
    model: ResolvedModel
    usage: Usage
    cost: Cost = UNPRICED
    key: str | None = None
    """The caller's key name (never the secret); None outside a request."""


Sink = Callable[[Measurement], None]
Pricer = Callable[[str, Usage], Cost]


class Meter:
    def __init__(self, sinks: list[Sink] | None = None, pricer: Pricer | None = None) -> None:
        self._sinks: list[Sink] = list(sinks or [])
        self._pricer = pricer

    def add_sink(self, sink: Sink) -> None:
        self._sinks.append(sink)

    def price(self, model: ResolvedModel, usage: Usage) -> Cost:
        if self._pricer is None:
            return UNPRICED
        try:
            return self._pricer(model.upstream, usage)
        except Exception:  # pricing must never fail a request that was served
            log_event(log, "pricing_failed", level=logging.ERROR, model=model.upstream)
            return Cost(None, "pricing failed")

    def record(self, model: ResolvedModel, usage: Usage) -> None:
        measurement = Measurement(model, usage, self.price(model, usage), caller_name())
        for sink in self._sinks:
            try:
                sink(measurement)
            except Exception:  # a broken sink must never fail the request that was served
                log_event(log, "metering_sink_failed", level=logging.ERROR, sink=getattr(sink, "__name__", "?"))
