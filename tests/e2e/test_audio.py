"""Audio end to end: the official SDK -> gunicorn-served gateway -> Workers AI emulator, on WAV files
the tests write with the standard library (the emulator hears the script in a WAV's INFO comment)."""

from __future__ import annotations

import base64
import io
import json
import time
from typing import Any

import openai
import pysubs2
import pytest
import requests
import srt

from tests.support.audio import HEADS, big_wav, make_wav
from tests.support.emulator import EmulatorHandle
from tests.support.gateway import GatewayHandle
from tests.support.openai_spec import assert_valid
from workers_ai_emulator import speech_audio
from workers_ai_emulator.audio import translate

SPANISH = make_wav("es|Hola a todos.|Gracias por venir.|Hasta mañana.", seconds=4.5)
ENGLISH = make_wav("en|Good morning everyone.|Thanks for coming.", seconds=4.0)
SEGMENTS = [(0.0, 1.5, "Hola a todos."), (1.5, 3.0, "Gracias por venir."), (3.0, 4.5, "Hasta mañana.")]
TEXT = "Hola a todos. Gracias por venir. Hasta mañana."
ASR_MODELS = ["whisper-1", "@cf/openai/whisper", "@cf/openai/whisper-tiny-en", "@cf/deepgram/nova-3"]
TURBO = "@cf/openai/whisper-large-v3-turbo"


@pytest.fixture
def client(gateway: GatewayHandle, upstream: EmulatorHandle) -> openai.OpenAI:
    return gateway.client(max_retries=0)


def wav_file(data: bytes = SPANISH, name: str = "speech.wav") -> tuple[str, bytes, str]:
    return (name, data, "audio/wav")


# ---- transcriptions -------------------------------------------------------------------------------


def test_json_is_the_default(client: openai.OpenAI) -> None:
    result = client.audio.transcriptions.create(file=wav_file(), model="whisper-1")
    assert result.text == TEXT
    assert result.usage is not None and result.usage.seconds == 5  # 4.5 s, billed per started second
    assert_valid("CreateTranscriptionResponseJson", result.model_dump(exclude_none=True))


def test_text_format_is_plain_text(client: openai.OpenAI) -> None:
    assert client.audio.transcriptions.create(file=wav_file(), model="whisper-1", response_format="text") == TEXT + "\n"


def test_verbose_json_as_openai_shapes_it(client: openai.OpenAI) -> None:
    result = client.audio.transcriptions.create(file=wav_file(), model="whisper-1", response_format="verbose_json")
    body = result.model_dump(exclude_none=True)
    assert_valid("CreateTranscriptionResponseVerboseJson", body)
    assert body["task"] == "transcribe" and body["language"] == "spanish" and body["duration"] == 4.5
    assert [(s["id"], s["start"], s["end"], s["text"]) for s in body["segments"]] == [
        (i, start, end, " " + text) for i, (start, end, text) in enumerate(SEGMENTS)]
    for segment in body["segments"]:
        assert_valid("TranscriptionSegment", segment)
        assert segment["seek"] == 0 and segment["tokens"] == [] and segment["avg_logprob"] < 0
    assert "words" not in body  # only segments unless words are asked for


def test_word_and_segment_timestamps(client: openai.OpenAI) -> None:
    both = client.audio.transcriptions.create(file=wav_file(), model="whisper-1", response_format="verbose_json",
                                              timestamp_granularities=["word", "segment"])
    assert [w.word for w in both.words or []] == TEXT.split()
    assert both.words[0].start == 0.0 and both.words[-1].end == 4.5
    assert [(w.start, w.end) for w in both.words[:3]] == [(0.0, 0.5), (0.5, 1.0), (1.0, 1.5)]
    assert len(both.segments or []) == 3
    words_only = client.audio.transcriptions.create(file=wav_file(), model="whisper-1",
                                                    response_format="verbose_json", timestamp_granularities=["word"])
    assert words_only.words and words_only.segments is None


