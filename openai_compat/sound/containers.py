"""Which audio container an upload is, told from its first bytes, and how long it plays.

The nine formats OpenAI accepts are told apart by a dozen fixed signatures, so they are listed here
rather than pulled from a general magic-number database. The file name's extension is not trusted:
Workers AI is sent the content type of what the bytes are. Durations come from the container's own
header: WAV through the standard library, the others through mutagen (a maintained, pure-Python
tag and header reader), reading a few headers, never the whole file.
"""

from __future__ import annotations

import contextlib
import wave
from dataclasses import dataclass
from typing import IO

import mutagen

SUPPORTED = ("flac", "m4a", "mp3", "mp4", "mpeg", "mpga", "oga", "ogg", "wav", "webm")
"""The formats OpenAI lists for transcriptions and translations (its error message names these)."""
HEAD_BYTES = 64


@dataclass(frozen=True)
class Container:
    name: str
    content_type: str
    supported: bool = True


WAV = Container("wav", "audio/wav")
FLAC = Container("flac", "audio/flac")
OGG = Container("ogg", "audio/ogg")
MP3 = Container("mp3", "audio/mpeg")
M4A = Container("m4a", "audio/mp4")
MP4 = Container("mp4", "audio/mp4")
WEBM = Container("webm", "audio/webm")
MPEG = Container("mpeg", "audio/mpeg")
# Audio that is not among OpenAI's formats: named in the error, never sent upstream.
AAC = Container("aac", "audio/aac", supported=False)
AIFF = Container("aiff", "audio/aiff", supported=False)
AMR = Container("amr", "audio/amr", supported=False)
MIDI = Container("midi", "audio/midi", supported=False)
AU = Container("au", "audio/basic", supported=False)


def _mpeg_audio_frame(head: bytes) -> bool:
    """An MPEG audio frame header: 11 sync bits, a version that exists, layer I-III, a real bitrate."""
    if len(head) < 4 or head[0] != 0xFF or head[1] & 0xE0 != 0xE0:
        return False
    version, layer = (head[1] >> 3) & 0b11, (head[1] >> 1) & 0b11
    bitrate, rate = head[2] >> 4, (head[2] >> 2) & 0b11
    return version != 0b01 and layer != 0b00 and bitrate not in (0b0000, 0b1111) and rate != 0b11


def _adts(head: bytes) -> bool:
    return len(head) >= 2 and head[0] == 0xFF and head[1] & 0xF6 == 0xF0


def sniff(head: bytes) -> Container | None:
    """The container these leading bytes start, or None when they are not audio we know."""
    if head[:4] == b"RIFF" and head[8:12] == b"WAVE":
        return WAV
    if head[:4] == b"fLaC":
        return FLAC
    if head[:4] == b"OggS":
        return OGG
    if head[:3] == b"ID3" or _mpeg_audio_frame(head):
        return MP3
    if head[4:8] == b"ftyp":
        brand = head[8:12]
        return M4A if brand.startswith(b"M4A") or brand.startswith(b"M4B") else MP4
    if head[:4] == b"\x1a\x45\xdf\xa3":
        return WEBM
    if head[:4] in (b"\x00\x00\x01\xba", b"\x00\x00\x01\xb3"):
        return MPEG
    if _adts(head):
        return AAC
    if head[:4] == b"FORM" and head[8:12] in (b"AIFF", b"AIFC"):
        return AIFF
    if head[:5] == b"#!AMR":
        return AMR
    if head[:4] == b"MThd":
        return MIDI
    if head[:4] == b".snd":
        return AU
    return None


def read_head(stream: IO[bytes]) -> bytes:
    stream.seek(0)
    head = stream.read(HEAD_BYTES)
    stream.seek(0)
    return head


def duration_seconds(stream: IO[bytes], container: Container) -> float | None:
    """How long the audio plays according to its container's header; None when it cannot tell."""
    try:
        stream.seek(0)
        if container is WAV:
            with wave.open(stream, "rb") as reader:
                rate = reader.getframerate()
                return reader.getnframes() / rate if rate else None
        found = mutagen.File(stream)
        length = getattr(getattr(found, "info", None), "length", None)
        return float(length) if isinstance(length, int | float) and length > 0 else None
    except Exception:  # a header a reader does not understand: the upstream's figure is used instead
        return None
    finally:
        with contextlib.suppress(OSError, ValueError):
            stream.seek(0)
