"""The emulator's audio models: their input forms against Cloudflare's catalogue, their output shapes
against the catalogue's output schemas, and outputs that are deterministic and derived from the input."""

from __future__ import annotations

import base64
import io
import json
import time
from typing import Any

import pytest
import requests
from jsonschema import Draft202012Validator

from tests.emulator.test_emulator_schema_fidelity import as_validator_schema, catalogue_file
from tests.support.audio import HEADS, make_wav
from tests.support.emulator import EmulatorHandle
from workers_ai_emulator import speech_audio
from workers_ai_emulator.audio import translate

TURBO = "@cf/openai/whisper-large-v3-turbo"
WHISPER = "@cf/openai/whisper"
TINY = "@cf/openai/whisper-tiny-en"
NOVA = "@cf/deepgram/nova-3"
M2M = "@cf/meta/m2m100-1.2b"
AURA = ("@cf/deepgram/aura-1", "@cf/deepgram/aura-2-en", "@cf/deepgram/aura-2-es")
MELO = "@cf/myshell-ai/melotts"
SCRIPT = "es|Hola a todos.|Gracias por venir."
WAV = make_wav(SCRIPT, seconds=3)
B64 = base64.b64encode(WAV).decode()


def catalogue(model: str) -> dict[str, Any] | None:
    path = catalogue_file(model)
    return json.loads(path.read_text()) if path else None


def needs_catalogue(model: str) -> dict[str, Any]:
    entry = catalogue(model)
    if entry is None:
        pytest.skip("../shared/specs/workers-ai-models not available")
    return entry


def post_raw(emu: EmulatorHandle, model: str, data: bytes, content_type: str, **params: str) -> requests.Response:
    return requests.post(emu.run_url(model), data=data, params=params, timeout=10,
                         headers={**emu.headers, "Content-Type": content_type})


JSON_CORPUS: dict[str, list[Any]] = {
    TURBO: [{"audio": B64}, {"audio": B64, "task": "translate", "language": "es"}, {"audio": 5}, {},
            {"audio": B64, "vad_filter": "yes"}, {"audio": B64, "language": 5}, {"audio": B64, "initial_prompt": "x"}],
    WHISPER: [{"audio": list(WAV[:400])}, {"audio": "abc"}, {}, {"audio": [1, 2, "x"]}],
    M2M: [{"text": "Hola", "source_lang": "es", "target_lang": "en"}, {"text": "", "target_lang": "en"},
          {"text": "hi"}, {"text": 5, "target_lang": "en"}, {"target_lang": "en"}, {"text": "hi", "target_lang": "fr"}],
    MELO: [{"prompt": "hi"}, {"prompt": ""}, {"prompt": "hi", "lang": "en"}, {"lang": "en"}, {"prompt": 5}],
}
JSON_CORPUS[TINY] = JSON_CORPUS[WHISPER]
AURA_CORPUS = [{"text": "hi"}, {"text": "hi", "speaker": "nobody"}, {"text": 5}, {"text": "hi", "encoding": "wma"},
               {"text": "hi", "container": "mp4"}, {"text": "hi", "encoding": "linear16", "container": "wav",
                                                    "sample_rate": 24000}, {"text": "hi", "bit_rate": "fast"}]
for _model in AURA:
    JSON_CORPUS[_model] = AURA_CORPUS
CASES = [(m, i) for m, corpus in JSON_CORPUS.items() for i in range(len(corpus))]


@pytest.mark.parametrize(("model", "index"), CASES, ids=[f"{m.rsplit('/', 1)[-1]}-{i}" for m, i in CASES])
def test_json_inputs_agree_with_the_catalogue(emu: EmulatorHandle, model: str, index: int) -> None:
    entry = needs_catalogue(model)
    body = JSON_CORPUS[model][index]
    valid = Draft202012Validator(as_validator_schema(entry["schema"]["input"])).is_valid(body)
    reply = emu.run(model, body)
    assert reply.status_code in (200, 400), reply.text
    assert (reply.status_code == 200) == valid, reply.text[:300]
    if reply.status_code == 400:
        assert reply.json()["errors"][0]["code"] == 5006


def output_validator(model: str) -> Draft202012Validator:
    schema = needs_catalogue(model)["schema"]["output"]
    return Draft202012Validator(as_validator_schema(schema))


