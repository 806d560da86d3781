"""Audio the tests make with the standard library: a WAV of a tone, optionally carrying a script in
its INFO comment (the emulator "hears" that script, see `workers_ai_emulator.audio`), and the first
bytes of the other containers the gateway must tell apart."""

from __future__ import annotations

import io
import math
import struct
import wave


def make_wav(script: str | None = None, seconds: float = 2.0, rate: int = 16000) -> bytes:
    """A mono 16-bit WAV of `seconds` of a 440 Hz tone; `script` is `lang|segment|segment...`."""
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as writer:
        writer.setnchannels(1)
        writer.setsampwidth(2)
        writer.setframerate(rate)
        frames = int(seconds * rate)
        writer.writeframes(b"".join(
            struct.pack("<h", int(3000 * math.sin(2 * math.pi * 440 * i / rate))) for i in range(frames)
        ))
    data = buffer.getvalue()
    if script is None:
        return data
    comment = script.encode("utf-8") + b"\0"
    if len(comment) % 2:
        comment += b"\0"
    info = b"INFO" + b"ICMT" + struct.pack("<I", len(comment)) + comment
    chunk = b"LIST" + struct.pack("<I", len(info)) + info
    body = data[12:] + chunk
    return b"RIFF" + struct.pack("<I", 4 + len(body)) + b"WAVE" + body


def big_wav(total_bytes: int, rate: int = 16000) -> bytes:
    """A valid WAV of exactly `total_bytes` (silence), for size limits: built without `wave`'s copy."""
    data_bytes = total_bytes - 44
    header = (b"RIFF" + struct.pack("<I", 36 + data_bytes) + b"WAVE" + b"fmt "
              + struct.pack("<IHHIIHH", 16, 1, 1, rate, rate * 2, 2, 16) + b"data" + struct.pack("<I", data_bytes))
    return header + bytes(data_bytes)


# Leading bytes of the other formats OpenAI accepts (enough for the gateway's sniffing and the emulator).
HEADS = {
    "flac": b"fLaC\x00\x00\x00\x22" + bytes(34),
    "mp3": b"ID3\x04\x00\x00\x00\x00\x00\x00" + b"\xff\xfb\x90\x64" + bytes(413),
    "ogg": b"OggS\x00\x02" + bytes(60),
    "m4a": b"\x00\x00\x00\x20ftypM4A \x00\x00\x02\x00M4A isomiso2" + bytes(40),
    "mp4": b"\x00\x00\x00\x20ftypisom\x00\x00\x02\x00isomiso2avc1mp41" + bytes(40),
    "webm": b"\x1a\x45\xdf\xa3\x9f\x42\x86\x81\x01" + bytes(60),
    "mpeg": b"\x00\x00\x01\xba\x44\x00\x04\x00\x04\x01" + bytes(60),
}
