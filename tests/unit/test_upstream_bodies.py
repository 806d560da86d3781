"""Request bodies the upstream client sends (raw, multipart) and binary replies it reads, with `responses`."""

from __future__ import annotations

import io
import tempfile
from collections.abc import Iterator
from typing import IO

import pytest
import requests
import responses
from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Request

from openai_compat.errors import UpstreamError
from openai_compat.upstream import UpstreamStreamError, WorkersAIClient, json_body, multipart_body, raw_body
from openai_compat.upstream import reply as reply_module
from tests.unit.factories import make_settings, run_url

WHISPER = "@cf/openai/whisper-large-v3-turbo"
FLUX = "@cf/black-forest-labs/flux-2-dev"
SDXL = "@cf/stabilityai/stable-diffusion-xl-base-1.0"
WAV = b"RIFF" + bytes(range(256)) * 300  # 76,804 bytes


def envelope(result: object) -> dict:
    return {"result": result, "success": True, "errors": [], "messages": []}


@pytest.fixture
def sleeps() -> list[float]:
    return []


@pytest.fixture
def client(sleeps: list[float]) -> WorkersAIClient:
    return WorkersAIClient(make_settings(), sleep=sleeps.append)


@pytest.fixture
def wav_file() -> Iterator[IO[bytes]]:
    with tempfile.TemporaryFile() as handle:
        handle.write(WAV)  # left at its end, as a freshly spooled upload is
        yield handle


# ---- request bodies ------------------------------------------------------------------------------


@responses.activate
def test_raw_file_body_is_sent_whole_with_its_type_and_length(client: WorkersAIClient, wav_file: IO[bytes]) -> None:
    responses.post(run_url(WHISPER), json=envelope({"text": "hello"}))
    reply = client.run(WHISPER, body=raw_body(wav_file, "audio/wav"))
    assert reply.result == {"text": "hello"}
    sent = responses.calls[0].request
    assert sent.headers["Content-Type"] == "audio/wav"
    assert sent.headers["Content-Length"] == str(len(WAV))
    assert sent.body == WAV
    assert sent.headers["Authorization"] == "Bearer cf-token"


@responses.activate
def test_raw_bytes_body(client: WorkersAIClient) -> None:
    responses.post(run_url(WHISPER), json=envelope({"text": "hi"}))
    client.run(WHISPER, body=raw_body(b"\x00\x01audio", "audio/mpeg"))
    sent = responses.calls[0].request
    assert (sent.headers["Content-Type"], sent.headers["Content-Length"]) == ("audio/mpeg", "7")
    assert sent.body == b"\x00\x01audio"


@responses.activate
def test_retry_after_503_sends_the_whole_file_again(
    client: WorkersAIClient, wav_file: IO[bytes], sleeps: list[float]
) -> None:
    responses.post(run_url(WHISPER), body="unavailable", status=503)
    responses.post(run_url(WHISPER), json=envelope({"text": "hello"}))
    assert client.run(WHISPER, body=raw_body(wav_file, "audio/wav")).result == {"text": "hello"}
    assert len(responses.calls) == 2 and len(sleeps) == 1
    for call in responses.calls:
        assert call.request.body == WAV
        assert call.request.headers["Content-Length"] == str(len(WAV))


@responses.activate
def test_multipart_body_is_a_form_the_server_can_parse(client: WorkersAIClient) -> None:
    png = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64 + b"\r\n--not-a-boundary\r\n"
    responses.post(run_url(FLUX), json=envelope({"image": "aGk="}))
    client.run(FLUX, body=multipart_body([("prompt", "a cat"), ("steps", "4"), ("image", ("a.png", png, "image/png"))]))
    sent = responses.calls[0].request
    content_type = sent.headers["Content-Type"]
    assert content_type.startswith("multipart/form-data; boundary=")
    assert sent.headers["Content-Length"] == str(len(sent.body))
    request = Request(EnvironBuilder(input_stream=io.BytesIO(sent.body), content_type=content_type).get_environ())
    assert request.form.to_dict() == {"prompt": "a cat", "steps": "4"}
    image = request.files["image"]
    assert (image.filename, image.mimetype, image.read()) == ("a.png", "image/png", png)


