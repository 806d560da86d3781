"""Workers AI speech recognition results -> one neutral transcript -> OpenAI's response formats.
Pure functions: no I/O.

Each model answers in its own shape (Whisper turbo's timed segments, Whisper's words and WebVTT,
Deepgram's channels of words); all become a `Transcript` of timed segments and words, from which
`json`, `verbose_json`, `text`, `srt` and `vtt` are written, and the streamed events. Where a model
gives no segments they are built from its words: a segment ends at a sentence's end, at a pause of
a second, or after 30 words.
"""

from __future__ import annotations

import math
import re
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from typing import Any

from openai_compat.errors import UpstreamError
from openai_compat.sound import languages, subtitles
from openai_compat.transcriptions.profiles import SpeechModel

PAUSE_SECONDS = 1.0
MAX_SEGMENT_WORDS = 30
_SENTENCE_END = re.compile(r"[.!?\u3002\uff01\uff1f]['\")\]]*$")


@dataclass(frozen=True)
class Word:
    word: str
    start: float
    end: float


@dataclass(frozen=True)
class Segment:
    start: float
    end: float
    text: str
    avg_logprob: float = 0.0
    compression_ratio: float | None = None
    no_speech_prob: float = 0.0
    temperature: float = 0.0


@dataclass(frozen=True)
class Transcript:
    text: str
    language: str | None
    """The ISO 639-1 code of the spoken language, where the model reported one."""
    duration: float
    segments: list[Segment] = field(default_factory=list)
    words: list[Word] = field(default_factory=list)


def _number(value: Any, default: float = 0.0) -> float:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else default


def _words(items: Any, key: str = "word") -> list[Word]:
    found = []
    for item in items if isinstance(items, list) else []:
        if isinstance(item, dict) and isinstance(item.get(key) or item.get("word"), str):
            found.append(Word(item.get(key) or item["word"], _number(item.get("start")), _number(item.get("end"))))
    return found


def segments_from_words(words: list[Word]) -> list[Segment]:
    segments: list[Segment] = []
    group: list[Word] = []
    for index, word in enumerate(words):
        group.append(word)
        following = words[index + 1] if index + 1 < len(words) else None
        if (following is None or _SENTENCE_END.search(word.word) or len(group) >= MAX_SEGMENT_WORDS
                or following.start - word.end >= PAUSE_SECONDS):
            segments.append(Segment(group[0].start, group[-1].end, " ".join(w.word.strip() for w in group)))
            group = []
    return segments


def _turbo(result: dict[str, Any]) -> tuple[list[Segment], list[Word], str | None, float | None]:
    info = result.get("transcription_info") if isinstance(result.get("transcription_info"), dict) else {}
    segments, words = [], []
    for item in result.get("segments") if isinstance(result.get("segments"), list) else []:
        if not isinstance(item, dict) or not isinstance(item.get("text"), str):
            continue
        ratio = item.get("compression_ratio")
        segments.append(Segment(
            _number(item.get("start")), _number(item.get("end")), item["text"],
            avg_logprob=_number(item.get("avg_logprob")), no_speech_prob=_number(item.get("no_speech_prob")),
            compression_ratio=_number(ratio) if ratio is not None else None,
            temperature=_number(item.get("temperature")),
        ))
        words += _words(item.get("words"))
    duration = info.get("duration")
    return segments, words, info.get("language"), _number(duration) if duration is not None else None


def _whisper(result: dict[str, Any]) -> tuple[list[Segment], list[Word], str | None, float | None]:
    words = _words(result.get("words"))
    cues = subtitles.read_vtt(result["vtt"]) if isinstance(result.get("vtt"), str) else None
    segments = [Segment(c.start, c.end, c.text) for c in cues] if cues else segments_from_words(words)
    return segments, words, None, None


def _deepgram(result: dict[str, Any]) -> tuple[str, list[Segment], list[Word], str | None]:
    try:
        channel = result["results"]["channels"][0]
        alternative = channel["alternatives"][0]
    except (KeyError, IndexError, TypeError):
        raise UpstreamError("Workers AI's nova-3 result holds no transcript.") from None
    words = _words(alternative.get("words"), key="punctuated_word")
    text = alternative.get("transcript") if isinstance(alternative.get("transcript"), str) else ""
    return text, segments_from_words(words), words, channel.get("detected_language")


