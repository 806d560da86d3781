"""Every limit a client can hit answers in OpenAI's shape with the status that says why (400, 413, 415),
never a 500, and before anything goes upstream: JSON body size, multipart size and part count, `n`,
message count, prompt size, metadata size; bodies that lie about their length or are not what they claim."""

from __future__ import annotations

import io
import json
import struct
import zlib
from typing import Any

import pytest

from openai_compat.chat.protocol import MAX_MESSAGES
from tests.service.conftest import LLAMA, Gateway, envelope
from tests.unit.factories import run_url

AUTH = {"Authorization": "Bearer sk-unit"}
SDXL = "@cf/stabilityai/stable-diffusion-xl-base-1.0"
CHAT = {"model": LLAMA, "messages": [{"role": "user", "content": "hi"}]}


def openai_error(reply: Any, status: int, param: str | None = None) -> dict[str, Any]:
    assert reply.status_code == status, (reply.status_code, reply.get_data(as_text=True)[:300])
    error = reply.get_json()["error"]
    assert set(error) == {"message", "type", "param", "code"}
    if param is not None:
        assert error["param"] == param, error
    return error


def png() -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    rows = b"".join(b"\0" + b"\0\0\0" * 8 for _ in range(8))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 8, 8, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))


@pytest.mark.parametrize("settings_overrides", [{"max_request_bytes": 10_000}])
def test_a_json_body_over_the_limit_is_413(gateway: Gateway) -> None:
    big = json.dumps({**CHAT, "messages": [{"role": "user", "content": "x" * 20_000}]}).encode()
    openai_error(gateway.client.post("/v1/chat/completions", data=big, content_type="application/json",
                                     headers=AUTH), 413)
    assert not gateway.runs()


@pytest.mark.parametrize("settings_overrides", [{"max_request_bytes": 50_000}])
def test_a_multipart_body_over_the_limit_is_413(gateway: Gateway) -> None:
    reply = gateway.client.post("/v1/images/variations", headers=AUTH, content_type="multipart/form-data",
                                data={"image": (io.BytesIO(b"\x89PNG" + b"\0" * 60_000), "a.png", "image/png")})
    openai_error(reply, 413)
    assert not gateway.runs()


def test_too_many_multipart_parts_is_413(gateway: Gateway) -> None:
    fields: dict[str, Any] = {f"field{i}": "x" for i in range(80)}
    fields["image"] = (io.BytesIO(png()), "a.png", "image/png")
    reply = gateway.client.post("/v1/images/variations", headers=AUTH, content_type="multipart/form-data",
                                data=fields)
    assert "64 parts" in openai_error(reply, 413)["message"]


def test_an_audio_upload_over_its_own_limit_is_413_naming_the_file(gateway: Gateway) -> None:
    reply = gateway.client.post("/v1/audio/transcriptions", headers=AUTH, content_type="multipart/form-data",
                                data={"model": "whisper-1",
                                      "file": (io.BytesIO(b"RIFF" + b"\0" * (26 * 1024 * 1024)), "a.wav")})
    assert openai_error(reply, 413)["param"] in (None, "file")
    assert not gateway.runs()


@pytest.mark.parametrize(("body", "param"), [
    ({**CHAT, "n": 9}, "n"),
    ({**CHAT, "messages": [{"role": "user", "content": "x"}] * (MAX_MESSAGES + 1)}, "messages"),
    ({**CHAT, "metadata": {f"k{i}": "v" for i in range(17)}}, "metadata"),
    ({**CHAT, "metadata": {"k" * 65: "v"}}, "metadata"),
    ({**CHAT, "metadata": {"k": "v" * 513}}, "metadata"),
])
def test_chat_limits(gateway: Gateway, body: dict[str, Any], param: str) -> None:
    openai_error(gateway.post("/v1/chat/completions", body), 400, param)
    assert not gateway.runs()


def test_the_message_limit_itself_is_accepted(gateway: Gateway) -> None:
    gateway.upstream.post(run_url(LLAMA), json=envelope({"response": "ok"}))
    messages = [{"role": "user", "content": "x"}] * MAX_MESSAGES
    reply = gateway.post("/v1/chat/completions", {**CHAT, "messages": messages})
    assert reply.status_code == 200


@pytest.mark.parametrize(("path", "body", "param"), [
    ("/v1/responses", {"model": LLAMA, "input": "x", "metadata": {f"k{i}": "v" for i in range(17)}}, "metadata"),
    ("/v1/responses", {"model": LLAMA, "input": "x", "metadata": {"k": "v" * 513}}, "metadata"),
    ("/v1/images/generations", {"model": SDXL, "prompt": "p", "n": 11}, "n"),
    ("/v1/images/generations", {"model": SDXL, "prompt": "p" * 32_001}, "prompt"),
    ("/v1/audio/speech", {"model": "tts-1", "voice": "alloy", "input": "x" * 4097}, "input"),
    ("/v1/embeddings", {"model": "@cf/baai/bge-m3", "input": ["x"] * 2049}, "input"),
    ("/v1/moderations", {"input": ["x"] * 33}, "input"),
    ("/v1/rerank", {"query": "q", "documents": ["d"] * 1001}, "documents"),
])
def test_family_limits(gateway: Gateway, path: str, body: dict[str, Any], param: str) -> None:
    openai_error(gateway.post(path, body), 400, param)
    assert not gateway.runs()