def test_srt_is_numbered_timed_and_parses(client: openai.OpenAI) -> None:
    body = client.audio.transcriptions.create(file=wav_file(), model="whisper-1", response_format="srt")
    assert body.startswith("1\n00:00:00,000 --> 00:00:01,500\nHola a todos.\n\n2\n00:00:01,500 --> 00:00:03,000\n")
    cues = list(srt.parse(body))
    assert [c.index for c in cues] == [1, 2, 3]
    assert [(c.start.total_seconds(), c.end.total_seconds(), c.content) for c in cues] == SEGMENTS


def test_vtt_is_timed_and_parses(client: openai.OpenAI) -> None:
    body = client.audio.transcriptions.create(file=wav_file(), model="whisper-1", response_format="vtt")
    assert body.startswith("WEBVTT\n\n00:00:00.000 --> 00:00:01.500\nHola a todos.\n")
    parsed = pysubs2.SSAFile.from_string(body, format_="vtt")
    assert [(e.start / 1000, e.end / 1000, e.plaintext) for e in parsed] == SEGMENTS


@pytest.mark.parametrize(("response_format", "content_type"), [
    ("json", "application/json"), ("verbose_json", "application/json"), ("text", "text/plain; charset=utf-8"),
    ("srt", "application/x-subrip; charset=utf-8"), ("vtt", "text/vtt; charset=utf-8"),
])
def test_each_format_has_its_content_type(client: openai.OpenAI, response_format: str, content_type: str) -> None:
    raw = client.audio.transcriptions.with_raw_response.create(
        file=wav_file(), model="whisper-1", response_format=response_format)  # type: ignore[call-overload]
    assert raw.headers["content-type"] == content_type
    assert raw.headers["x-workers-ai-model"] == TURBO


def test_streaming_transcription_events(client: openai.OpenAI) -> None:
    events = list(client.audio.transcriptions.create(file=wav_file(), model="whisper-1", stream=True))
    assert [e.type for e in events] == ["transcript.text.delta"] * 3 + ["transcript.text.done"]
    deltas = [e.delta for e in events[:-1]]  # type: ignore[union-attr]
    assert deltas == ["Hola a todos.", " Gracias por venir.", " Hasta mañana."]
    assert "".join(deltas) == events[-1].text == TEXT  # type: ignore[union-attr]
    for event in events:
        name = "TranscriptTextDeltaEvent" if event.type == "transcript.text.delta" else "TranscriptTextDoneEvent"
        assert_valid(name, event.model_dump(exclude_none=True))


def test_each_model_gets_its_own_upstream_form(client: openai.OpenAI, upstream: EmulatorHandle) -> None:
    for model in ASR_MODELS:
        result = client.audio.transcriptions.create(file=wav_file(), model=model)
        assert result.text == TEXT, model
    turbo, whisper, tiny, nova = upstream.requests()
    assert turbo["headers"]["content-type"] == "application/json"
    assert base64.b64decode(turbo["json"]["audio"]) == SPANISH and turbo["json"]["task"] == "transcribe"
    assert whisper["json"] == {"audio": list(SPANISH)}
    assert tiny["headers"]["content-type"] == "audio/wav" and tiny["json"] is None
    assert nova["headers"]["content-type"] == "audio/wav" and nova["query"]["detect_language"] == "true"
    assert int(turbo["headers"]["content-length"]) > len(SPANISH)


def test_language_and_prompt_reach_turbo(client: openai.OpenAI, upstream: EmulatorHandle) -> None:
    result = client.audio.transcriptions.create(file=wav_file(ENGLISH), model="whisper-1", language="en",
                                                prompt="A greeting.", response_format="verbose_json")
    assert result.language == "english"
    [sent] = upstream.requests()
    assert sent["json"]["language"] == "en" and sent["json"]["initial_prompt"] == "A greeting."


def test_other_containers_are_sent_as_what_they_are(client: openai.OpenAI, upstream: EmulatorHandle) -> None:
    for name in ("flac", "mp3", "ogg", "m4a", "webm"):
        result = client.audio.transcriptions.create(file=(f"clip.{name}", HEADS[name], "application/octet-stream"),
                                                    model="@cf/deepgram/nova-3")
        assert result.text
    types = [r["headers"]["content-type"] for r in upstream.requests()]
    assert types == ["audio/flac", "audio/mpeg", "audio/ogg", "audio/mp4", "audio/webm"]


