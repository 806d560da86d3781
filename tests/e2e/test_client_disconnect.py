"""A client that leaves in the middle of a stream: the gateway closes its upstream request within a
second (the emulator counts the streams it is writing), for chat, Responses and speech alike."""

from __future__ import annotations

import time
from typing import Any

import pytest
import requests

from tests.support.emulator import EmulatorHandle
from tests.support.gateway import GatewayHandle

LLAMA = "@cf/meta/llama-3.3-70b-instruct-fp8-fast"
WORDS = " ".join(f"word{i}" for i in range(400))
STREAMS = {
    "chat": ("/chat/completions", {"model": LLAMA, "messages": [{"role": "user", "content": "hi"}], "stream": True}),
    "completions": ("/completions", {"model": LLAMA, "prompt": "hi", "stream": True}),
    "responses": ("/responses", {"model": LLAMA, "input": "hi", "stream": True}),
    "responses_unstored": ("/responses", {"model": LLAMA, "input": "hi", "stream": True, "store": False}),
    "speech": ("/audio/speech", {"model": "tts-1", "voice": "alloy", "input": WORDS, "response_format": "pcm"}),
    "speech_sse": ("/audio/speech", {"model": "tts-1", "voice": "alloy", "input": WORDS, "stream_format": "sse"}),
}


def open_streams(emulator: EmulatorHandle) -> dict[str, Any]:
    return requests.get(f"{emulator.url}/__emulator/streams", timeout=5).json()


def settle(emulator: EmulatorHandle) -> dict[str, Any]:
    """Wait for streams other tests left to end, so this test's stream is the only one counted."""
    deadline = time.monotonic() + 10
    while open_streams(emulator)["open"] and time.monotonic() < deadline:
        time.sleep(0.05)
    counts = open_streams(emulator)
    assert counts["open"] == 0, counts
    return counts


@pytest.mark.parametrize("family", list(STREAMS))
def test_a_departing_client_closes_the_upstream_stream_within_a_second(
    gateway: GatewayHandle, upstream: EmulatorHandle, family: str
) -> None:
    upstream.set_faults(tokens=2000, token_delay_ms=50)  # 100 s of stream if nobody stopped it
    before = settle(upstream)
    path, body = STREAMS[family]
    reply = requests.post(f"{gateway.base_url}{path}", json=body, stream=True, timeout=30,
                          headers={"Authorization": f"Bearer {gateway.api_key}"})
    assert reply.status_code == 200
    received = 0
    for chunk in reply.iter_content(chunk_size=None):
        received += len(chunk)
        if received > 200:
            break
    assert open_streams(upstream)["open"] == 1
    reply.close()  # the client goes away mid-stream
    left = time.monotonic()
    while open_streams(upstream)["open"] and time.monotonic() - left < 5:
        time.sleep(0.02)
    closed_after = time.monotonic() - left
    assert closed_after < 1.0, f"the upstream stream stayed open {closed_after:.2f} s after the client left"
    after = open_streams(upstream)
    assert after["ended_by_client"] == before["ended_by_client"] + 1  # cut by the gateway, not finished
