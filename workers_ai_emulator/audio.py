"""The emulated audio models: Whisper and Deepgram speech recognition, m2m100 translation, and the
Aura and MeloTTS voices, each in its own wire form and each deterministic.

What the recognisers "hear": a WAV may carry a script in its INFO comment (``LIST``/``INFO``/``ICMT``)
written ``<language>|<segment>|<segment>...``, and then that is the transcript, its segments spread
evenly over the audio's duration and its words evenly over each segment (tests write such files with
the standard library and assert exactly what comes back). Any other audio is heard as words drawn
from a small vocabulary, seeded by a hash of its bytes, in English. Translation is marked, not
performed: ``translate`` appends ``[es>en]`` to the text, so a test can tell what was translated
from what.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import io
import random
import re
import struct
import wave
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from . import speech_audio
from .access import parse_json
from .audio_models import DEFAULT_SPEAKERS
from .breakage import counted, pause
from .envelope import ApiError, bad_input, success
from .faults import Faults
from .registry import ModelSpec

_VOCABULARY = ("the", "gateway", "speaks", "to", "workers", "ai", "and", "every", "model", "answers", "quickly",
               "with", "clear", "words", "about", "audio", "streams", "that", "arrive", "on", "time", "from",
               "a", "small", "server", "in", "the", "cloud", "today", "while", "tests", "listen")
_SENTENCE_WORDS = 8
_LANGUAGE_NAMES = {"english": "en", "chinese": "zh", "french": "fr", "spanish": "es", "arabic": "ar",
                   "russian": "ru", "german": "de", "japanese": "ja", "portuguese": "pt", "hindi": "hi"}
_MELO_LANGUAGES = {"en", "es", "fr", "zh", "jp", "kr"}
_RAW_RATES = {8000, 16000, 24000, 32000, 48000}


@dataclass(frozen=True)
class Heard:
    language: str
    duration: float
    segments: list[tuple[float, float, str]]


def _riff_comment(audio: bytes) -> str | None:
    if audio[:4] != b"RIFF" or audio[8:12] != b"WAVE":
        return None
    position = 12
    while position + 8 <= len(audio):
        chunk, size = audio[position:position + 4], struct.unpack("<I", audio[position + 4:position + 8])[0]
        body = audio[position + 8:position + 8 + size]
        if chunk == b"LIST" and body[:4] == b"INFO":
            inner = 4
            while inner + 8 <= len(body):
                sub, sub_size = body[inner:inner + 4], struct.unpack("<I", body[inner + 4:inner + 8])[0]
                if sub == b"ICMT":
                    return body[inner + 8:inner + 8 + sub_size].rstrip(b"\0").decode("utf-8", "replace")
                inner += 8 + sub_size + (sub_size & 1)
        position += 8 + size + (size & 1)
    return None


def _duration(audio: bytes) -> float:
    if audio[:4] == b"RIFF":
        try:
            with wave.open(io.BytesIO(audio)) as reader:
                return reader.getnframes() / reader.getframerate()
        except (wave.Error, EOFError, ZeroDivisionError):
            pass
    return round(len(audio) / 16000, 3)  # as if 8 kHz 16-bit mono


def hear(audio: bytes) -> Heard:
    """What the recognisers take these bytes to say."""
    duration = _duration(audio)
    script = _riff_comment(audio)
    if script and "|" in script:
        language, *texts = [part.strip() for part in script.split("|")]
        texts = [t for t in texts if t]
    else:
        rng = random.Random(hashlib.sha256(audio).digest())
        words = [rng.choice(_VOCABULARY) for _ in range(max(1, min(48, int(duration * 2.5))))]
        texts = []
        for start in range(0, len(words), _SENTENCE_WORDS):
            group = words[start:start + _SENTENCE_WORDS]
            texts.append(" ".join(group).capitalize() + ".")
        language = "en"
    step = duration / max(1, len(texts))
    segments = [(round(i * step, 3), round((i + 1) * step, 3), text) for i, text in enumerate(texts)]
    return Heard(language, duration, segments)


def words_of(segment: tuple[float, float, str]) -> list[dict[str, Any]]:
    start, end, text = segment
    pieces = text.split()
    step = (end - start) / max(1, len(pieces))
    return [{"word": w, "start": round(start + i * step, 3), "end": round(start + (i + 1) * step, 3)}
            for i, w in enumerate(pieces)]


def language_code(value: str | None) -> str | None:
    if value is None:
        return None
    lowered = value.strip().lower()
    return _LANGUAGE_NAMES.get(lowered, lowered.split("-", 1)[0])


def translate(text: str, source: str, target: str) -> str:
    """The emulator's "translation": the text, marked with the language pair."""
    return text if source == target else f"{text} [{source}>{target}]"