def test_json_body_is_compact_utf8_json() -> None:
    body = json_body({"prompt": "café", "n": 1})
    assert body.content_type == "application/json"
    assert body.data == '{"prompt":"café","n":1}'.encode()
    assert body.length == len(body.data)


def test_file_body_length_does_not_move_the_file(wav_file: IO[bytes]) -> None:
    wav_file.seek(10)
    body = raw_body(wav_file, "audio/wav")
    assert body.length == len(WAV)
    assert wav_file.tell() == 10
    assert body.rewound().read() == WAV


# ---- binary replies ------------------------------------------------------------------------------


@responses.activate
def test_read_body_returns_a_body_within_the_cap(client: WorkersAIClient) -> None:
    png = b"\x89PNG" + b"p" * 5000
    responses.post(run_url(SDXL), body=png, content_type="image/png", headers={"Content-Length": str(len(png))})
    reply = client.run(SDXL, {"prompt": "cat"})
    assert reply.content_length == len(png)
    assert reply.read_body(len(png)) == png


@responses.activate
def test_read_body_refuses_a_declared_length_over_the_cap_without_reading(
    client: WorkersAIClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    png = b"p" * 5000
    responses.post(run_url(SDXL), body=png, content_type="image/png", headers={"Content-Length": str(len(png))})
    reply = client.run(SDXL, {"prompt": "cat"})
    assert reply.content_length == 5000
    read = []
    monkeypatch.setattr(reply_module, "read_piece", lambda response: read.append(1) or b"")
    with pytest.raises(UpstreamError) as caught:
        reply.read_body(4999)
    assert caught.value.status == 502 and "4999" in caught.value.message
    assert read == []


@responses.activate
def test_read_body_refuses_an_undeclared_body_once_past_the_cap(
    client: WorkersAIClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    pieces = [b"x" * 1000] * 10
    served = []

    remaining = iter(pieces)

    def chunked(response: requests.Response) -> bytes:
        piece = next(remaining, b"")
        if piece:
            served.append(piece)
        return piece

    responses.post(run_url(SDXL), body=b"".join(pieces), content_type="image/png")
    monkeypatch.setattr(reply_module, "read_piece", chunked)
    reply = client.run(SDXL, {"prompt": "cat"})
    assert reply.content_length is None
    with pytest.raises(UpstreamError):
        reply.read_body(2500)
    assert len(served) == 3  # stopped at the first chunk past the cap, not read to the end


@responses.activate
def test_read_body_of_a_json_reply_is_an_upstream_error(client: WorkersAIClient) -> None:
    responses.post(run_url(SDXL), json=envelope({"image": "aGk="}))
    with pytest.raises(UpstreamError):
        client.run(SDXL, {"prompt": "cat"}).read_body(10_000)


@responses.activate
def test_binary_reply_cut_short_of_its_declared_length_raises(client: WorkersAIClient) -> None:
    responses.post(run_url(SDXL), body=b"p" * 1000, content_type="image/png", headers={"Content-Length": "5000"})
    reply = client.run(SDXL, {"prompt": "cat"})
    assert reply.chunks is not None
    with pytest.raises(UpstreamStreamError) as caught:
        b"".join(reply.chunks)
    assert caught.value.status == 502


@responses.activate
def test_binary_reply_ending_quietly_before_its_declared_length_raises(
    client: WorkersAIClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    responses.post(run_url(SDXL), body=b"p" * 1000, content_type="image/png", headers={"Content-Length": "5000"})
    monkeypatch.setattr(requests.Response, "iter_content", lambda self, chunk_size=None: iter([b"p" * 1000]))
    reply = client.run(SDXL, {"prompt": "cat"})
    assert reply.chunks is not None
    chunks = reply.chunks
    assert next(chunks) == b"p" * 1000  # what arrived is passed on first
    with pytest.raises(UpstreamStreamError) as caught:
        next(chunks)
    assert "1000 of 5000" in caught.value.message


@responses.activate
def test_a_complete_binary_reply_iterates_without_error(client: WorkersAIClient) -> None:
    body = bytes(range(256)) * 600
    responses.post(run_url(SDXL), body=body, content_type="image/png", headers={"Content-Length": str(len(body))})
    reply = client.run(SDXL, {"prompt": "cat"})
    assert reply.chunks is not None
    assert b"".join(reply.chunks) == body
