"""Audio the emulated text-to-speech models answer with, in every encoding and container Deepgram's
Aura offers, each a file real decoders accept, derived from the input.

Each word of the text becomes WORD_SAMPLES samples of sound (a tone whose pitch comes from the
speaker and the word, so the same request always gives the same bytes); the compressed encodings
carry silence in frames that are valid for their codec (MP3, AAC, Opus, FLAC constant subframes),
because an emulator has no business shipping encoders. Every format is produced word by word, so
the handler can send one chunk per word as a real streaming TTS does.
"""

from __future__ import annotations

import hashlib
import math
import struct
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache

WORD_SAMPLES = 8192
"""Samples per spoken word at 24 kHz (about 0.34 s)."""
DEFAULT_RATE = 24000


@dataclass(frozen=True)
class Voice:
    speaker: str
    rate: int = DEFAULT_RATE


def _pitch(speaker: str, word: str) -> float:
    digest = hashlib.sha256(f"{speaker}\0{word}".encode()).digest()
    return 150.0 + digest[0] * 2.0


@lru_cache(maxsize=1024)
def pcm_word(voice: Voice, word: str) -> bytes:
    """16-bit little-endian mono samples of one word: a tone with a short fade in and out."""
    samples = WORD_SAMPLES * voice.rate // DEFAULT_RATE
    pitch = _pitch(voice.speaker, word)
    out = bytearray()
    for i in range(samples):
        fade = min(1.0, i / 200, (samples - i) / 200)
        out += struct.pack("<h", int(8000 * fade * math.sin(2 * math.pi * pitch * i / voice.rate)))
    return bytes(out)


def wav_header(data_bytes: int, rate: int) -> bytes:
    return (b"RIFF" + struct.pack("<I", 36 + data_bytes) + b"WAVE" + b"fmt "
            + struct.pack("<IHHIIHH", 16, 1, 1, rate, rate * 2, 2, 16) + b"data" + struct.pack("<I", data_bytes))


# ---- MP3: MPEG-1 Layer III, 64 kbit/s, 44.1 kHz, mono; all-zero side info decodes to silence ----
_MP3_FRAME = b"\xff\xfb\x50\xc0" + bytes(204)  # 144 * 64000 / 44100 = 208 bytes, no padding
_MP3_FRAMES_PER_WORD = 14  # 14 x 1152 samples at 44.1 kHz ~ one word


def mp3_word() -> bytes:
    return _MP3_FRAME * _MP3_FRAMES_PER_WORD


# ---- AAC: ADTS frames (MPEG-4 LC, 24 kHz, mono) holding a silent single channel element ----
_AAC_SILENT_BLOCK = b"\x00\x00\x00\x07"  # SCE, global gain 0, no bands, END


def _adts_frame(payload: bytes) -> bytes:
    length = 7 + len(payload)
    header = (0xFFF << 44) | (0 << 43) | (0 << 41) | (1 << 40) | (1 << 38) | (6 << 34) | (1 << 30)
    header |= (length << 13) | (0x7FF << 2)
    return header.to_bytes(7, "big") + payload


def aac_word() -> bytes:
    return _adts_frame(_AAC_SILENT_BLOCK) * (WORD_SAMPLES // 1024)


# ---- FLAC: STREAMINFO, then one frame of 4096 samples per block, each a constant subframe ----
_FLAC_BLOCK = 4096


def _crc8(data: bytes) -> int:
    crc = 0
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = ((crc << 1) ^ 0x07) & 0xFF if crc & 0x80 else (crc << 1) & 0xFF
    return crc


def _crc16(data: bytes) -> int:
    crc = 0
    for byte in data:
        crc ^= byte << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x8005) & 0xFFFF if crc & 0x8000 else (crc << 1) & 0xFFFF
    return crc


def _utf8_number(value: int) -> bytes:
    """FLAC's frame number coding: UTF-8's scheme extended past Unicode's range."""
    if value < 0x80:
        return bytes([value])
    for count, prefix in ((2, 0xC0), (3, 0xE0), (4, 0xF0), (5, 0xF8), (6, 0xFC)):
        if value < 1 << (5 * count + 1 + (6 - count)) or count == 6:
            tail = [0x80 | ((value >> (6 * i)) & 0x3F) for i in range(count - 1)]
            return bytes([prefix | (value >> (6 * (count - 1))), *tail[::-1]])
    raise ValueError(value)


def flac_stream_header(total_samples: int, rate: int = DEFAULT_RATE) -> bytes:
    info = struct.pack(">HH", _FLAC_BLOCK, _FLAC_BLOCK) + (0).to_bytes(3, "big") + (0).to_bytes(3, "big")
    # 20 bits rate, 3 bits channels-1, 5 bits bits-per-sample-1, 36 bits total samples
    packed = (rate << 44) | (0 << 41) | (15 << 36) | total_samples
    info += packed.to_bytes(8, "big") + bytes(16)  # MD5 unset (all zero) is allowed
    return b"fLaC" + bytes([0x80]) + len(info).to_bytes(3, "big") + info


