"""Sampling fields shared by Chat Completions and Completions: their wire model, their mapping to
Workers AI ranges, and the refusals they share."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field

from openai_compat.errors import InvalidRequestError

MAX_CHOICES = 8
WORKERS_AI_MAX_SEED = 9_999_999_999
CLASSIC_MIN_TOP_P = 0.001

Stop = Annotated[str, Field()] | Annotated[list[str], Field(max_length=4)] | None
Refusal = tuple[str, bool, str]


class Lenient(BaseModel):
    model_config = ConfigDict(extra="allow")


class StreamOptions(Lenient):
    include_usage: bool | None = None
    include_obfuscation: bool | None = None


class SamplingFields(Lenient):
    """Fields shared with legacy Completions, including the Workers AI extras."""

    model: str = Field(min_length=1)
    temperature: float | None = Field(default=None, ge=0, le=2)
    top_p: float | None = Field(default=None, ge=0, le=1)
    n: int | None = Field(default=None, ge=1, le=128)
    stream: bool | None = False
    stream_options: StreamOptions | None = None
    stop: Stop = None
    max_tokens: int | None = Field(default=None, ge=1)
    seed: int | None = None
    presence_penalty: float | None = Field(default=None, ge=-2, le=2)
    frequency_penalty: float | None = Field(default=None, ge=-2, le=2)
    logit_bias: dict[str, float] | None = None
    user: str | None = None
    # Workers AI extras, passed through.
    top_k: int | None = Field(default=None, ge=1, le=50)
    repetition_penalty: float | None = Field(default=None, ge=0, le=2)
    lora: str | None = None
    raw: bool | None = None

    def stop_list(self) -> list[str]:
        if self.stop is None:
            return []
        return [self.stop] if isinstance(self.stop, str) else list(self.stop)


def refuse(refusals: Iterable[Refusal]) -> None:
    """Raise a 400 naming the first field Workers AI cannot serve: refused, never silently dropped."""
    for param, refused, message in refusals:
        if refused:
            raise InvalidRequestError(message, param=param, code="unsupported_parameter")


def common_refusals(req: SamplingFields) -> list[Refusal]:
    return [
        ("logit_bias", bool(req.logit_bias), "Workers AI does not support logit_bias."),
        ("n", (req.n or 1) > MAX_CHOICES, f"This gateway serves at most n={MAX_CHOICES} choices per prompt."),
        ("stream_options", req.stream_options is not None and not req.stream,
         "stream_options is only allowed when stream is true."),
    ]


def workers_seed(seed: int) -> int:
    """Workers AI takes 1..9999999999; OpenAI any int64. Fold so equal seeds stay equal."""
    return seed if 1 <= seed <= WORKERS_AI_MAX_SEED else seed % WORKERS_AI_MAX_SEED + 1


def sampling_input(req: Any, *, dialect: str) -> dict[str, Any]:
    """Sampling fields shared by Chat and Completions, in the target dialect's ranges."""
    out: dict[str, Any] = {}
    if req.temperature is not None:
        out["temperature"] = req.temperature
    if req.top_p is not None:
        out["top_p"] = req.top_p if dialect == "openai" else max(CLASSIC_MIN_TOP_P, req.top_p)
    if req.seed is not None:
        out["seed"] = workers_seed(req.seed)
    for name in ("presence_penalty", "frequency_penalty"):
        value = getattr(req, name)
        if value is not None:
            # OpenAI allows -2..2; most classic models take 0..2, and a negative value (encourage
            # repetition) is rarely meant: it becomes "no penalty" rather than an upstream 400.
            out[name] = value if dialect == "openai" else max(0.0, value)
    for name in ("top_k", "repetition_penalty", "lora", "raw"):
        value = getattr(req, name)
        if value is not None:
            out[name] = value
    return out


