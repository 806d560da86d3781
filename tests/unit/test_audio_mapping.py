"""Audio's pure parts: container sniffing and durations, subtitles, languages, the JSON body streamed
from a file, the wire forms, transcript reading, and speech mapping."""

from __future__ import annotations

import base64
import io
import json
import os
import tomllib
from pathlib import Path
from typing import Any

import pysubs2
import pytest
import responses
import srt

from openai_compat.errors import InvalidRequestError, PayloadTooLargeError, UpstreamError
from openai_compat.sound import containers, languages, subtitles
from openai_compat.speech import to_workers as speech_to_workers
from openai_compat.speech.profiles import known_models as known_voices
from openai_compat.speech.profiles import voice_model
from openai_compat.transcriptions import from_workers, to_workers
from openai_compat.transcriptions.from_workers import Word, read_transcript, segments_from_words
from openai_compat.transcriptions.profiles import speech_model
from openai_compat.upstream import WorkersAIClient, json_with_file_body
from openai_compat.upstream.body import JsonWithFile
from tests.support.audio import HEADS, make_wav
from tests.support.emulator import shared_dir
from tests.unit.factories import make_settings, run_url

TURBO = speech_model("@cf/openai/whisper-large-v3-turbo")
WHISPER = speech_model("@cf/openai/whisper")
TINY = speech_model("@cf/openai/whisper-tiny-en")
NOVA = speech_model("@cf/deepgram/nova-3")


@pytest.mark.parametrize(("name", "head"), [("wav", make_wav(seconds=0.1)[:64]), *HEADS.items()])
def test_every_accepted_container_is_recognised(name: str, head: bytes) -> None:
    found = containers.sniff(head[:64])
    assert found is not None and found.supported
    assert found.name == name


