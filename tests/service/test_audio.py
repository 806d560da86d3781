"""Audio in-process: what each speech model is sent (its own wire form, from the upload's temporary
file), the refusals that happen before anything goes upstream, m2m100 segment by segment, and speech
passed through as the upstream answers."""

from __future__ import annotations

import base64
import io
import json
import tomllib
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest

from tests.service.conftest import AUTH, Gateway, envelope, failure, sse_payloads
from tests.support.audio import HEADS, make_wav
from tests.unit.factories import run_url

TURBO = "@cf/openai/whisper-large-v3-turbo"
WHISPER = "@cf/openai/whisper"
TINY = "@cf/openai/whisper-tiny-en"
NOVA = "@cf/deepgram/nova-3"
M2M = "@cf/meta/m2m100-1.2b"
AURA = "@cf/deepgram/aura-2-en"
MELO = "@cf/myshell-ai/melotts"
WAV = make_wav(seconds=1.5)
SHIPPED = tomllib.loads((Path(__file__).resolve().parents[2] / "settings.toml").read_text())
SETTINGS = {"model_aliases": SHIPPED["model_aliases"], "speech_voices": SHIPPED["speech_voices"]}


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    """The shipped aliases and voice table: the tests exercise what a deployment gets."""
    return SETTINGS


TURBO_RESULT = {
    "transcription_info": {"language": "fr", "duration": 1.5},
    "text": "Bonjour.", "segments": [{"start": 0.0, "end": 1.5, "text": " Bonjour.", "words": []}],
}


def nova_result(language: str, words: list[tuple[str, float, float]]) -> dict[str, Any]:
    items = [{"word": w.lower().strip(".?"), "punctuated_word": w, "start": s, "end": e, "confidence": 0.9}
             for w, s, e in words]
    return {"results": {"channels": [{"detected_language": language, "alternatives": [
        {"transcript": " ".join(w for w, _, _ in words), "confidence": 0.9, "words": items}]}]}}


def post_audio(gateway: Gateway, path: str, fields: dict[str, Any], audio: bytes | None = WAV,
               filename: str = "a.wav") -> Any:
    data: dict[str, Any] = dict(fields)
    if audio is not None:
        data["file"] = (io.BytesIO(audio), filename, "audio/wav")
    return gateway.client.post(path, data=data, content_type="multipart/form-data", headers=AUTH)


def sent_body(call: Any) -> bytes:
    """What went upstream: a file-backed body is read back from its start."""
    body = call.request.body
    if isinstance(body, bytes):
        return body
    body.seek(0)
    return body.read()


def assert_error(reply: Any, status: int, param: str | None) -> dict[str, Any]:
    assert reply.status_code == status, reply.get_data(as_text=True)
    error = reply.get_json()["error"]
    assert set(error) == {"message", "type", "param", "code"} and error["param"] == param
    return error


def test_turbo_gets_base64_json_built_from_the_file(gateway: Gateway) -> None:
    gateway.upstream.post(run_url(TURBO), json=envelope(TURBO_RESULT))
    reply = post_audio(gateway, "/v1/audio/transcriptions",
                       {"model": "whisper-1", "language": "fr", "prompt": "Une salutation."})
    assert reply.status_code == 200, reply.get_json()
    assert reply.get_json() == {"text": "Bonjour.", "usage": {"type": "duration", "seconds": 2}}
    [call] = gateway.runs(TURBO)
    sent = sent_body(call)
    assert int(call.request.headers["Content-Length"]) == len(sent)
    payload = json.loads(sent)
    assert base64.b64decode(payload.pop("audio")) == WAV
    assert payload == {"task": "transcribe", "language": "fr", "initial_prompt": "Une salutation."}
    reply.close()  # the access-log line is written when the response is closed
    [line] = gateway.logs.events("request")
    assert line["audio_seconds"] == 1.5 and line["workers_ai_model"] == TURBO