# ---- limits and refusals ------------------------------------------------------------------------


def test_a_file_over_25_mib_is_413_in_openais_shape(client: openai.OpenAI, upstream: EmulatorHandle) -> None:
    with pytest.raises(openai.APIStatusError) as caught:
        client.audio.transcriptions.create(file=wav_file(big_wav(25 * 1024 * 1024 + 1)), model="whisper-1")
    assert caught.value.status_code == 413
    assert caught.value.body["param"] == "file" and caught.value.body["type"] == "invalid_request_error"  # type: ignore[index]
    assert upstream.requests() == []


def test_a_file_of_exactly_25_mib_is_accepted(client: openai.OpenAI) -> None:
    result = client.audio.transcriptions.create(file=wav_file(big_wav(25 * 1024 * 1024)), model="@cf/deepgram/nova-3")
    assert result.text


@pytest.mark.parametrize(("data", "fields", "param"), [
    (b"", {}, "file"),
    (b"%PDF-1.7 not audio at all", {}, "file"),
    (b"#!AMR\n" + bytes(64), {}, "file"),
    (SPANISH, {"response_format": "mp3"}, "response_format"),
    (SPANISH, {"language": "xx"}, "language"),
])
def test_bad_requests_are_400_naming_the_field(
    client: openai.OpenAI, upstream: EmulatorHandle, data: bytes, fields: dict[str, Any], param: str
) -> None:
    for create in (client.audio.transcriptions.create, client.audio.translations.create):
        if "language" in fields and create == client.audio.translations.create:
            continue
        with pytest.raises(openai.BadRequestError) as caught:
            create(file=wav_file(data), model="whisper-1", **fields)
        assert caught.value.body["param"] == param  # type: ignore[index]
    assert upstream.requests() == []


def test_a_form_without_a_file_is_400(gateway: GatewayHandle, upstream: EmulatorHandle) -> None:
    reply = requests.post(f"{gateway.base_url}/audio/transcriptions", files={"model": (None, "whisper-1")},
                          headers={"Authorization": f"Bearer {gateway.api_key}"}, timeout=10)
    assert reply.status_code == 400 and reply.json()["error"]["param"] == "file"


# ---- translations -------------------------------------------------------------------------------


def test_turbo_translates_with_its_own_task_in_every_format(client: openai.OpenAI) -> None:
    english = [translate(text, "es", "en") for _, _, text in SEGMENTS]
    assert client.audio.translations.create(file=wav_file(), model="whisper-1").text == " ".join(english)
    verbose = client.audio.translations.create(file=wav_file(), model="whisper-1", response_format="verbose_json")
    body = verbose.model_dump(exclude_none=True)
    assert_valid("CreateTranslationResponseVerboseJson", body)
    assert body["language"] == "english" and body["task"] == "translate"
    assert [(s["start"], s["end"], s["text"].strip()) for s in body["segments"]] == [
        (s, e, t) for (s, e, _), t in zip(SEGMENTS, english, strict=True)]
    assert client.audio.translations.create(file=wav_file(), model="whisper-1",
                                            response_format="text") == " ".join(english) + "\n"
    subtitles = client.audio.translations.create(file=wav_file(), model="whisper-1", response_format="srt")
    assert [c.content for c in srt.parse(subtitles)] == english
    vtt = client.audio.translations.create(file=wav_file(), model="whisper-1", response_format="vtt")
    assert [e.plaintext for e in pysubs2.SSAFile.from_string(vtt, format_="vtt")] == english


def test_nova_translation_goes_through_m2m100_keeping_timings(
    client: openai.OpenAI, upstream: EmulatorHandle
) -> None:
    verbose = client.audio.translations.create(file=wav_file(), model="@cf/deepgram/nova-3",
                                               response_format="verbose_json")
    expected = [(s, e, translate(t, "es", "en")) for s, e, t in SEGMENTS]
    assert [(s.start, s.end, s.text) for s in verbose.segments or []] == expected
    subtitles = client.audio.translations.create(file=wav_file(), model="@cf/deepgram/nova-3", response_format="srt")
    cues = list(srt.parse(subtitles))
    assert [(c.start.total_seconds(), c.end.total_seconds(), c.content) for c in cues] == expected
    calls = [r for r in upstream.requests() if r["path"].endswith("m2m100-1.2b")]
    assert len(calls) == 6 and {c["json"]["source_lang"] for c in calls} == {"es"}


