"""A speech request -> the voice model's input. Pure mappings; every refusal names its field."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from openai_compat.errors import InvalidRequestError
from openai_compat.speech.profiles import Voice


def speaker_for(voice: str | dict[str, Any], model: Voice, mapping: Mapping[str, str], requested: str) -> str:
    """The model's speaker for an OpenAI voice name (mapped in settings) or one of its own names."""
    if isinstance(voice, dict):
        raise InvalidRequestError(
            "Custom voices are not available on Workers AI: use a voice name.", param="voice", code="invalid_value"
        )
    name = voice.strip().lower()
    speaker = mapping.get(name, name)
    if speaker not in model.speakers:
        known = sorted(set(mapping) | set(model.speakers))
        raise InvalidRequestError(
            f"Unknown voice {voice!r} for `{requested}`. Use one of: {', '.join(known)}.",
            param="voice", code="invalid_value",
        )
    return speaker


def check_format(response_format: str, model: Voice, requested: str) -> dict[str, Any]:
    fields = model.formats.get(response_format)
    if fields is None:
        raise InvalidRequestError(
            f"The model `{requested}` cannot produce {response_format!r} audio; it makes "
            f"{', '.join(model.formats)}.",
            param="response_format", code="unsupported_value",
        )
    return fields


def check_speed(speed: float, requested: str) -> None:
    if speed != 1.0:
        raise InvalidRequestError(
            f"The model `{requested}` speaks at one rate only: speed must be 1.0.",
            param="speed", code="unsupported_value",
        )


def speech_input(model: Voice, text: str, speaker: str, encoding: dict[str, Any]) -> dict[str, Any]:
    if model.kind == "melotts":
        return {"prompt": text, "lang": speaker}
    return {"text": text, "speaker": speaker, **encoding}
