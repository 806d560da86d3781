"""What the gateway must know about a text model that its reply cannot tell it.

Workers AI text models come in two input dialects: the classic schema (string message content,
`tool_calls` with object arguments, no `stop`) and the 2026 OpenAI-compatible schema. Vision
models take images either as a top-level byte array or as data-URI content parts. A model not
listed here is treated as classic and text-only, which is the safe reading of an unknown model.
(gpt-oss takes the classic input schema, and Responses input as well, but answers in OpenAI's shapes;
replies are read by their shape, so only the input forms are recorded here.)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from openai_compat.core.model_names import Task

Dialect = Literal["classic", "openai"]
VisionInput = Literal["bytes", "parts"] | None


@dataclass(frozen=True)
class TextModelProfile:
    dialect: Dialect = "classic"
    vision: VisionInput = None
    max_images: int = 0
    responses_input: bool = False
    """The model also takes OpenAI Responses input (`input` items) on /ai/run: gpt-oss."""

    @property
    def native_stop(self) -> bool:
        return self.dialect == "openai"


TEXT_GENERATION = Task("Text Generation", suggestion="@cf/meta/llama-3.3-70b-instruct-fp8-fast")

CLASSIC = TextModelProfile()
OPENAI = TextModelProfile(dialect="openai")

# Matched by prefix, longest first, so a family entry covers its size and quantisation variants.
_PROFILES: dict[str, TextModelProfile] = {
    "@cf/meta/llama-3.2-11b-vision-instruct": TextModelProfile(vision="bytes", max_images=1),
    "@cf/meta/llama-4-scout": TextModelProfile(vision="parts", max_images=5),
    "@cf/mistralai/mistral-small-3.1": TextModelProfile(vision="parts", max_images=5),
    "@cf/google/gemma-3": TextModelProfile(vision="parts", max_images=5),
    "@cf/google/gemma-4": TextModelProfile(dialect="openai", vision="parts", max_images=5),
    "@cf/openai/gpt-oss": TextModelProfile(responses_input=True),
    "@cf/zai-org/glm": OPENAI,
    "@cf/moonshotai/kimi": TextModelProfile(dialect="openai", vision="parts", max_images=5),
    "@cf/qwen/qwen3-30b-a3b": OPENAI,
    "@cf/qwen/qwen3.8": OPENAI,
    "@cf/deepseek-ai/deepseek-v4": OPENAI,
    "@cf/nvidia/nemotron-3": OPENAI,
    "@cf/aisingapore/gemma-sea-lion-v4": OPENAI,
}
_ORDERED = sorted(_PROFILES.items(), key=lambda item: len(item[0]), reverse=True)


def profile_for(model: str) -> TextModelProfile:
    for prefix, profile in _ORDERED:
        if model.startswith(prefix):
            return profile
    return CLASSIC
