"""The emulator's network-level faults (reset, hang, malformed JSON, wrong content type, truncated and
oversized binary bodies) and its count of open streams, which the gateway's fault tests rely on."""

from __future__ import annotations

import time

import pytest
import requests

from tests.support.emulator import EmulatorHandle

LLAMA = "@cf/meta/llama-3.3-70b-instruct-fp8-fast"
SDXL = "@cf/stabilityai/stable-diffusion-xl-base-1.0"
BODY = {"messages": [{"role": "user", "content": "hi"}]}


def streams(emu: EmulatorHandle) -> dict[str, int]:
    return requests.get(f"{emu.url}/__emulator/streams", timeout=5).json()


def test_reset_drops_the_connection_and_fail_times_makes_it_transient(emu: EmulatorHandle) -> None:
    emu.set_faults(reset=True, fail_times=1)
    with pytest.raises(requests.ConnectionError, match="reset"):
        emu.run(LLAMA, BODY)
    assert emu.run(LLAMA, BODY).json()["result"]["response"] == "Hello! You said: hi"


def test_hang_answers_nothing_for_that_long(emu: EmulatorHandle) -> None:
    started = time.monotonic()
    with pytest.raises(requests.ReadTimeout):
        emu.run(LLAMA, BODY, headers={"x-emulator-hang-ms": "3000"}, timeout=0.5)
    assert emu.run(LLAMA, BODY, headers={"x-emulator-hang-ms": "300"}).status_code == 200
    assert time.monotonic() - started >= 0.8


def test_malformed_json_cuts_the_body_and_a_stream_event(emu: EmulatorHandle) -> None:
    reply = emu.run(LLAMA, BODY, headers={"x-emulator-malformed-json": "true"})
    assert reply.status_code == 200 and reply.headers["Content-Type"].startswith("application/json")
    with pytest.raises(ValueError):
        reply.json()
    streamed = emu.run(LLAMA, {**BODY, "stream": True}, headers={"x-emulator-malformed-json": "true"}).text
    frames = [f for f in streamed.split("\n\n") if f]
    assert frames[0] == 'data: {"response":"Hello!","p":"abc"}' and frames[1].endswith('"')  # cut in half
    assert frames[-1] == "data: [DONE]"


def test_content_type_replaces_the_reply_content_type(emu: EmulatorHandle) -> None:
    reply = emu.run(LLAMA, BODY, headers={"x-emulator-content-type": "text/html"})
    assert reply.headers["Content-Type"] == "text/html" and reply.json()["success"] is True
    stream = emu.run(LLAMA, {**BODY, "stream": True}, headers={"x-emulator-content-type": "application/json"})
    assert stream.headers["Content-Type"] == "application/json" and stream.text.startswith("data: ")


def test_binary_bodies_can_be_truncated_or_padded(emu: EmulatorHandle) -> None:
    whole = emu.run(SDXL, {"prompt": "a lake"}).content
    padded = emu.run(SDXL, {"prompt": "a lake"}, headers={"x-emulator-pad-bytes": "5000"})
    assert padded.content == whole + b"\0" * 5000 and padded.headers["Content-Length"] == str(len(whole) + 5000)
    with pytest.raises(requests.exceptions.ChunkedEncodingError, match=f"100 bytes read, {len(whole) - 100} more"):
        emu.run(SDXL, {"prompt": "a lake"}, headers={"x-emulator-truncate-bytes": "100"})


def test_a_reader_leaving_closes_the_stream_and_it_stops_counting(emu: EmulatorHandle) -> None:
    before = streams(emu)
    with requests.post(emu.run_url(LLAMA), json={**BODY, "stream": True}, stream=True, timeout=10,
                       headers={**emu.headers, "x-emulator-tokens": "1000", "x-emulator-token-delay-ms": "50"}) as r:
        lines = r.iter_lines()
        next(lines)
        assert streams(emu)["open"] == before["open"] + 1
    deadline = time.monotonic() + 1.0
    while streams(emu)["open"] > before["open"] and time.monotonic() < deadline:
        time.sleep(0.02)
    after = streams(emu)
    assert after["open"] == before["open"] and after["ended_by_client"] == before["ended_by_client"] + 1
    assert after["opened"] == before["opened"] + 1


def test_speech_streams_are_counted_too(emu: EmulatorHandle) -> None:
    before = streams(emu)
    reply = emu.run("@cf/deepgram/aura-2-en", {"text": "one two three", "encoding": "linear16", "container": "none"})
    assert reply.status_code == 200 and reply.content
    after = streams(emu)
    assert after["opened"] == before["opened"] + 1 and after["open"] == before["open"]


def test_new_fault_fields_are_validated(emu: EmulatorHandle) -> None:
    bad = requests.post(f"{emu.url}/__emulator/faults", json={"truncate_bytes": -1}, timeout=5)
    assert bad.status_code == 400
    assert emu.set_faults(hang_ms=0, pad_bytes=3, content_type="text/plain")["faults"]["runtime"] == {
        "hang_ms": 0.0, "pad_bytes": 3, "content_type": "text/plain"}
