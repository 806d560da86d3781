"""The emulated audio models: speech recognition, translation and text-to-speech.

Plain data (no import of the registry, which builds its ``ModelSpec`` rows from ``SPECS``):
catalogue ids, descriptions, dates and properties copied from Cloudflare's catalogue files,
and input schemas restating theirs (``tests/emulator`` compares them).
"""

from __future__ import annotations

from typing import Any

ASR = "Automatic Speech Recognition"
TRANSLATION = "Translation"
TTS = "Text-to-Speech"
TASKS: dict[str, dict[str, str]] = {
    ASR: {"id": "dfce1c48-2a81-462e-a7fd-de97ce985207", "name": ASR,
          "description": "Automatic speech recognition (ASR) models convert a speech signal, typically an audio "
          "input, to text."},
    TRANSLATION: {"id": "f57d07cb-9087-487a-bbbf-bc3e17fecc4b", "name": TRANSLATION,
                  "description": "Translation models convert a sequence of text from one language to another."},
    TTS: {"id": "b52660a1-9a95-4ab2-8b1d-f232be34604a", "name": TTS,
          "description": "Text-to-Speech (TTS) is the task of generating natural sounding speech given text input. "
          "TTS models can be extended to have a single model that generates speech for multiple speakers and "
          "multiple languages."},
}

_BYTE_ARRAY: dict[str, Any] = {
    "anyOf": [
        {"type": "string", "format": "binary"},
        {"type": "object", "properties": {"audio": {"type": "array", "items": {"type": "number"}}},
         "required": ["audio"]},
    ]
}
TURBO_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "audio": {"type": "string"},
        "task": {"type": "string"},
        "language": {"type": "string"},
        "vad_filter": {"type": "boolean"},
        "initial_prompt": {"type": "string"},
        "prefix": {"type": "string"},
    },
    "required": ["audio"],
}
NOVA_OPTIONS = ("language", "detect_language", "punctuate", "smart_format", "diarize", "utterances",
                "paragraphs", "numerals", "profanity_filter", "filler_words", "keyterm", "keywords")
M2M_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {"text": {"type": "string", "minLength": 1}, "source_lang": {"type": "string"},
                   "target_lang": {"type": "string"}},
    "required": ["text", "target_lang"],
}
_ENCODINGS = ["linear16", "flac", "mulaw", "alaw", "mp3", "opus", "aac"]


def aura_schema(speakers: list[str], text_required: bool = True) -> dict[str, Any]:
    schema: dict[str, Any] = {
        "type": "object",
        "properties": {
            "speaker": {"type": "string", "enum": speakers},
            "encoding": {"type": "string", "enum": _ENCODINGS},
            "container": {"type": "string", "enum": ["none", "wav", "ogg"]},
            "text": {"type": "string"},
            "sample_rate": {"type": "number"},
            "bit_rate": {"type": "number"},
        },
    }
    if text_required:
        schema["required"] = ["text"]
    return schema


AURA_1_SPEAKERS = ["angus", "asteria", "arcas", "orion", "orpheus", "athena", "luna", "zeus", "perseus", "helios",
                   "hera", "stella"]
AURA_2_EN_SPEAKERS = [
    "amalthea", "andromeda", "apollo", "arcas", "aries", "asteria", "athena", "atlas", "aurora", "callista", "cora",
    "cordelia", "delia", "draco", "electra", "harmonia", "helena", "hera", "hermes", "hyperion", "iris", "janus",
    "juno", "jupiter", "luna", "mars", "minerva", "neptune", "odysseus", "ophelia", "orion", "orpheus", "pandora",
    "phoebe", "pluto", "saturn", "thalia", "theia", "vesta", "zeus",
]
AURA_2_ES_SPEAKERS = ["sirio", "nestor", "carina", "celeste", "alvaro", "diana", "aquila", "selena", "estrella",
                      "javier"]
DEFAULT_SPEAKERS = {"@cf/deepgram/aura-1": "angus", "@cf/deepgram/aura-2-en": "luna",
                    "@cf/deepgram/aura-2-es": "aquila"}
MELOTTS_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {"prompt": {"type": "string", "minLength": 1}, "lang": {"type": "string"}},
    "required": ["prompt"],
}

_PARTNER = {"async_queue": "true", "partner": "true", "realtime": "true"}
_WHISPER_DESC = "Whisper is a pre-trained model for automatic speech recognition (ASR) and speech translation."
_AURA_DESC = ("{} is a context-aware text-to-speech (TTS) model that applies natural pacing, expressiveness, and "
              "fillers based on the context of the provided text. The quality of your text input directly impacts "
              "the naturalness of the audio output.")


def _price(unit: str, price: float) -> list[dict[str, Any]]:
    return [{"unit": unit, "price": price, "currency": "USD"}]


