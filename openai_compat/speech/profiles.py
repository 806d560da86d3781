"""The Workers AI voices the gateway speaks with, what each can produce, and OpenAI's content types.

Aura (Deepgram) takes an `encoding` and a `container`, so every OpenAI format maps onto it: mp3,
Ogg Opus, ADTS AAC, FLAC, WAV (16-bit PCM in a WAV container) and raw 16-bit PCM, both at 24 kHz as
OpenAI's are. MeloTTS makes MP3 only (base64 in JSON), and has languages rather than speakers.
Neither takes a speaking rate, so `speed` other than 1.0 is refused rather than ignored.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from openai_compat.core.model_names import Task

TTS = Task("Text-to-Speech", suggestion="tts-1 (@cf/deepgram/aura-2-en)")
CONTENT_TYPES = {"mp3": "audio/mpeg", "opus": "audio/opus", "aac": "audio/aac", "flac": "audio/flac",
                 "wav": "audio/wav", "pcm": "audio/pcm"}
"""What OpenAI answers each format with (opus is an Ogg Opus file)."""
PCM_RATE = 24000

_AURA_FORMATS: dict[str, dict[str, Any]] = {
    "mp3": {"encoding": "mp3"},
    "opus": {"encoding": "opus", "container": "ogg"},
    "aac": {"encoding": "aac"},
    "flac": {"encoding": "flac"},
    "wav": {"encoding": "linear16", "container": "wav", "sample_rate": PCM_RATE},
    "pcm": {"encoding": "linear16", "container": "none", "sample_rate": PCM_RATE},
}


@dataclass(frozen=True)
class Voice:
    name: str
    kind: Literal["aura", "melotts"]
    speakers: tuple[str, ...]
    formats: dict[str, dict[str, Any]]
    """OpenAI response_format -> the upstream's encoding fields; formats missing here are refused."""


_AURA_2_EN = ("amalthea", "andromeda", "apollo", "arcas", "aries", "asteria", "athena", "atlas", "aurora", "callista",
              "cora", "cordelia", "delia", "draco", "electra", "harmonia", "helena", "hera", "hermes", "hyperion",
              "iris", "janus", "juno", "jupiter", "luna", "mars", "minerva", "neptune", "odysseus", "ophelia", "orion",
              "orpheus", "pandora", "phoebe", "pluto", "saturn", "thalia", "theia", "vesta", "zeus")
_VOICES: dict[str, Voice] = {
    v.name: v
    for v in (
        Voice("@cf/deepgram/aura-2-en", "aura", _AURA_2_EN, _AURA_FORMATS),
        Voice("@cf/deepgram/aura-1", "aura", ("angus", "asteria", "arcas", "orion", "orpheus", "athena", "luna",
                                              "zeus", "perseus", "helios", "hera", "stella"), _AURA_FORMATS),
        Voice("@cf/deepgram/aura-2-es", "aura", ("sirio", "nestor", "carina", "celeste", "alvaro", "diana", "aquila",
                                                 "selena", "estrella", "javier"), _AURA_FORMATS),
        Voice("@cf/myshell-ai/melotts", "melotts", ("en", "es", "fr", "zh", "jp", "kr"), {"mp3": {}}),
    )
}


def voice_model(name: str) -> Voice | None:
    return _VOICES.get(name)


def known_models() -> list[str]:
    return sorted(_VOICES)