def flac_frame(index: int, value: int) -> bytes:
    # sync + blocking strategy 0; block size 4096 (1100), rate 24 kHz (0111); mono, 16 bits
    header = b"\xff\xf8" + bytes([0b1100_0111, 0b0000_1000]) + _utf8_number(index)
    header += bytes([_crc8(header)])
    subframe = bytes([0b0000_0000]) + struct.pack(">h", value)  # CONSTANT subframe
    frame = header + subframe
    return frame + struct.pack(">H", _crc16(frame))


def flac_word(first_frame: int, speaker: str, word: str) -> bytes:
    level = int(_pitch(speaker, word))  # a small DC level: constant, but not the same everywhere
    return b"".join(flac_frame(first_frame + i, level) for i in range(WORD_SAMPLES // _FLAC_BLOCK))


# ---- Opus in Ogg: OpusHead, OpusTags, then 20 ms CELT silence packets, one page per word ----
_OPUS_SILENCE = b"\xf8\xff\xfe"
_OPUS_PACKETS_PER_WORD = 17
_OPUS_PRESKIP = 312
_OGG_SERIAL = 0x0A0D10


def _ogg_crc(data: bytes) -> int:
    crc = 0
    for byte in data:
        crc ^= byte << 24
        for _ in range(8):
            crc = ((crc << 1) ^ 0x04C11DB7) & 0xFFFFFFFF if crc & 0x80000000 else (crc << 1) & 0xFFFFFFFF
    return crc


def ogg_page(packets: list[bytes], sequence: int, granule: int, flags: int = 0) -> bytes:
    lacing = b""
    for packet in packets:
        lacing += b"\xff" * (len(packet) // 255) + bytes([len(packet) % 255])
    page = (b"OggS" + bytes([0, flags]) + struct.pack("<qIII", granule, _OGG_SERIAL, sequence, 0)
            + bytes([len(lacing)]) + lacing + b"".join(packets))
    crc = _ogg_crc(page)
    return page[:22] + struct.pack("<I", crc) + page[26:]


def opus_headers(rate: int = DEFAULT_RATE) -> bytes:
    head = b"OpusHead" + struct.pack("<BBHIhB", 1, 1, _OPUS_PRESKIP, rate, 0, 0)
    vendor = b"workers-ai-emulator"
    tags = b"OpusTags" + struct.pack("<I", len(vendor)) + vendor + struct.pack("<I", 0)
    return ogg_page([head], 0, 0, flags=0x02) + ogg_page([tags], 1, 0)


def opus_word(index: int, last: bool) -> bytes:
    granule = _OPUS_PRESKIP + (index + 1) * _OPUS_PACKETS_PER_WORD * 960
    return ogg_page([_OPUS_SILENCE] * _OPUS_PACKETS_PER_WORD, index + 2, granule, flags=0x04 if last else 0)


CONTENT_TYPES = {"mp3": "audio/mpeg", "opus": "audio/ogg", "aac": "audio/aac", "flac": "audio/flac",
                 "linear16": "audio/l16", "mulaw": "audio/basic", "alaw": "audio/x-alaw-basic"}


def _mulaw(sample: int) -> int:
    sign = 0x80 if sample < 0 else 0
    magnitude = min(abs(sample) + 132, 32635)
    exponent = max(0, int(math.log2(magnitude)) - 7)
    mantissa = (magnitude >> (exponent + 3)) & 0x0F
    return ~(sign | (exponent << 4) | mantissa) & 0xFF


def speech_chunks(words: list[str], speaker: str, encoding: str, container: str, rate: int) -> Iterator[bytes]:
    """The whole file, one chunk per word (the first chunk also carries the container's header)."""
    voice = Voice(speaker, rate)
    if encoding == "linear16" or encoding in ("mulaw", "alaw"):
        width = 2 if encoding == "linear16" else 1
        data_bytes = len(words) * WORD_SAMPLES * rate // DEFAULT_RATE * width
        header = wav_header(data_bytes, rate) if container == "wav" else b""
        for i, word in enumerate(words):
            pcm = pcm_word(voice, word)
            if encoding != "linear16":
                pcm = bytes(_mulaw(s) for (s,) in struct.iter_unpack("<h", pcm))
            yield (header if i == 0 else b"") + pcm
    elif encoding == "mp3":
        for _ in words:
            yield mp3_word()
    elif encoding == "aac":
        for _ in words:
            yield aac_word()
    elif encoding == "flac":
        per_word = WORD_SAMPLES // _FLAC_BLOCK
        header = flac_stream_header(len(words) * WORD_SAMPLES)
        for i, word in enumerate(words):
            yield (header if i == 0 else b"") + flac_word(i * per_word, speaker, word)
    elif encoding == "opus":
        for i, _ in enumerate(words):
            yield (opus_headers() if i == 0 else b"") + opus_word(i, last=i == len(words) - 1)
    else:
        raise ValueError(encoding)