def read_transcript(model: SpeechModel, result: Any, header_duration: float | None) -> Transcript:
    """The model's result as a transcript; its duration is the model's figure, else the file's header,
    else the end of the last timed word or segment."""
    if not isinstance(result, dict):
        raise UpstreamError("Workers AI answered a transcription without a result object.")
    reported: float | None = None
    if model.reply == "deepgram":
        text, segments, words, language = _deepgram(result)
    else:
        if not isinstance(result.get("text"), str):
            raise UpstreamError("Workers AI's transcription result holds no text.")
        text = result["text"]
        segments, words, language, reported = _turbo(result) if model.reply == "turbo" else _whisper(result)
    if not segments and text.strip():
        segments = [Segment(0.0, reported or header_duration or 0.0, text)]
    ends = [s.end for s in segments] + [w.end for w in words]
    duration = reported or header_duration or max(ends, default=0.0)
    return Transcript(text.strip(), languages.code_of(language), duration, segments, words)


def with_texts(transcript: Transcript, texts: list[str]) -> Transcript:
    """The transcript with each segment's text replaced (translated), timings kept."""
    segments = [replace(s, text=t, compression_ratio=None) for s, t in zip(transcript.segments, texts, strict=True)]
    return replace(transcript, text=" ".join(t.strip() for t in texts if t.strip()), segments=segments, words=[])


# ---- OpenAI's formats ------------------------------------------------------------------------------


def compression_ratio(text: str) -> float:
    """Whisper's own measure: the text's length over its zlib-compressed length."""
    data = text.encode("utf-8")
    return len(data) / len(zlib.compress(data)) if data else 0.0


def usage(transcript: Transcript) -> dict[str, Any]:
    return {"type": "duration", "seconds": math.ceil(transcript.duration)}


def json_body(transcript: Transcript) -> dict[str, Any]:
    return {"text": transcript.text, "usage": usage(transcript)}


def _segment(index: int, segment: Segment) -> dict[str, Any]:
    ratio = segment.compression_ratio
    return {
        "id": index,
        "seek": int(segment.start // 30) * 3000,  # Whisper's 30 s windows, in 10 ms frames
        "start": segment.start,
        "end": segment.end,
        "text": segment.text,
        "tokens": [],  # Workers AI reports no token ids
        "temperature": segment.temperature,
        "avg_logprob": segment.avg_logprob,
        "compression_ratio": ratio if ratio is not None else compression_ratio(segment.text),
        "no_speech_prob": segment.no_speech_prob,
    }


def verbose_body(transcript: Transcript, *, task: str, segments: bool, words: bool) -> dict[str, Any]:
    language = "english" if task == "translate" else (languages.name_of(transcript.language) or "english")
    body: dict[str, Any] = {"task": task, "language": language, "duration": transcript.duration,
                            "text": transcript.text}
    if segments:
        body["segments"] = [_segment(i, s) for i, s in enumerate(transcript.segments)]
    if words:
        body["words"] = [{"word": w.word.strip(), "start": w.start, "end": w.end} for w in transcript.words]
    if task == "transcribe":
        body["usage"] = usage(transcript)
    return body


def _cues(transcript: Transcript) -> list[subtitles.Cue]:
    return [subtitles.Cue(s.start, s.end, s.text) for s in transcript.segments if s.text.strip()]


def text_body(transcript: Transcript, response_format: str) -> tuple[str, str]:
    """The body and content type of the plain formats."""
    if response_format == "srt":
        return subtitles.to_srt(_cues(transcript)), "application/x-subrip; charset=utf-8"
    if response_format == "vtt":
        return subtitles.to_vtt(_cues(transcript)), "text/vtt; charset=utf-8"
    return transcript.text + "\n", "text/plain; charset=utf-8"


def stream_events(transcript: Transcript) -> Iterator[dict[str, Any]]:
    """`transcript.text.delta` per segment as the result is walked, then `transcript.text.done`;
    the deltas join to exactly the done event's text."""
    pieces = [s.text.strip() for s in transcript.segments if s.text.strip()] or [transcript.text]
    text = " ".join(pieces)
    for index, piece in enumerate(pieces):
        yield {"type": "transcript.text.delta", "delta": piece if index == 0 else " " + piece}
    yield {"type": "transcript.text.done", "text": text}