@pytest.mark.parametrize("head", [b"", b"hello world", b"%PDF-1.4", b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff\xe0"])
def test_what_is_not_audio_is_not_recognised(head: bytes) -> None:
    assert containers.sniff(head) is None


@pytest.mark.parametrize("head", [b"\xff\xf1\x50\x80\x01\x7f\xfc", b"FORM\x00\x00\x00\x10AIFF", b"#!AMR\n", b"MThd"])
def test_other_audio_is_recognised_but_not_accepted(head: bytes) -> None:
    found = containers.sniff(head)
    assert found is not None and not found.supported


def test_durations_come_from_the_container_header() -> None:
    assert containers.duration_seconds(io.BytesIO(make_wav(seconds=2.5)), containers.WAV) == 2.5
    mp3 = io.BytesIO((b"\xff\xfb\x50\xc0" + bytes(204)) * 100)  # 100 MPEG-1 Layer III frames
    seconds = containers.duration_seconds(mp3, containers.MP3)
    assert seconds is not None and abs(seconds - 100 * 1152 / 44100) < 0.05
    assert containers.duration_seconds(io.BytesIO(b"RIFF garbage"), containers.WAV) is None
    assert containers.duration_seconds(io.BytesIO(HEADS["webm"]), containers.WEBM) is None


def test_check_audio_names_the_file_and_sizes() -> None:
    with pytest.raises(PayloadTooLargeError) as too_big:
        to_workers.check_audio(b"RIFF", 101, 100)
    assert too_big.value.param == "file" and "100" in too_big.value.message
    for head, size in ((b"", 0), (b"text", 4), (b"#!AMR\n", 6)):
        with pytest.raises(InvalidRequestError) as bad:
            to_workers.check_audio(head, size, 100)
        assert bad.value.param == "file"


def test_languages() -> None:
    assert languages.name_of("es") == "spanish" and languages.name_of("en-US") == "english"
    assert languages.code_of("Spanish") == "es" and languages.code_of("pt_BR") == "pt"
    assert languages.code_of("xx") is None and languages.name_of(None) is None


def test_subtitles_are_written_by_the_library_with_whispers_conventions() -> None:
    cues = [subtitles.Cue(0.0, 1.2344, " First --> line "), subtitles.Cue(1.2345, 3661.5, "Second\n\nline")]
    written = subtitles.to_srt(cues)
    assert written.startswith("1\n00:00:00,000 --> 00:00:01,234\nFirst -> line\n\n2\n00:00:01,235 --> 01:01:01,500\n")
    parsed = list(srt.parse(written))
    assert [(c.index, c.content) for c in parsed] == [(1, "First -> line"), (2, "Second\nline")]
    vtt = subtitles.to_vtt(cues)
    assert vtt.startswith("WEBVTT\n\n00:00:00.000 --> 00:00:01.234\n")
    events = pysubs2.SSAFile.from_string(vtt, format_="vtt")
    assert [(e.start, e.end) for e in events] == [(0, 1234), (1235, 3661500)]
    assert subtitles.read_vtt(vtt) == [subtitles.Cue(0.0, 1.234, "First -> line"),
                                       subtitles.Cue(1.235, 3661.5, "Second\nline")]
    assert subtitles.read_vtt("not a vtt") is None
    assert subtitles.to_srt([]) == "" and subtitles.to_vtt([]) == "WEBVTT\n\n"


@pytest.mark.parametrize("encoding", ["base64", "byte_array"])
def test_json_with_file_is_exact_rewindable_and_read_in_pieces(encoding: str) -> None:
    data = os.urandom(150_001)
    body = json_with_file_body({"task": "transcribe"}, "audio", io.BytesIO(data), encoding)  # type: ignore[arg-type]
    assert isinstance(body.data, JsonWithFile)
    first = body.rewound().read()
    assert len(first) == body.length
    decoded = json.loads(first)
    assert (base64.b64decode(decoded["audio"]) if encoding == "base64" else bytes(decoded["audio"])) == data
    stream = body.rewound()
    assert b"".join(iter(lambda: stream.read(777), b"")) == first
    with pytest.raises(io.UnsupportedOperation):
        stream.seek(5)


def test_a_retry_sends_the_file_body_again_whole() -> None:
    sent: list[bytes] = []

    def answer(request: Any) -> tuple[int, dict[str, str], str]:
        sent.append(request.body.read() if hasattr(request.body, "read") else request.body)
        if len(sent) == 1:
            return 503, {}, json.dumps({"success": False, "errors": [{"code": 3040, "message": "busy"}]})
        return 200, {}, json.dumps({"success": True, "errors": [], "messages": [], "result": {"text": "ok"}})

    client = WorkersAIClient(make_settings(upstream_max_retries=1), sleep=lambda _: None)
    data = make_wav(seconds=0.2)
    with responses.RequestsMock() as mock:
        mock.add_callback("POST", run_url("@cf/openai/whisper"), callback=answer, content_type="application/json")
        body = json_with_file_body({}, "audio", io.BytesIO(data), "byte_array")
        assert client.run("@cf/openai/whisper", body=body).result == {"text": "ok"}
    assert len(sent) == 2 and sent[0] == sent[1] and json.loads(sent[1]) == {"audio": list(data)}


def test_each_model_is_sent_from_the_upload_file_not_a_copy() -> None:
    upload = io.BytesIO(make_wav(seconds=0.2))
    for model in (TURBO, WHISPER):
        assert isinstance(to_workers.recognition_call(model, upload, containers.WAV, translate=False, language=None,
                                                      prompt=None).body.data, JsonWithFile)
    for model in (TINY, NOVA):
        call = to_workers.recognition_call(model, upload, containers.WAV, translate=False, language=None, prompt=None)
        assert call.body.data is upload and call.body.content_type == "audio/wav"
    translate = to_workers.recognition_call(TURBO, upload, containers.WAV, translate=True, language="es", prompt="p")
    head = translate.body.rewound().read(200)
    assert head.startswith(b'{"task":"translate","language":"es","initial_prompt":"p","audio":"')


def test_segments_are_built_from_words_at_sentence_ends_and_pauses() -> None:
    words = [Word("Hello", 0.0, 0.4), Word("there.", 0.4, 0.8), Word("And", 0.9, 1.1), Word("then", 1.1, 1.3),
             Word("later", 2.8, 3.0)]
    assert [(s.start, s.end, s.text) for s in segments_from_words(words)] == [
        (0.0, 0.8, "Hello there."), (0.9, 1.3, "And then"), (2.8, 3.0, "later")]
    many = [Word(f"w{i}", i * 0.1, i * 0.1 + 0.1) for i in range(45)]
    assert [len(s.text.split()) for s in segments_from_words(many)] == [30, 15]


def test_transcripts_from_each_reply_shape() -> None:
    whisper = read_transcript(WHISPER, {"text": "Hi there", "words": [{"word": "Hi", "start": 0, "end": 0.5},
                                                                       {"word": "there", "start": 0.5, "end": 1}]},
                              header_duration=None)
    assert whisper.duration == 1.0 and [s.text for s in whisper.segments] == ["Hi there"] and whisper.language is None
    bare = read_transcript(TINY, {"text": "Just text"}, header_duration=2.0)
    assert [(s.start, s.end, s.text) for s in bare.segments] == [(0.0, 2.0, "Just text")]
    with pytest.raises(UpstreamError):
        read_transcript(TURBO, {"words": []}, header_duration=None)
    with pytest.raises(UpstreamError):
        read_transcript(NOVA, {"results": {}}, header_duration=None)


def test_verbose_segments_carry_every_field_openai_requires() -> None:
    transcript = read_transcript(TINY, {"text": "aaaa aaaa aaaa aaaa"}, header_duration=40.0)
    [segment] = from_workers.verbose_body(transcript, task="transcribe", segments=True, words=False)["segments"]
    assert set(segment) == {"id", "seek", "start", "end", "text", "tokens", "temperature", "avg_logprob",
                            "compression_ratio", "no_speech_prob"}
    assert segment["compression_ratio"] == pytest.approx(from_workers.compression_ratio("aaaa aaaa aaaa aaaa"))


def test_speech_voices_formats_and_speed() -> None:
    aura = voice_model("@cf/deepgram/aura-2-en")
    melo = voice_model("@cf/myshell-ai/melotts")
    assert aura is not None and melo is not None
    assert speech_to_workers.speaker_for("Alloy", aura, {"alloy": "luna"}, "tts-1") == "luna"
    assert speech_to_workers.speaker_for("zeus", aura, {}, "tts-1") == "zeus"
    with pytest.raises(InvalidRequestError):
        speech_to_workers.speaker_for("zeus", melo, {}, "m")
    assert speech_to_workers.check_format("opus", aura, "m") == {"encoding": "opus", "container": "ogg"}
    with pytest.raises(InvalidRequestError) as refused:
        speech_to_workers.check_format("flac", melo, "m")
    assert refused.value.param == "response_format"
    with pytest.raises(InvalidRequestError):
        speech_to_workers.check_speed(0.5, "m")
    assert speech_to_workers.speech_input(melo, "Salut", "fr", {}) == {"prompt": "Salut", "lang": "fr"}


OPENAI_VOICES = ("alloy", "ash", "ballad", "coral", "echo", "fable", "onyx", "nova", "sage", "shimmer", "verse",
                 "marin", "cedar")


def test_the_shipped_voice_table_maps_every_openai_voice_to_a_real_speaker() -> None:
    shipped = tomllib.loads((Path(__file__).resolve().parents[2] / "settings.toml").read_text())["speech_voices"]
    assert set(shipped) == set(known_voices())
    for model, table in shipped.items():
        voice = voice_model(model)
        assert voice is not None and set(table) == set(OPENAI_VOICES), model
        assert set(table.values()) <= set(voice.speakers), model


def test_aura_speakers_are_the_catalogues() -> None:
    shared = shared_dir()
    folder = shared / "specs" / "workers-ai-models" if shared else None
    if folder is None or not folder.is_dir():
        pytest.skip("../shared/specs/workers-ai-models not available")
    for name in ("aura-1", "aura-2-en", "aura-2-es"):
        entry = json.loads((folder / f"{name}.json").read_text())
        voice = voice_model(entry["name"])
        assert voice is not None
        assert sorted(voice.speakers) == sorted(entry["schema"]["input"]["properties"]["speaker"]["enum"])
        encodings = set(entry["schema"]["input"]["properties"]["encoding"]["enum"])
        assert {fields["encoding"] for fields in voice.formats.values()} <= encodings


@pytest.mark.parametrize("text", ["x < y > z", "<>", "a <b> c", "Tom & Jerry <3", "&lt; as typed"])
def test_angle_brackets_and_ampersands_are_text_in_both_subtitle_formats(text: str) -> None:
    """A transcript is not markup: SRT carries the characters as they are, WebVTT as character
    references that a WebVTT reader turns back into them (a bare `<` opens a tag there)."""
    cue = subtitles.Cue(0.0, 1.0, text)
    [parsed] = list(srt.parse(subtitles.to_srt([cue])))
    assert parsed.content == text
    vtt = subtitles.to_vtt([cue])
    assert "<" not in vtt.split("\n", 3)[3]  # a WebVTT reader would take it for a tag
    [read] = subtitles.read_vtt(vtt) or []
    assert read.text == text
