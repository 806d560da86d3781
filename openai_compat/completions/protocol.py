"""Wire model of a legacy Completions request."""

from __future__ import annotations

from pydantic import Field

from openai_compat.textgen.sampling import SamplingFields


class CompletionRequest(SamplingFields):
    prompt: str | list[str] | list[int] | list[list[int]] = Field(union_mode="left_to_right")
    suffix: str | None = None
    echo: bool | None = False
    best_of: int | None = Field(default=None, ge=0, le=20)
    logprobs: int | None = Field(default=None, ge=0, le=5)
