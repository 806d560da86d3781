"""What the gateway must know about each Workers AI speech recognition model: the form its audio
takes on the wire, and what it can do beyond transcribing.

- whisper-large-v3-turbo: JSON with the audio in base64; a translate task, a language hint, an
  initial prompt; it reports the language it heard, the duration and timed segments.
- whisper: JSON with the audio as an array of byte values (as Cloudflare's own AI SDK provider
  sends it); words and a WebVTT document, no language.
- whisper-tiny-en: the raw audio as the body with its content type (the REST examples' form);
  English only.
- nova-3 (Deepgram): the raw audio with its content type, options as query parameters; it reports
  the language it detected when asked to, and timed words.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from openai_compat.core.model_names import Task

ASR = Task("Automatic Speech Recognition", suggestion="whisper-1 (@cf/openai/whisper-large-v3-turbo)")
TRANSLATOR = "@cf/meta/m2m100-1.2b"
"""Translates segment texts into English where the speech model has no translate task."""

WireForm = Literal["base64_json", "byte_array", "raw"]
Reply = Literal["turbo", "whisper", "deepgram"]


@dataclass(frozen=True)
class SpeechModel:
    name: str
    form: WireForm
    reply: Reply
    translates: bool = False
    """Has its own `task: translate` (into English)."""
    language_hint: bool = False
    prompt: bool = False
    detects_language: bool = False
    english_only: bool = False
    options_in_query: bool = False


_MODELS: dict[str, SpeechModel] = {
    m.name: m
    for m in (
        SpeechModel("@cf/openai/whisper-large-v3-turbo", "base64_json", "turbo", translates=True,
                    language_hint=True, prompt=True, detects_language=True),
        SpeechModel("@cf/openai/whisper", "byte_array", "whisper"),
        SpeechModel("@cf/openai/whisper-tiny-en", "raw", "whisper", english_only=True),
        SpeechModel("@cf/deepgram/nova-3", "raw", "deepgram", language_hint=True, detects_language=True,
                    options_in_query=True),
    )
}


def speech_model(name: str) -> SpeechModel | None:
    return _MODELS.get(name)


def known_models() -> list[str]:
    return sorted(_MODELS)