def test_whisper_gets_a_byte_array_and_tiny_en_the_raw_bytes(gateway: Gateway) -> None:
    result = envelope({"text": "hello", "words": [{"word": "hello", "start": 0.0, "end": 0.5}]})
    gateway.upstream.post(run_url(WHISPER), json=result)
    gateway.upstream.post(run_url(TINY), json=result)
    assert post_audio(gateway, "/v1/audio/transcriptions", {"model": WHISPER}).status_code == 200
    assert post_audio(gateway, "/v1/audio/transcriptions", {"model": TINY}).status_code == 200
    [whisper] = [c for c in gateway.runs(WHISPER) if c.request.url == run_url(WHISPER)]
    assert whisper.request.headers["Content-Type"] == "application/json"
    assert json.loads(sent_body(whisper)) == {"audio": list(WAV)}
    [tiny] = gateway.runs(TINY)
    assert tiny.request.headers["Content-Type"] == "audio/wav"
    assert sent_body(tiny) == WAV


def test_nova_gets_raw_audio_of_the_sniffed_type_and_options_in_the_query(gateway: Gateway) -> None:
    gateway.upstream.post(run_url(NOVA), json=envelope(nova_result("en", [("Hi.", 0.0, 0.4)])))
    flac = HEADS["flac"]
    reply = post_audio(gateway, "/v1/audio/transcriptions", {"model": NOVA}, audio=flac, filename="wrong-name.mp3")
    assert reply.status_code == 200, reply.get_json()
    post_audio(gateway, "/v1/audio/transcriptions", {"model": NOVA, "language": "de"}, audio=flac)
    first, second = gateway.runs(NOVA)
    assert first.request.headers["Content-Type"] == "audio/flac" and sent_body(first) == flac
    assert parse_qs(urlparse(first.request.url).query) == {
        "punctuate": ["true"], "smart_format": ["true"], "detect_language": ["true"]}
    assert parse_qs(urlparse(second.request.url).query)["language"] == ["de"]


@pytest.mark.parametrize(("fields", "audio", "param"), [
    ({"model": "whisper-1"}, None, "file"),
    ({"model": "whisper-1"}, b"", "file"),
    ({"model": "whisper-1"}, b"this is a text file, not audio", "file"),
    ({"model": "whisper-1"}, b"FORM\x00\x00\x00\x10AIFFCOMM" + bytes(20), "file"),
    ({"model": "whisper-1", "response_format": "docx"}, WAV, "response_format"),
    ({"model": "whisper-1", "language": "klingon"}, WAV, "language"),
    ({"model": "whisper-1", "temperature": "2"}, WAV, "temperature"),
    ({"model": "whisper-1", "timestamp_granularities[]": "word"}, WAV, "timestamp_granularities"),
    ({"model": "whisper-1", "timestamp_granularities[]": "sentence", "response_format": "verbose_json"}, WAV,
     "timestamp_granularities[0]"),
    ({"model": TINY, "language": "es"}, WAV, "language"),
    ({"model": "@cf/deepgram/flux"}, WAV, "model"),
])
def test_bad_transcription_requests_are_400_naming_the_field_before_upstream(
    gateway: Gateway, fields: dict[str, Any], audio: bytes | None, param: str
) -> None:
    reply = post_audio(gateway, "/v1/audio/transcriptions", fields, audio=audio)
    assert_error(reply, 400, param)
    assert gateway.runs() == []


def test_whisper_cannot_translate_and_says_so(gateway: Gateway) -> None:
    assert_error(post_audio(gateway, "/v1/audio/translations", {"model": WHISPER}), 400, "model")
    assert gateway.runs() == []


@pytest.mark.parametrize("settings_overrides", [{**SETTINGS, "audio_max_upload_bytes": 4096}])
def test_a_file_over_the_limit_is_413_and_never_sent(gateway: Gateway) -> None:
    just_over = make_wav(seconds=1)[:4097]
    error = assert_error(post_audio(gateway, "/v1/audio/transcriptions", {"model": "whisper-1"}, audio=just_over),
                         413, "file")
    assert "4096" in error["message"]
    # Far over: refused from the declared length while reading, before a byte is spooled.
    huge = bytes(2 * 1024 * 1024)
    reply = post_audio(gateway, "/v1/audio/translations", {"model": "whisper-1"}, audio=b"RIFF" + huge)
    assert reply.status_code == 413 and reply.get_json()["error"]["type"] == "invalid_request_error"
    assert gateway.runs() == []


