"""Wire models of the transcription and translation forms (multipart, as the SDKs send them).

The file part is read apart (`web.bodies.Form.file`); these models hold the text fields, which
arrive as strings: pydantic reads `"0.2"` and `"true"` as the numbers and booleans they stand for.
"""

from __future__ import annotations

from typing import Any, ClassVar, Literal

from pydantic import Field, field_validator

from openai_compat.core.wire import WireModel

ResponseFormat = Literal["json", "text", "srt", "verbose_json", "vtt"]
Granularity = Literal["segment", "word"]
DEFAULT_MODEL = "@cf/openai/whisper-large-v3-turbo"


class TranslationRequest(WireModel):
    IGNORED: ClassVar[frozenset[str]] = frozenset({"temperature"})

    model: str = Field(default=DEFAULT_MODEL, min_length=1)
    prompt: str | None = None
    response_format: ResponseFormat = "json"
    temperature: float = Field(default=0.0, ge=0, le=1)
    """Accepted and ignored: Workers AI's speech models take no sampling temperature."""


class TranscriptionRequest(TranslationRequest):
    IGNORED: ClassVar[frozenset[str]] = frozenset({"temperature", "include", "chunking_strategy"})

    language: str | None = None
    timestamp_granularities: list[Granularity] | None = None
    stream: bool = False
    include: Any = None
    """`logprobs`: Workers AI reports none; accepted and ignored."""
    chunking_strategy: Any = None

    @field_validator("timestamp_granularities", mode="before")
    @classmethod
    def _one_or_many(cls, value: Any) -> Any:
        return [value] if isinstance(value, str) else value
