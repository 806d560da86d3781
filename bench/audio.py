"""Request builders for the audio scenarios: a large upload to transcribe, and speech to stream.

A transcription's body is tens of MiB, too big to pass to the load generator as a JSON string, so
it is written once to a file that the generator reads (``body_file``). The baseline is what a
client calling Workers AI directly sends: the same audio as base64 in JSON, to the same model.
Speech is compared as a byte stream: the time to the first audio byte and the gaps between chunks,
through the gateway and straight from the emulator, which sends one chunk per spoken word.
"""

from __future__ import annotations

import base64
import json
import struct
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from urllib3.filepost import encode_multipart_formdata

if TYPE_CHECKING:
    from bench.scenarios import Endpoints, Scenario, Targets

TRANSCRIPTION_MODEL = "@cf/openai/whisper-large-v3-turbo"
SPEECH_MODEL = "@cf/deepgram/aura-2-en"
BODIES = Path(tempfile.gettempdir()) / "openai-compat-bench-audio"


def wav_of_size(total_bytes: int, rate: int = 16000) -> bytes:
    """A valid 16-bit mono WAV of exactly `total_bytes` (a slow ramp, so it is not all zeros)."""
    data_bytes = total_bytes - 44
    header = (b"RIFF" + struct.pack("<I", 36 + data_bytes) + b"WAVE" + b"fmt "
              + struct.pack("<IHHIIHH", 16, 1, 1, rate, rate * 2, 2, 16) + b"data" + struct.pack("<I", data_bytes))
    period = bytes(range(256)) * 4
    return header + (period * (data_bytes // len(period) + 1))[:data_bytes]


def _written(name: str, make: object) -> str:
    BODIES.mkdir(parents=True, exist_ok=True)
    path = BODIES / name
    if not path.exists():
        data = make() if callable(make) else make  # type: ignore[operator]
        path.write_bytes(data)
    return str(path)


def transcription_targets(s: Scenario, ep: Endpoints) -> Targets:
    from bench.scenarios import Targets

    size = s.upload_bytes

    def multipart() -> bytes:
        body, _ = encode_multipart_formdata(
            [("model", "whisper-1"), ("file", ("speech.wav", wav_of_size(size), "audio/wav"))],
            boundary="benchboundary0123456789",
        )
        return body

    def native() -> bytes:
        return json.dumps({"audio": base64.b64encode(wav_of_size(size)).decode()}).encode()

    gateway_headers = {**ep.gateway_headers, "Content-Type": "multipart/form-data; boundary=benchboundary0123456789"}
    baseline = {"url": f"{ep.emulator_ai}/run/{TRANSCRIPTION_MODEL}", "headers": ep.emulator_headers,
                "body_file": _written(f"native-{size}.json", native)}
    gateway = {"url": f"{ep.gateway}/v1/audio/transcriptions", "headers": gateway_headers,
               "body_file": _written(f"form-{size}.bin", multipart)}
    return Targets([baseline], [gateway], None)


def speech_text(words: int) -> str:
    return " ".join(f"word{i}" for i in range(words))


def speech_targets(s: Scenario, ep: Endpoints) -> Targets:
    from bench.scenarios import Targets

    text = speech_text(s.tokens)
    native = {"text": text, "speaker": "luna", "encoding": "linear16", "container": "none", "sample_rate": 24000}
    baseline = {"url": f"{ep.emulator_ai}/run/{SPEECH_MODEL}", "headers": ep.emulator_headers,
                "body": json.dumps(native), "byte_stream": True}
    gateway = {"url": f"{ep.gateway}/v1/audio/speech", "headers": ep.gateway_headers, "byte_stream": True,
               "body": json.dumps({"model": "tts-1", "voice": "alloy", "input": text, "response_format": "pcm"})}
    return Targets([baseline], [gateway], None)