def test_english_audio_needs_no_translation(client: openai.OpenAI, upstream: EmulatorHandle) -> None:
    result = client.audio.translations.create(file=wav_file(ENGLISH), model="@cf/deepgram/nova-3")
    assert result.text == "Good morning everyone. Thanks for coming."
    assert not [r for r in upstream.requests() if r["path"].endswith("m2m100-1.2b")]


# ---- speech ------------------------------------------------------------------------------------

WORDS = "The gateway speaks every format"
AURA_FORMATS = ["mp3", "opus", "aac", "flac", "wav", "pcm"]
SPEECH_CASES = [(m, f) for m in ("tts-1", "@cf/deepgram/aura-1", "@cf/deepgram/aura-2-es") for f in AURA_FORMATS]
SPEECH_CASES += [("@cf/myshell-ai/melotts", "mp3")]
DEMUXERS = {"mp3": "mp3", "opus": "ogg", "aac": "aac", "flac": "flac", "wav": "wav"}
CONTENT_TYPES = {"mp3": "audio/mpeg", "opus": "audio/opus", "aac": "audio/aac", "flac": "audio/flac",
                 "wav": "audio/wav", "pcm": "audio/pcm"}


def looks_like(audio: bytes, response_format: str) -> bool:
    return {
        "mp3": audio[:3] == b"ID3" or (audio[0] == 0xFF and audio[1] & 0xE0 == 0xE0),
        "opus": audio[:4] == b"OggS" and b"OpusHead" in audio[:64],
        "aac": audio[0] == 0xFF and audio[1] & 0xF6 == 0xF0,
        "flac": audio[:4] == b"fLaC",
        "wav": audio[:4] == b"RIFF" and audio[8:12] == b"WAVE",
        "pcm": len(audio) == len(WORDS.split()) * speech_audio.WORD_SAMPLES * 2,
    }[response_format]


def decoded_seconds(audio: bytes, response_format: str) -> float | None:
    """Seconds of audio FFmpeg's own decoder gets out of it, where PyAV is installed."""
    try:
        import av
    except ImportError:
        return None
    if response_format == "pcm":
        return len(audio) / 2 / 24000
    with av.open(io.BytesIO(audio)) as container:
        assert container.format.name.split(",")[0] == DEMUXERS[response_format]
        stream = container.streams.audio[0]
        return sum(frame.samples for frame in container.decode(stream)) / stream.rate


@pytest.mark.parametrize(("model", "response_format"), SPEECH_CASES)
def test_speech_in_each_format_a_model_makes(client: openai.OpenAI, model: str, response_format: str) -> None:
    voice = "alloy"
    response = client.audio.speech.create(model=model, voice=voice, input=WORDS,
                                          response_format=response_format)  # type: ignore[arg-type]
    audio = response.content
    assert response.response.headers["content-type"] == CONTENT_TYPES[response_format]
    assert looks_like(audio, response_format), audio[:16]
    seconds = decoded_seconds(audio, response_format)
    if seconds is not None:
        assert 5 * 0.3 < seconds < 5 * 0.45  # five words, about a third of a second each
    with client.audio.speech.with_streaming_response.create(
        model=model, voice=voice, input=WORDS, response_format=response_format,  # type: ignore[arg-type]
    ) as streamed:
        assert b"".join(streamed.iter_bytes()) == audio


@pytest.mark.parametrize(("fields", "param"), [
    ({"model": "@cf/myshell-ai/melotts", "response_format": "wav"}, "response_format"),
    ({"model": "@cf/myshell-ai/melotts", "response_format": "opus"}, "response_format"),
    ({"model": "tts-1", "speed": 1.25}, "speed"),
    ({"model": "tts-1", "voice": "darth"}, "voice"),
    ({"model": "@cf/deepgram/aura-2-es", "voice": "luna"}, "voice"),
])
def test_unsupported_combinations_are_refused(
    client: openai.OpenAI, upstream: EmulatorHandle, fields: dict[str, Any], param: str
) -> None:
    request = {"voice": "alloy", "input": "hello", **fields}
    with pytest.raises(openai.BadRequestError) as caught:
        client.audio.speech.create(**request)
    assert caught.value.body["param"] == param  # type: ignore[index]
    assert upstream.requests() == []