def test_nova_translation_goes_through_m2m100_segment_by_segment_keeping_timings(gateway: Gateway) -> None:
    words = [("Hola", 0.0, 0.5), ("a", 0.5, 0.7), ("todos.", 0.7, 1.2), ("Gracias.", 3.0, 3.5)]
    gateway.upstream.post(run_url(NOVA), json=envelope(nova_result("es", words)))
    seen: list[dict[str, Any]] = []

    def m2m(request: Any) -> tuple[int, dict[str, str], str]:
        payload = json.loads(request.body)
        seen.append(payload)
        return 200, {}, json.dumps(envelope({"translated_text": payload["text"].upper()}))

    gateway.upstream.add_callback("POST", run_url(M2M), callback=m2m, content_type="application/json")
    reply = post_audio(gateway, "/v1/audio/translations", {"model": NOVA, "response_format": "verbose_json"})
    assert reply.status_code == 200, reply.get_json()
    body = reply.get_json()
    assert sorted(p["text"] for p in seen) == ["Gracias.", "Hola a todos."]
    assert all(p["source_lang"] == "es" and p["target_lang"] == "en" for p in seen)
    assert [(s["start"], s["end"], s["text"]) for s in body["segments"]] == [
        (0.0, 1.2, "HOLA A TODOS."), (3.0, 3.5, "GRACIAS.")]
    assert body["language"] == "english" and body["text"] == "HOLA A TODOS. GRACIAS."
    reply.close()  # the access-log line is written when the response is closed
    [line] = gateway.logs.events("request")
    assert line["translated_segments"] == 2 and line["characters"] == len("Hola a todos.") + len("Gracias.")


def test_english_audio_is_not_sent_to_m2m100(gateway: Gateway) -> None:
    gateway.upstream.post(run_url(NOVA), json=envelope(nova_result("en", [("Hello.", 0.0, 0.5)])))
    reply = post_audio(gateway, "/v1/audio/translations", {"model": NOVA, "response_format": "text"})
    assert reply.get_data(as_text=True) == "Hello.\n"
    assert gateway.runs(M2M) == []


def test_a_failing_m2m100_call_fails_the_translation(gateway: Gateway) -> None:
    gateway.upstream.post(run_url(NOVA), json=envelope(nova_result("es", [("Hola.", 0.0, 0.5)])))
    gateway.upstream.post(run_url(M2M), status=500, json=failure(3043, "boom"))
    reply = post_audio(gateway, "/v1/audio/translations", {"model": NOVA})
    assert reply.status_code == 502


def test_turbo_translates_with_its_own_task(gateway: Gateway) -> None:
    gateway.upstream.post(run_url(TURBO), json=envelope({**TURBO_RESULT, "text": "Hello."}))
    reply = post_audio(gateway, "/v1/audio/translations", {"model": "whisper-1"})
    assert reply.get_json() == {"text": "Hello.", "usage": {"type": "duration", "seconds": 2}}
    assert json.loads(sent_body(gateway.runs(TURBO)[0]))["task"] == "translate"
    assert gateway.runs(M2M) == []


# ---- speech ------------------------------------------------------------------------------------


def test_aura_is_sent_the_mapped_speaker_and_the_encoding(gateway: Gateway) -> None:
    gateway.upstream.post(run_url(AURA), body=b"RIFF-audio-bytes", content_type="audio/wav")
    reply = gateway.post("/v1/audio/speech", {"model": "tts-1", "input": "Hello there", "voice": "onyx",
                                              "response_format": "wav"})
    assert reply.status_code == 200
    assert reply.headers["Content-Type"] == "audio/wav" and reply.data == b"RIFF-audio-bytes"
    [call] = gateway.runs(AURA)
    assert json.loads(call.request.body) == {"text": "Hello there", "speaker": "zeus", "encoding": "linear16",
                                             "container": "wav", "sample_rate": 24000}
    reply.close()  # the access-log line is written when the response is closed
    [line] = gateway.logs.events("request")
    assert line["characters"] == len("Hello there") and line["voice"] == "zeus"


