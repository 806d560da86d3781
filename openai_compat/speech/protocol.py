"""Wire model of a speech request (`CreateSpeechRequest`)."""

from __future__ import annotations

from typing import Any, ClassVar, Literal

from pydantic import Field

from openai_compat.core.wire import WireModel

SpeechFormat = Literal["mp3", "opus", "aac", "flac", "wav", "pcm"]
DEFAULT_MODEL = "@cf/deepgram/aura-2-en"


class SpeechRequest(WireModel):
    IGNORED: ClassVar[frozenset[str]] = frozenset({"instructions"})

    model: str = Field(default=DEFAULT_MODEL, min_length=1)
    input: str = Field(min_length=1, max_length=4096)
    voice: str | dict[str, Any]
    instructions: str | None = Field(default=None, max_length=4096)
    """Accepted and ignored: no Workers AI voice takes style instructions."""
    response_format: SpeechFormat = "mp3"
    speed: float = Field(default=1.0, ge=0.25, le=4.0)
    stream_format: Literal["audio", "sse"] = "audio"