SPECS: list[dict[str, Any]] = [
    {"name": "@cf/openai/whisper", "family": "asr", "task": ASR, "input_schema": _BYTE_ARRAY,
     "description": "Whisper is a general-purpose speech recognition model. It is trained on a large dataset of "
     "diverse audio and is also a multitasking model that can perform multilingual speech recognition, speech "
     "translation, and language identification.",
     "created_at": "2023-09-25 19:21:11.898", "catalogue_id": "c1c12ce4-c36a-4aa6-8da4-f63ba4b8984d",
     "properties": {"price": _price("per audio minute", 0.00045), "info": "https://openai.com/research/whisper"}},
    {"name": "@cf/openai/whisper-tiny-en", "family": "asr", "task": ASR, "input_schema": _BYTE_ARRAY,
     "description": _WHISPER_DESC + " Trained on 680k hours of labelled data, Whisper models demonstrate a strong "
     "ability to generalize to many datasets and domains without the need for fine-tuning. This is the "
     "English-only version of the Whisper Tiny model which was trained on the task of speech recognition.",
     "created_at": "2024-04-22 20:59:02.731", "catalogue_id": "2169496d-9c0e-4e49-8399-c44ee66bff7d",
     "properties": {"beta": "true"}},
    {"name": "@cf/openai/whisper-large-v3-turbo", "family": "asr", "task": ASR, "input_schema": TURBO_SCHEMA,
     "description": _WHISPER_DESC + " ",
     "created_at": "2024-05-22 00:02:18.656", "catalogue_id": "200f0812-148c-48c1-915d-fb3277a94a08",
     "properties": {"price": _price("per audio minute", 0.00051)}},
    {"name": "@cf/deepgram/nova-3", "family": "asr", "task": ASR,
     "input_schema": {"type": "object", "properties": {"audio": {"type": "object"}}, "required": ["audio"]},
     "description": "Transcribe audio using Deepgram\u2019s speech-to-text model",
     "created_at": "2025-06-05 16:05:15.199", "catalogue_id": "a226909f-eef8-4265-a3a0-90db0422762e",
     "properties": {**_PARTNER, "price": _price("per audio minute", 0.0052)}},
    {"name": "@cf/meta/m2m100-1.2b", "family": "translation", "task": TRANSLATION, "input_schema": M2M_SCHEMA,
     "description": "Multilingual encoder-decoder (seq-to-seq) model trained for Many-to-Many multilingual "
     "translation",
     "created_at": "2023-09-25 19:21:11.898", "catalogue_id": "617e7ec3-bf8d-4088-a863-4f89582d91b5",
     "properties": {"info": "https://github.com/facebookresearch/fairseq/tree/main/examples/m2m_100",
                    "languages": "english, chinese, french, spanish, arabic, russian, german, japanese, "
                    "portuguese, hindi",
                    "terms": "https://github.com/facebookresearch/fairseq/blob/main/LICENSE"}},
    {"name": "@cf/deepgram/aura-1", "family": "tts", "task": TTS, "input_schema": aura_schema(AURA_1_SPEAKERS),
     "description": _AURA_DESC.format("Aura"),
     "created_at": "2025-08-27 01:18:18.880", "catalogue_id": "1f55679f-009e-4456-aa4f-049a62b4b6a0",
     "properties": {**_PARTNER, "price": _price("per 1k characters", 0.015), "terms": "https://deepgram.com/terms"}},
    {"name": "@cf/deepgram/aura-2-en", "family": "tts", "task": TTS,
     "input_schema": aura_schema(AURA_2_EN_SPEAKERS, text_required=False),
     "description": _AURA_DESC.format("Aura-2"),
     "created_at": "2025-10-09 22:19:34.483", "catalogue_id": "01564c52-8717-47dc-8efd-907a2ca18301",
     "properties": {**_PARTNER, "price": _price("per 1k characters", 0.03), "terms": "https://deepgram.com/terms"}},
    {"name": "@cf/deepgram/aura-2-es", "family": "tts", "task": TTS, "input_schema": aura_schema(AURA_2_ES_SPEAKERS),
     "description": _AURA_DESC.format("Aura-2"),
     "created_at": "2025-10-09 22:42:37.002", "catalogue_id": "c5255b94-2161-4779-bd25-54f061829a2a",
     "properties": {**_PARTNER, "price": _price("per 1k characters", 0.03), "terms": "https://deepgram.com/terms"}},
    {"name": "@cf/myshell-ai/melotts", "family": "tts", "task": TTS, "input_schema": MELOTTS_SCHEMA,
     "description": "MeloTTS is a high-quality multi-lingual text-to-speech library by MyShell.ai.",
     "created_at": "2024-07-19 15:51:04.819", "catalogue_id": "c837b2ac-4d9b-4d37-8811-34de60f0c44f",
     "properties": {}},
]