def _stamp(seconds: float) -> str:
    millis = round(seconds * 1000)
    return f"{millis // 3600000:02d}:{millis // 60000 % 60:02d}:{millis // 1000 % 60:02d}.{millis % 1000:03d}"


def _vtt(segments: list[tuple[float, float, str]]) -> str:
    cues = "".join(f"{_stamp(s)} --> {_stamp(e)}\n{t}\n\n" for s, e, t in segments)
    return "WEBVTT\n\n" + cues


# ---- speech recognition -------------------------------------------------------------------------


def _whisper_result(heard: Heard) -> dict[str, Any]:
    words = [w for segment in heard.segments for w in words_of(segment)]
    return {"text": " ".join(t for _, _, t in heard.segments), "word_count": len(words), "words": words,
            "vtt": _vtt(heard.segments)}


def _turbo_result(heard: Heard, body: dict[str, Any]) -> dict[str, Any]:
    forced = language_code(body.get("language"))
    language = forced or heard.language
    segments = heard.segments
    if body.get("task") == "translate":
        segments = [(s, e, translate(t, language, "en")) for s, e, t in segments]
    out_segments = []
    for segment in segments:
        start, end, text = segment
        digest = hashlib.sha256(text.encode()).digest()
        out_segments.append({
            "start": start, "end": end, "text": " " + text, "temperature": 0.0,
            "avg_logprob": -round(0.05 + digest[0] / 1000, 4), "compression_ratio": round(1.0 + digest[1] / 500, 4),
            "no_speech_prob": round(digest[2] / 10000, 4), "words": words_of(segment),
        })
    text = " ".join(t for _, _, t in segments)
    if isinstance(body.get("prefix"), str):
        text = body["prefix"] + text
    return {
        "transcription_info": {"language": language, "language_probability": 1.0 if forced else 0.97,
                               "duration": heard.duration, "duration_after_vad": heard.duration},
        "text": text, "word_count": len(text.split()), "segments": out_segments, "vtt": _vtt(segments),
    }


def _truthy(value: str | None) -> bool:
    return value is not None and value.lower() in ("true", "1")


def _nova_result(heard: Heard, query: Any) -> dict[str, Any]:
    punctuate = _truthy(query.get("punctuate")) or _truthy(query.get("smart_format"))
    words = []
    for segment in heard.segments:
        for item in words_of(segment):
            plain = re.sub(r"[^\w'-]", "", item["word"]).lower() or item["word"]
            confidence = 0.9 + hashlib.sha256(plain.encode()).digest()[0] / 2560
            word = {"word": plain, "start": item["start"], "end": item["end"], "confidence": round(confidence, 4)}
            if punctuate:
                word["punctuated_word"] = item["word"]
            words.append(word)
    transcript = " ".join(w.get("punctuated_word", w["word"]) for w in words)
    channel: dict[str, Any] = {"alternatives": [{"confidence": 0.98, "transcript": transcript, "words": words}]}
    if _truthy(query.get("detect_language")):
        channel.update(detected_language=heard.language, language_confidence=0.97)
    return {"results": {"channels": [channel]}}


async def _pace(faults: Faults) -> None:
    if faults.ttft_ms > 0:
        await asyncio.sleep(faults.ttft_ms / 1000)


