"""The voice model's answer -> audio chunks, and OpenAI's `speech.audio.*` events. Pure functions.

Aura answers with the audio itself, streamed; MeloTTS with base64 MP3 inside JSON, which is decoded
and passed on in pieces like any other body.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterator
from typing import Any

from openai_compat.core.metering import estimate_tokens
from openai_compat.errors import UpstreamError

PIECE_BYTES = 64 * 1024


def json_audio(result: Any) -> bytes:
    """MeloTTS's `{"audio": "<base64 MP3>"}`."""
    audio = result.get("audio") if isinstance(result, dict) else None
    if not isinstance(audio, str) or not audio:
        raise UpstreamError("Workers AI's speech result holds no audio.")
    try:
        return base64.b64decode(audio, validate=True)
    except (binascii.Error, ValueError):
        raise UpstreamError("Workers AI's speech result is not valid base64 audio.") from None


def check_audio_type(content_type: str) -> None:
    """A binary answer must say it is audio: anything else (an HTML page from a proxy between) would
    be handed to the client as if it were sound."""
    if not content_type.startswith("audio/"):
        raise UpstreamError(f"Workers AI answered {content_type or 'an unnamed type'!r} where audio was expected.")


def pieces(data: bytes) -> Iterator[bytes]:
    for start in range(0, len(data), PIECE_BYTES):
        yield data[start:start + PIECE_BYTES]


def delta_event(chunk: bytes) -> dict[str, Any]:
    return {"type": "speech.audio.delta", "audio": base64.b64encode(chunk).decode("ascii")}


def done_event(text: str) -> dict[str, Any]:
    """Workers AI reports no speech usage: input tokens are estimated, output tokens unknown (0)."""
    tokens = estimate_tokens(text)
    return {"type": "speech.audio.done", "usage": {"input_tokens": tokens, "output_tokens": 0, "total_tokens": tokens}}
