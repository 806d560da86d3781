"""What a request consumed, and the one hook every family reports it to.

Each family calls `Meter.record` once per request (for a stream: when it ends) with the model and
its `Usage`. Sinks attached at start-up consume the measurements: today the access log line; cost,
metrics and per-key usage attach here too, so no family ever needs to know they exist.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

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
        for name in ("images", "audio_seconds", "characters"):
            value = getattr(self, name)
            if value:
                found[name] = round(value, 3) if isinstance(value, float) else value
        return found


@dataclass(frozen=True)
class Measurement:
    model: ResolvedModel
    usage: Usage


Sink = Callable[[Measurement], None]


class Meter:
    def __init__(self, sinks: list[Sink] | None = None) -> None:
        self._sinks: list[Sink] = list(sinks or [])

    def add_sink(self, sink: Sink) -> None:
        self._sinks.append(sink)

    def record(self, model: ResolvedModel, usage: Usage) -> None:
        measurement = Measurement(model, usage)
        for sink in self._sinks:
            try:
                sink(measurement)
            except Exception:  # a broken sink must never fail the request that was served
                log_event(log, "metering_sink_failed", level=logging.ERROR, sink=getattr(sink, "__name__", "?"))