async def recognise(
    request: web.Request, spec: ModelSpec, raw: bytes, faults: Faults, validate: Callable[[ModelSpec, Any], None]
) -> web.StreamResponse:
    """The ASR models: raw audio bytes, or the JSON forms their schemas allow (checked by `validate`)."""
    content_type = request.content_type
    if spec.name == "@cf/openai/whisper-large-v3-turbo":
        body = parse_json(raw)
        validate(spec, body)
        try:
            audio = base64.b64decode(body["audio"], validate=True)
        except ValueError:
            raise ApiError(5004, what="", message="Invalid data type for base64 input: string") from None
    elif spec.name == "@cf/deepgram/nova-3":
        if not content_type.startswith("audio/"):
            raise bad_input("nova-3 over REST takes the raw audio with an audio/* Content-Type")
        audio = raw
    elif content_type == "application/json":
        body = parse_json(raw)
        samples = body.get("audio") if isinstance(body, dict) else None
        if not isinstance(samples, list) or not all(isinstance(v, int) and 0 <= v <= 255 for v in samples):
            raise bad_input("audio must be an array of integers from 0 to 255")
        audio = bytes(samples)
    else:
        audio = raw
    if not audio:
        raise ApiError(3003, what="body")
    heard = hear(audio)
    await _pace(faults)
    if spec.name == "@cf/openai/whisper-large-v3-turbo":
        return success(_turbo_result(heard, body))
    if spec.name == "@cf/deepgram/nova-3":
        return success(_nova_result(heard, request.query))
    return success(_whisper_result(heard))


# ---- translation ----------------------------------------------------------------------------------


async def m2m100(request: web.Request, spec: ModelSpec, body: dict[str, Any], faults: Faults) -> web.StreamResponse:
    source = language_code(body.get("source_lang")) or "en"
    target = language_code(body["target_lang"]) or "en"
    await _pace(faults)
    return success({"translated_text": translate(body["text"], source, target)})


# ---- text to speech -------------------------------------------------------------------------------


def _aura_format(body: dict[str, Any]) -> tuple[str, str, int]:
    encoding = body.get("encoding", "mp3")
    container = body.get("container") or ("ogg" if encoding == "opus" else "none")
    if container == "wav" and encoding not in ("linear16", "mulaw", "alaw"):
        raise bad_input(f"container wav is not available for encoding {encoding}")
    if container == "ogg" and encoding != "opus":
        raise bad_input(f"container ogg is not available for encoding {encoding}")
    if encoding == "opus" and container != "ogg":
        raise bad_input("encoding opus needs container ogg")
    rate = body.get("sample_rate")
    if rate is not None and encoding in ("mp3", "opus", "aac"):
        raise bad_input(f"sample_rate is not configurable for encoding {encoding}")
    if rate is not None and int(rate) not in _RAW_RATES:
        raise bad_input(f"sample_rate {rate} is not supported")
    if rate is not None and encoding == "flac" and int(rate) != speech_audio.DEFAULT_RATE:
        raise bad_input("the emulator writes FLAC at 24000 Hz only")
    return encoding, container, int(rate or speech_audio.DEFAULT_RATE)


async def speak(request: web.Request, spec: ModelSpec, body: dict[str, Any], faults: Faults) -> web.StreamResponse:
    if spec.name == "@cf/myshell-ai/melotts":
        lang = body.get("lang", "en")
        if lang not in _MELO_LANGUAGES:
            raise bad_input(f"lang {lang!r} is not one of {sorted(_MELO_LANGUAGES)}")
        words = body["prompt"].split() or ["..."]
        await _pace(faults)
        audio = b"".join(speech_audio.mp3_word() for _ in words)
        return success({"audio": base64.b64encode(audio).decode("ascii")})
    text = body.get("text")
    if not isinstance(text, str) or not text.strip():
        raise bad_input("text is required")
    encoding, container, rate = _aura_format(body)
    speaker = body.get("speaker", DEFAULT_SPEAKERS[spec.name])
    chunks = speech_audio.speech_chunks(text.split(), speaker, encoding, container, rate)
    content_type = "audio/wav" if container == "wav" else speech_audio.CONTENT_TYPES[encoding]
    response = web.StreamResponse(headers={"Content-Type": content_type})
    await response.prepare(request)
    try:
        async with counted(request):
            await pause(request, faults.ttft_ms / 1000)
            for index, chunk in enumerate(chunks):
                if faults.cut_after is not None and index >= faults.cut_after:
                    if request.transport is not None:
                        request.transport.close()  # a dropped upstream: no terminating chunk
                    return response
                if index and faults.token_delay_ms > 0:
                    await pause(request, faults.token_delay_ms / 1000)
                await response.write(chunk)
            await response.write_eof()
    except ConnectionError:
        pass  # the client went away
    return response