@pytest.mark.parametrize("model", [WHISPER, TINY])
def test_whisper_takes_raw_bytes_or_a_byte_array_and_answers_its_catalogue_shape(
    emu: EmulatorHandle, model: str
) -> None:
    raw = post_raw(emu, model, WAV, "audio/wav")
    array = emu.run(model, {"audio": list(WAV)})
    assert raw.status_code == array.status_code == 200
    assert raw.json()["result"] == array.json()["result"]
    result = raw.json()["result"]
    output_validator(model).validate(result)
    assert result["text"] == "Hola a todos. Gracias por venir."
    assert [w["word"] for w in result["words"]] == ["Hola", "a", "todos.", "Gracias", "por", "venir."]
    assert result["words"][0]["start"] == 0.0 and result["words"][-1]["end"] == 3.0
    assert "00:00:01.500 --> 00:00:03.000\nGracias por venir." in result["vtt"]


def test_turbo_reports_language_duration_and_segments_and_translates(emu: EmulatorHandle) -> None:
    result = emu.run(TURBO, {"audio": B64}).json()["result"]
    output_validator(TURBO).validate(result)
    assert result["transcription_info"]["language"] == "es"
    assert result["transcription_info"]["duration"] == 3.0
    assert [(s["start"], s["end"], s["text"]) for s in result["segments"]] == [
        (0.0, 1.5, " Hola a todos."), (1.5, 3.0, " Gracias por venir.")]
    translated = emu.run(TURBO, {"audio": B64, "task": "translate"}).json()["result"]
    expected = [translate("Hola a todos.", "es", "en"), translate("Gracias por venir.", "es", "en")]
    assert translated["text"] == " ".join(expected)
    assert emu.run(TURBO, {"audio": "not base64!"}).status_code == 400


def test_nova_takes_raw_audio_with_options_in_the_query(emu: EmulatorHandle) -> None:
    reply = post_raw(emu, NOVA, WAV, "audio/wav", detect_language="true", punctuate="true")
    assert reply.status_code == 200, reply.text
    result = reply.json()["result"]
    output_validator(NOVA).validate(result)
    channel = result["results"]["channels"][0]
    assert channel["detected_language"] == "es"
    assert channel["alternatives"][0]["transcript"] == "Hola a todos. Gracias por venir."
    assert channel["alternatives"][0]["words"][0] == {
        "word": "hola", "start": 0.0, "end": 0.5, "confidence": channel["alternatives"][0]["words"][0]["confidence"],
        "punctuated_word": "Hola"}
    plain = post_raw(emu, NOVA, WAV, "audio/wav").json()["result"]["results"]["channels"][0]
    assert "detected_language" not in plain
    assert plain["alternatives"][0]["transcript"] == "hola a todos gracias por venir"
    assert post_raw(emu, NOVA, WAV, "application/octet-stream").status_code == 400


def test_other_audio_is_heard_as_words_derived_from_its_bytes(emu: EmulatorHandle) -> None:
    first = post_raw(emu, TINY, HEADS["mp3"], "audio/mpeg").json()["result"]["text"]
    again = post_raw(emu, TINY, HEADS["mp3"], "audio/mpeg").json()["result"]["text"]
    other = post_raw(emu, TINY, HEADS["flac"], "audio/flac").json()["result"]["text"]
    assert first == again and first != other and first.endswith(".")


def test_m2m100_marks_what_it_translated(emu: EmulatorHandle) -> None:
    result = emu.run(M2M, {"text": "Hola", "source_lang": "spanish", "target_lang": "english"}).json()["result"]
    output_validator(M2M).validate(result)
    assert result == {"translated_text": "Hola [es>en]"}
    same = emu.run(M2M, {"text": "Hello", "target_lang": "en"}).json()["result"]
    assert same == {"translated_text": "Hello"}


def test_melotts_answers_base64_mp3_in_json(emu: EmulatorHandle) -> None:
    reply = emu.run(MELO, {"prompt": "one two three"})
    result = reply.json()["result"]
    output_validator(MELO).validate(result)
    audio = base64.b64decode(result["audio"])
    assert audio[:2] == b"\xff\xfb" and audio == speech_audio.mp3_word() * 3
    assert emu.run(MELO, {"prompt": "hi", "lang": "xx"}).status_code == 400