def test_speech_bytes_reach_the_client_as_the_upstream_makes_them(
    client: openai.OpenAI, upstream: EmulatorHandle
) -> None:
    upstream.set_faults(token_delay_ms=300)  # one word of audio every 300 ms
    started = time.monotonic()
    arrivals = []
    with client.audio.speech.with_streaming_response.create(model="tts-1", voice="alloy", input="one two three four",
                                                            response_format="pcm") as response:
        for chunk in response.iter_bytes():
            arrivals.append((time.monotonic() - started, len(chunk)))
    total = time.monotonic() - started
    assert total > 0.85  # three gaps of 300 ms upstream
    assert arrivals[0][0] < total - 0.6  # the first word arrived long before the last was made
    assert sum(size for _, size in arrivals) == 4 * speech_audio.WORD_SAMPLES * 2


def test_sse_speech_events_carry_the_same_audio(gateway: GatewayHandle, client: openai.OpenAI) -> None:
    plain = client.audio.speech.create(model="tts-1", voice="nova", input=WORDS, response_format="wav").content
    with client.audio.speech.with_streaming_response.create(model="tts-1", voice="nova", input=WORDS,
                                                            response_format="wav", stream_format="sse") as response:
        assert response.headers["content-type"].startswith("text/event-stream")
        text = response.read().decode()
    events = [json.loads(line[len("data: "):]) for line in text.splitlines() if line.startswith("data: ")]
    assert {e["type"] for e in events[:-1]} == {"speech.audio.delta"} and events[-1]["type"] == "speech.audio.done"
    for event in events:
        name = "SpeechAudioDeltaEvent" if event["type"] == "speech.audio.delta" else "SpeechAudioDoneEvent"
        assert_valid(name, event)
    assert b"".join(base64.b64decode(e["audio"]) for e in events[:-1]) == plain


def test_a_speech_stream_that_breaks_off_is_not_passed_off_as_whole(
    client: openai.OpenAI, gateway: GatewayHandle, upstream: EmulatorHandle
) -> None:
    upstream.set_faults(cut_after=2)
    received = b""
    # The HTTP client's own protocol error: the body ended without its last chunk.
    with pytest.raises(Exception, match="incomplete chunked read"), client.audio.speech.with_streaming_response.create(
        model="tts-1", voice="alloy", input=WORDS, response_format="pcm",
    ) as response:
        for chunk in response.iter_bytes():
            received += chunk
    assert 0 < len(received) < len(WORDS.split()) * speech_audio.WORD_SAMPLES * 2
    reply = requests.post(f"{gateway.base_url}/audio/speech", timeout=10,
                          json={"model": "tts-1", "voice": "alloy", "input": WORDS, "stream_format": "sse"},
                          headers={"Authorization": f"Bearer {gateway.api_key}"})
    events = [json.loads(line[len("data: "):]) for line in reply.text.splitlines() if line.startswith("data: ")]
    assert [e.get("type") for e in events[:2]] == ["speech.audio.delta"] * 2
    assert "error" in events[-1] and not any(e.get("type") == "speech.audio.done" for e in events)


def test_audio_routes_are_served_unversioned_too(gateway: GatewayHandle, upstream: EmulatorHandle) -> None:
    headers = {"Authorization": f"Bearer {gateway.api_key}"}
    speech = requests.post(f"{gateway.url}/audio/speech", json={"model": "tts-1", "voice": "alloy", "input": "hi"},
                           headers=headers, timeout=10)
    assert speech.status_code == 200 and speech.headers["content-type"] == "audio/mpeg"
    for path in ("/audio/transcriptions", "/audio/translations"):
        reply = requests.post(f"{gateway.url}{path}", files={"file": ("a.wav", ENGLISH, "audio/wav")},
                              data={"model": "whisper-1"}, headers=headers, timeout=10)
        assert reply.status_code == 200 and reply.json()["text"], path