def test_a_models_own_speaker_name_works(gateway: Gateway) -> None:
    gateway.upstream.post(run_url(AURA), body=b"mp3", content_type="audio/mpeg")
    assert gateway.post("/v1/audio/speech", {"model": AURA, "input": "Hi", "voice": "Hermes"}).status_code == 200
    assert json.loads(gateway.runs(AURA)[0].request.body)["speaker"] == "hermes"


def test_melotts_base64_json_is_decoded_and_streamed_as_events(gateway: Gateway) -> None:
    audio = b"\xff\xfb" + bytes(range(256)) * 300
    gateway.upstream.post(run_url(MELO), json=envelope({"audio": base64.b64encode(audio).decode()}))
    plain = gateway.post("/v1/audio/speech", {"model": MELO, "input": "Bonjour", "voice": "fr"})
    assert plain.data == audio and plain.headers["Content-Type"] == "audio/mpeg"
    assert json.loads(gateway.runs(MELO)[0].request.body) == {"prompt": "Bonjour", "lang": "fr"}
    events = gateway.post("/v1/audio/speech", {"model": MELO, "input": "Bonjour", "voice": "alloy",
                                               "stream_format": "sse"})
    payloads = sse_payloads(events.data)
    assert [p["type"] for p in payloads[:-1]] == ["speech.audio.delta"] * len(payloads[:-1])
    assert b"".join(base64.b64decode(p["audio"]) for p in payloads[:-1]) == audio
    assert payloads[-1]["type"] == "speech.audio.done" and payloads[-1]["usage"]["input_tokens"] >= 1


@pytest.mark.parametrize(("body", "param"), [
    ({"model": "tts-1", "input": "hi", "voice": "nobody"}, "voice"),
    ({"model": "tts-1", "input": "hi", "voice": {"id": "voice_123"}}, "voice"),
    ({"model": "tts-1", "input": "hi"}, "voice"),
    ({"model": "tts-1", "input": "", "voice": "alloy"}, "input"),
    ({"model": "tts-1", "input": "x" * 4097, "voice": "alloy"}, "input"),
    ({"model": "tts-1", "input": "hi", "voice": "alloy", "speed": 1.5}, "speed"),
    ({"model": "tts-1", "input": "hi", "voice": "alloy", "speed": 9}, "speed"),
    ({"model": "tts-1", "input": "hi", "voice": "alloy", "response_format": "ogg"}, "response_format"),
    ({"model": MELO, "input": "hi", "voice": "alloy", "response_format": "wav"}, "response_format"),
    ({"model": "tts-1", "input": "hi", "voice": "alloy", "stream_format": "chunks"}, "stream_format"),
    ({"model": "whisper-1", "input": "hi", "voice": "alloy"}, "model"),
])
def test_bad_speech_requests_are_400_naming_the_field(gateway: Gateway, body: dict[str, Any], param: str) -> None:
    assert_error(gateway.post("/v1/audio/speech", body), 400, param)
    assert gateway.runs() == []


def test_instructions_are_accepted_and_logged_as_ignored(gateway: Gateway) -> None:
    gateway.upstream.post(run_url(AURA), body=b"mp3", content_type="audio/mpeg")
    reply = gateway.post("/v1/audio/speech", {"model": "tts-1", "input": "hi", "voice": "alloy",
                                              "instructions": "Speak like a pirate."})
    assert reply.status_code == 200
    [line] = gateway.logs.events("ignored_fields")
    assert line["fields"] == ["instructions"] and "pirate" not in gateway.logs.text()


def test_speech_upstream_errors_keep_their_status(gateway: Gateway) -> None:
    gateway.upstream.post(run_url(AURA), status=400, json=failure(5006, "AiError: Bad input"))
    reply = gateway.post("/v1/audio/speech", {"model": "tts-1", "input": "hi", "voice": "alloy"})
    assert reply.status_code == 400
