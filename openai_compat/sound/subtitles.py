"""Subtitle files: SRT and WebVTT written, and WebVTT read, through webvtt-py (a maintained reader
and writer of both), never by hand.

Cue times follow OpenAI's (Whisper's) writers: times are rounded to the millisecond, hours are
always written (`00:00:01,000` in SRT, `00:00:01.000` in VTT), cues are numbered from 1 in SRT,
and `-->` inside a cue's text becomes `->` so it cannot be read as a timing line.

A transcript is text, not markup: `<` and `&` are written as WebVTT's character references, so a
cue saying "x < y" is not read as a tag (webvtt-py dropped "<>" and closed "<b>" that it took for
one). SRT has no references, so its text is written back as the plain characters.
"""

from __future__ import annotations

import html
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
    # A blank line would end the cue early; `-->` would read as a timing line; `<` would open a tag.
    # `&` and `<` are the two characters WebVTT cue text cannot hold as they are (`>` can, and stays).
    return _BLANK_LINES.sub("\n", text.strip().replace("-->", "->")).replace("&", "&amp;").replace("<", "&lt;")


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
    written = buffer.getvalue().rstrip("\n") + "\n"
    # Index and timing lines hold no `&`: only cue text is turned back into its characters.
    return html.unescape(written) if file_format == "srt" else written


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
    # Cue text with its tags taken out and its character references (`&lt;`, `&amp;`) read as characters.
    return [Cue(c.start_time.in_milliseconds() / 1000, c.end_time.in_milliseconds() / 1000, html.unescape(c.text))
            for c in document]
