"""The wire fields Chat Completions and Completions share, their neutral form, and the refusals and
checks they share (with Responses, for tools and images)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Annotated

from pydantic import Field

from openai_compat.core.wire import WireModel
from openai_compat.errors import InvalidRequestError
from openai_compat.textgen.profiles import TextModelProfile
from openai_compat.textgen.request import Sampling

MAX_CHOICES = 8

Stop = Annotated[str, Field()] | Annotated[list[str], Field(max_length=4)] | None
Refusal = tuple[str, bool, str]


class StreamOptions(WireModel):
    IGNORED = frozenset({"include_obfuscation"})

    include_usage: bool | None = None
    include_obfuscation: bool | None = None


class SamplerFields(WireModel):
    """The sampling fields every text family takes (Responses too), with one set of bounds."""

    temperature: float | None = Field(default=None, ge=0, le=2)
    top_p: float | None = Field(default=None, ge=0, le=1)
    seed: int | None = None
    presence_penalty: float | None = Field(default=None, ge=-2, le=2)
    frequency_penalty: float | None = Field(default=None, ge=-2, le=2)
    # Workers AI extras, passed through.
    top_k: int | None = Field(default=None, ge=1, le=50)
    repetition_penalty: float | None = Field(default=None, ge=0, le=2)


class SamplingFields(SamplerFields):
    """Fields shared with legacy Completions, including the Workers AI extras."""

    IGNORED = frozenset({"user"})

    model: str = Field(min_length=1)
    n: int | None = Field(default=None, ge=1, le=128)
    stream: bool | None = False
    stream_options: StreamOptions | None = None
    stop: Stop = None
    max_tokens: int | None = Field(default=None, ge=1)
    logit_bias: dict[str, float] | None = None
    user: str | None = None
    # Workers AI extras, passed through.
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


def check_tool_choice(forced: str | None, required: bool, tool_names: Iterable[str]) -> None:
    """A tool_choice naming a function must name one of the tools; `required` needs some."""
    names = set(tool_names)
    if forced is not None and forced not in names:
        raise InvalidRequestError(f"tool_choice names {forced!r}, which is not in tools.", param="tool_choice")
    if required and not names:
        raise InvalidRequestError("tool_choice 'required' needs tools.", param="tool_choice")


def check_image_count(model: str, urls: list[tuple[str, str]], profile: TextModelProfile) -> None:
    """Images (by param, url) only for a model that reads them, and no more than it takes at once."""
    if urls and profile.vision is None:
        raise InvalidRequestError(
            f"The model `{model}` does not accept images; use a vision model such as "
            "@cf/meta/llama-4-scout-17b-16e-instruct.",
            param=urls[0][0],
            code="image_not_supported",
        )
    if len(urls) > profile.max_images:
        raise InvalidRequestError(
            f"The model `{model}` accepts at most {profile.max_images} image(s) per request.", param=urls[-1][0]
        )


def sampling_of(req: SamplerFields) -> Sampling:
    """`lora` and `raw` only where the family takes them (Chat Completions and Completions)."""
    return Sampling(
        temperature=req.temperature,
        top_p=req.top_p,
        seed=req.seed,
        presence_penalty=req.presence_penalty,
        frequency_penalty=req.frequency_penalty,
        top_k=req.top_k,
        repetition_penalty=req.repetition_penalty,
        lora=getattr(req, "lora", None),
        raw=getattr(req, "raw", None),
    )