FORMATS = [("mp3", None, "mp3", "audio/mpeg"), ("opus", "ogg", "ogg", "audio/ogg"), ("aac", None, "aac", "audio/aac"),
           ("flac", None, "flac", "audio/flac"), ("linear16", "wav", "wav", "audio/wav")]


@pytest.mark.parametrize(("encoding", "container", "demuxer", "content_type"), FORMATS)
def test_aura_speaks_each_encoding_as_a_file_a_real_decoder_plays(
    emu: EmulatorHandle, encoding: str, container: str | None, demuxer: str, content_type: str
) -> None:
    av = pytest.importorskip("av")
    body: dict[str, Any] = {"text": "one two three four", "encoding": encoding}
    if container:
        body["container"] = container
    reply = emu.run("@cf/deepgram/aura-2-en", body)
    assert reply.status_code == 200, reply.text
    assert reply.headers["Content-Type"] == content_type
    with av.open(io.BytesIO(reply.content)) as decoded:
        assert decoded.format.name.split(",")[0] == demuxer
        stream = decoded.streams.audio[0]
        samples = sum(frame.samples for frame in decoded.decode(stream))
        seconds = samples / stream.rate
    assert 4 * 0.3 < seconds < 4 * 0.4  # about a third of a second a word
    assert emu.run("@cf/deepgram/aura-2-en", body).content == reply.content  # deterministic


def test_aura_raw_pcm_is_the_wav_data_and_depends_on_the_speaker(emu: EmulatorHandle) -> None:
    pcm = emu.run("@cf/deepgram/aura-2-en", {"text": "hi there", "encoding": "linear16", "container": "none",
                                             "sample_rate": 24000}).content
    wav = emu.run("@cf/deepgram/aura-2-en", {"text": "hi there", "encoding": "linear16", "container": "wav"}).content
    assert wav[44:] == pcm and len(pcm) == 2 * 2 * speech_audio.WORD_SAMPLES
    other = emu.run("@cf/deepgram/aura-2-en", {"text": "hi there", "encoding": "linear16", "container": "none",
                                               "speaker": "zeus"}).content
    assert other != pcm


@pytest.mark.parametrize("body", [
    {"text": "hi", "encoding": "mp3", "container": "wav"},
    {"text": "hi", "encoding": "opus", "container": "none"},
    {"text": "hi", "encoding": "mp3", "sample_rate": 24000},
    {"text": "hi", "encoding": "linear16", "sample_rate": 12345},
    {"speaker": "luna"},
])
def test_aura_refuses_what_deepgram_refuses(emu: EmulatorHandle, body: dict[str, Any]) -> None:
    reply = emu.run("@cf/deepgram/aura-2-en", body)
    assert reply.status_code == 400 and reply.json()["errors"][0]["code"] == 5006


def test_aura_streams_one_chunk_per_word_paced_like_tokens(emu: EmulatorHandle) -> None:
    headers = {"x-emulator-ttft-ms": "0", "x-emulator-token-delay-ms": "150"}
    with requests.post(emu.run_url("@cf/deepgram/aura-2-en"), json={"text": "a b c d", "encoding": "linear16",
                       "container": "none"}, headers={**emu.headers, **headers}, stream=True, timeout=10) as reply:
        arrivals = []
        started = time.monotonic()
        for chunk in reply.iter_content(chunk_size=None):
            if chunk:
                arrivals.append((time.monotonic() - started, len(chunk)))
    assert sum(size for _, size in arrivals) == 4 * 2 * speech_audio.WORD_SAMPLES
    assert arrivals[0][0] < 0.3 and arrivals[-1][0] > 0.4  # the first word long before the last


def test_aura_cut_after_drops_the_stream(emu: EmulatorHandle) -> None:
    with pytest.raises(requests.exceptions.ChunkedEncodingError):
        reply = requests.post(emu.run_url("@cf/deepgram/aura-2-en"), json={"text": "a b c d"},
                              headers={**emu.headers, "x-emulator-cut-after": "2"}, timeout=10)
        assert len(reply.content) < len(speech_audio.mp3_word()) * 4
