"""Subtitle files: SRT and WebVTT written, and WebVTT read, through webvtt-py (a maintained reader
and writer of both), never by hand.

Cue times follow OpenAI's (Whisper's) writers: times are rounded to the millisecond, hours are
always written (`00:00:01,000` in SRT, `00:00:01.000` in VTT), cues are numbered from 1 in SRT,
and `-->` inside a cue's text becomes `->` so it cannot be read as a timing line.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import webvtt
from webvtt.errors import MalformedCaptionError, MalformedFileError
from webvtt.models import Timestamp

_BLANK_LINES = re.compile(r"\n\s*\n")


@dataclass(frozen=True)
class Cue:
    start: float
    end: float
    text: str


def timestamp(seconds: float) -> str:
    """`HH:MM:SS.mmm`, the form webvtt-py takes (it writes SRT's comma itself)."""
    return str(Timestamp.from_seconds(max(0.0, float(seconds))))


def _cue_text(text: str) -> str:
    # A blank line would end the cue early; `-->` would read as a timing line.
    return _BLANK_LINES.sub("\n", text.strip().replace("-->", "->"))


def _document(cues: Iterable[Cue]) -> webvtt.WebVTT:
    captions = []
    for cue in cues:
        end = max(cue.end, cue.start)
        captions.append(webvtt.Caption(start=timestamp(cue.start), end=timestamp(end), text=_cue_text(cue.text)))
    return webvtt.WebVTT(captions=captions)


def _written(cues: Sequence[Cue], file_format: str) -> str:
    if not cues:
        return "WEBVTT\n\n" if file_format == "vtt" else ""
    buffer = io.StringIO()
    # keep_formatting: the text is a transcript, written as it is (no tag stripping).
    _document(cues).write(buffer, format=file_format, keep_formatting=True)
    return buffer.getvalue().rstrip("\n") + "\n"


def to_srt(cues: Sequence[Cue]) -> str:
    return _written(cues, "srt")


def to_vtt(cues: Sequence[Cue]) -> str:
    return _written(cues, "vtt")


def read_vtt(text: str) -> list[Cue] | None:
    """The cues of a WebVTT document (Workers AI's whisper answers with one); None if it is not one."""
    if not text or not text.lstrip().startswith("WEBVTT"):
        return None
    try:
        document = webvtt.from_buffer(io.StringIO(text))
    except (MalformedFileError, MalformedCaptionError, ValueError):
        return None
    return [Cue(c.start_time.in_milliseconds() / 1000, c.end_time.in_milliseconds() / 1000, c.text) for c in document]
