"""Cost per request for the families priced in units other than tokens, against the catalogue's prices:
audio minutes (transcription), 1k characters (speech), tiles and steps (images)."""

from __future__ import annotations

import json
import math
import time

import pytest

from tests.support.audio import make_wav
from tests.support.emulator import EmulatorHandle
from tests.support.gateway import GatewayHandle
from tests.support.prices import unit_price

COST = "x-workers-ai-cost-usd"


def access_line(gateway: GatewayHandle, request_id: str) -> dict[str, object]:
    """The request's access-log line, written when its response closes (a moment after the client has it)."""
    deadline = time.monotonic() + 5
    while True:
        for text in gateway.log_text().splitlines():
            if text.startswith(f'{{"request_id":"{request_id}","event":"request"'):
                return json.loads(text)
        assert time.monotonic() < deadline, "no access-log line for the request"
        time.sleep(0.05)


def test_a_transcription_costs_its_audio_minutes(gateway: GatewayHandle, upstream: EmulatorHandle) -> None:
    audio = make_wav("en|Good morning everyone.|Thanks for coming.", seconds=6.0)
    raw = gateway.client().audio.transcriptions.with_raw_response.create(
        model="whisper-1", file=("talk.wav", audio, "audio/wav"), response_format="verbose_json")
    duration = raw.parse().duration
    assert duration == pytest.approx(6.0, abs=0.05)
    expected = duration / 60 * unit_price("@cf/openai/whisper-large-v3-turbo", "per audio minute")
    assert float(raw.headers[COST]) == pytest.approx(expected, rel=1e-6)


def test_speech_costs_its_characters(gateway: GatewayHandle, upstream: EmulatorHandle) -> None:
    text = "The quick brown fox jumps over the lazy dog. " * 5
    with gateway.client().audio.speech.with_streaming_response.create(
            model="tts-1", voice="alloy", input=text, response_format="mp3") as reply:
        header = reply.headers[COST]
        assert len(reply.read()) > 0
    assert float(header) == pytest.approx(len(text) / 1000 * unit_price("@cf/deepgram/aura-2-en", "per 1k characters"),
                                          rel=1e-9)


def test_an_image_costs_its_tiles_and_steps(gateway: GatewayHandle, upstream: EmulatorHandle) -> None:
    model = "@cf/leonardo/phoenix-1.0"
    raw = gateway.client().images.with_raw_response.generate(
        model=model, prompt="a lighthouse at dusk", n=2, size="1024x768", response_format="b64_json")
    assert len(raw.parse().data) == 2
    tiles = math.ceil(1024 / 512) * math.ceil(768 / 512)
    steps = 25  # phoenix's catalogue default, as no num_steps was sent
    expected = 2 * (tiles * unit_price(model, "per 512 by 512 tile") + steps * unit_price(model, "per step"))
    assert float(raw.headers[COST]) == pytest.approx(expected, rel=1e-9)


def test_an_image_of_an_unpriced_model_says_unknown(gateway: GatewayHandle, upstream: EmulatorHandle) -> None:
    raw = gateway.client().images.with_raw_response.generate(model="dall-e-3", prompt="a cat",
                                                            response_format="b64_json")
    assert raw.headers[COST] == "unknown"


def test_a_translation_costs_its_audio_minutes_and_its_m2m100_tokens(gateway: GatewayHandle,
                                                                     upstream: EmulatorHandle) -> None:
    """Two models serve it; the cost header and the log line add both up."""
    audio = make_wav("es|Hola a todos.|Gracias por venir.|Hasta mañana.", seconds=4.5)
    raw = gateway.client().audio.translations.with_raw_response.create(
        model="@cf/deepgram/nova-3", file=("talk.wav", audio, "audio/wav"), response_format="verbose_json")
    duration = raw.parse().duration
    request_id = raw.headers["x-request-id"]
    line = access_line(gateway, request_id)
    translation = (line["prompt_tokens"] + line["completion_tokens"]) * unit_price("@cf/meta/m2m100-1.2b",
                                                                                 "per M input tokens") / 1e6
    audio_cost = duration / 60 * unit_price("@cf/deepgram/nova-3", "per audio minute")
    assert line["prompt_tokens"] > 0 and line["audio_seconds"] == pytest.approx(duration)
    assert float(raw.headers[COST]) == pytest.approx(audio_cost + translation, rel=1e-6)
    assert line["cost_usd"] == pytest.approx(audio_cost + translation, rel=1e-6)