def test_a_multipart_body_whose_length_lies_is_a_4xx(gateway: Gateway) -> None:
    body = (b"--XX\r\nContent-Disposition: form-data; name=\"model\"\r\n\r\nwhisper-1\r\n"
            b"--XX\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.wav\"\r\n\r\nRIFF....\r\n--XX--\r\n")
    for declared in (len(body) + 5000, len(body) - 40, 3):
        reply = gateway.client.post("/v1/audio/transcriptions", input_stream=io.BytesIO(body), headers={
            **AUTH, "Content-Type": "multipart/form-data; boundary=XX", "Content-Length": str(declared)})
        assert reply.status_code in (400, 408, 413), (declared, reply.status_code)
        assert set(reply.get_json()["error"]) == {"message", "type", "param", "code"}
    assert not gateway.runs()


@pytest.mark.parametrize("body", [
    b"--XX\r\nContent-Disposition: form-data\r\n\r\nno name\r\n--XX--\r\n",
    b"--XX\r\nContent-Disposition: form-data; filename=\"a.png\"\r\n\r\n\x89PNG\r\n--XX--\r\n",
    b"--XX\r\nno headers at all\r\n--XX--\r\n",
    b"--YY\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nwrong boundary\r\n--YY--\r\n",
    b"not multipart at all",
    b"--XX\r\nContent-Disposition: form-data; name=\"image\"; filename=\"a.png\"\r\n\r\nunterminated",
])
@pytest.mark.parametrize("path", ["/v1/images/edits", "/v1/images/variations", "/v1/audio/transcriptions",
                                  "/v1/audio/translations"])
def test_malformed_multipart_is_a_400(gateway: Gateway, body: bytes, path: str) -> None:
    reply = gateway.client.post(path, data=body, headers={**AUTH, "Content-Type": "multipart/form-data; boundary=XX"})
    openai_error(reply, 400)


@pytest.mark.parametrize("content_type", ["application/json", "text/plain", None])
def test_an_upload_route_refuses_other_media_types_with_415(gateway: Gateway, content_type: str | None) -> None:
    headers = {**AUTH, **({"Content-Type": content_type} if content_type else {})}
    reply = gateway.client.post("/v1/audio/transcriptions", data=b'{"model": "whisper-1"}', headers=headers)
    assert openai_error(reply, 415)["code"] == "unsupported_media_type"


@pytest.mark.parametrize("raw", [b'{"model": "m", "messages": [{"role": "user", "content": "\xff\xfe"}]}',
                                 b"\xef\xbb\xbf" + json.dumps(CHAT).encode(), b'{"model": "\xc3\x28"}'])
def test_invalid_utf8_is_a_400(gateway: Gateway, raw: bytes) -> None:
    gateway.upstream.post(run_url(LLAMA), json=envelope({"response": "ok"}))
    reply = gateway.client.post("/v1/chat/completions", data=raw, content_type="application/json", headers=AUTH)
    assert reply.status_code in (200, 400)  # a byte-order mark is tolerated, as JSON readers do; never a 5xx
    if raw.startswith(b"{"):
        openai_error(reply, 400)


@pytest.mark.parametrize("nesting", [64, 5_000, 200_000])
def test_deeply_nested_json_anywhere_is_a_400(gateway: Gateway, nesting: int) -> None:
    deep = "[" * nesting + "]" * nesting
    raw = json.dumps(CHAT)[:-1] + f', "tools": {deep}}}'
    reply = gateway.client.post("/v1/chat/completions", data=raw, content_type="application/json", headers=AUTH)
    openai_error(reply, 400)


@pytest.mark.parametrize("value", ["1e400", "-1e400", "1" + "0" * 400])
def test_huge_numbers_are_a_400(gateway: Gateway, value: str) -> None:
    raw = json.dumps(CHAT)[:-1] + f', "temperature": {value}}}'
    reply = gateway.client.post("/v1/chat/completions", data=raw, content_type="application/json", headers=AUTH)
    openai_error(reply, 400)
    assert not gateway.runs()


def test_a_number_too_small_to_represent_is_read_as_zero(gateway: Gateway) -> None:
    gateway.upstream.post(run_url(LLAMA), json=envelope({"response": "ok"}))
    raw = json.dumps(CHAT)[:-1] + ', "temperature": 0.' + "0" * 5000 + "1}"
    reply = gateway.client.post("/v1/chat/completions", data=raw, content_type="application/json", headers=AUTH)
    assert reply.status_code == 200
    assert json.loads(gateway.runs(LLAMA)[0].request.body)["temperature"] == 0


@pytest.mark.parametrize(("field", "value"), [("dimensions", None), ("encoding_format", None), ("user", None)])
def test_null_means_not_given(gateway: Gateway, field: str, value: Any) -> None:
    """Clients written for other OpenAI-compatible servers send unset optional fields as null; null has
    one meaning (absent) and is read so, where a boolean sent as a number has none (it is refused)."""
    gateway.upstream.post(run_url("@cf/baai/bge-m3"), json=envelope({"shape": [1, 1024], "data": [[0.5] * 1024]}))
    reply = gateway.post("/v1/embeddings", {"model": "@cf/baai/bge-m3", "input": "x", field: value})
    assert reply.status_code == 200, reply.get_data(as_text=True)
    assert len(reply.get_json()["data"][0]["embedding"]) == 1024
