"""Every log line a full run of the gateway writes is read, and none holds a key, a prompt, an output, an
audio or image byte, or a link's signature: the gateway (DEBUG logging, every key kind configured) is
driven through every family, streams, uploads, background runs, errors and upstream faults, all carrying
canary values, and then its whole log is searched for them."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import time
from collections.abc import Iterator

import pytest
import requests
from PIL import Image

from tests.support.audio import make_wav
from tests.support.emulator import EmulatorHandle
from tests.support.gateway import GatewayHandle, start_gateway

LLAMA = "@cf/meta/llama-3.3-70b-instruct-fp8-fast"
CANARY = "Zebracanary7713"
PLAIN_KEY = "sk-hygiene-plain-Q8v2Lm4Rt6"
NAMED_SECRET = "sk-hygiene-named-Wp3Ks9Xc1B"
ADMIN_KEY = "sk-hygiene-admin-Hn5Tq7Yd2F"
METRICS_KEY = "sk-hygiene-metrics-Jg8Pz4Vs6N"
SIGNING = "hygiene-signing-secret-Uc4Ea9Lo2M"


@pytest.fixture(scope="module")
def noisy(emulator: EmulatorHandle) -> Iterator[GatewayHandle]:
    named = json.dumps({"team": {"secret_sha256": hashlib.sha256(NAMED_SECRET.encode()).hexdigest()}})
    with start_gateway(emulator, LOG_LEVEL="DEBUG", GATEWAY_API_KEYS=PLAIN_KEY, NAMED_API_KEYS=named,
                       ADMIN_API_KEY=ADMIN_KEY, METRICS_API_KEY=METRICS_KEY, URL_SIGNING_SECRET=SIGNING) as gateway:
        yield gateway


def png(color: tuple[int, int, int]) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (64, 64), color).save(out, format="PNG")
    return out.getvalue()


def test_no_log_line_holds_a_secret_a_prompt_an_output_or_media_bytes(
    noisy: GatewayHandle, upstream: EmulatorHandle
) -> None:
    url = noisy.base_url
    plain = {"Authorization": f"Bearer {PLAIN_KEY}"}
    named = {"Authorization": f"Bearer {NAMED_SECRET}"}
    prompt = f"Please repeat {CANARY} back"
    upload = png((201, 13, 77))
    wav = make_wav(f"en|{CANARY} spoken aloud.|Another {CANARY} line.", seconds=2.0)
    messages = [{"role": "user", "content": [
        {"type": "text", "text": prompt},
        {"type": "image_url", "image_url": {"url": "data:image/png;base64," + base64.b64encode(upload).decode()}}]},
        {"role": "assistant", "tool_calls": [{"id": "call_1", "type": "function", "function": {
            "name": "lookup", "arguments": json.dumps({"q": CANARY})}}]},
        {"role": "tool", "tool_call_id": "call_1", "content": CANARY}]
    seen: list[int] = []

    def post(path: str, body: dict, headers: dict[str, str] = plain, **kwargs: object) -> requests.Response:
        reply = requests.post(f"{url}{path}", json=body, headers=headers, timeout=30, **kwargs)
        seen.append(reply.status_code)
        return reply

    post("/chat/completions", {"model": "@cf/meta/llama-4-scout-17b-16e-instruct", "messages": messages})
    post("/chat/completions", {"model": LLAMA, "messages": [{"role": "user", "content": prompt}], "stream": True},
         headers=named)
    post("/completions", {"model": LLAMA, "prompt": prompt})
    post("/embeddings", {"model": "@cf/baai/bge-m3", "input": [prompt, CANARY], "encoding_format": "base64"})
    post("/moderations", {"input": prompt})
    post("/rerank", {"query": prompt, "documents": [CANARY, "other"], "return_documents": True})
    stored = post("/responses", {"model": LLAMA, "input": prompt, "instructions": CANARY,
                                 "metadata": {"note": CANARY}}).json()
    post("/responses", {"model": LLAMA, "input": prompt, "previous_response_id": stored["id"], "stream": True})
    background = post("/responses", {"model": LLAMA, "input": prompt, "background": True}).json()
    deadline = time.monotonic() + 15
    while requests.get(f"{url}/responses/{background['id']}", headers=plain, timeout=10).json()["status"] in (
            "queued", "in_progress") and time.monotonic() < deadline:
        time.sleep(0.2)
    requests.get(f"{url}/responses/{stored['id']}/input_items", headers=plain, timeout=10)
    images = post("/images/generations", {"model": "dall-e-2", "prompt": prompt, "size": "256x256", "n": 2}).json()
    link = images["data"][0]["url"]
    fetched = requests.get(link, timeout=10)
    assert fetched.status_code == 200
    for path in ("/images/edits", "/images/variations"):
        reply = requests.post(f"{url}{path}", headers=plain, timeout=30,
                              data={"prompt": prompt, "size": "256x256", "response_format": "b64_json"},
                              files={"image": ("in.png", upload, "image/png")})
        seen.append(reply.status_code)
        output_b64 = reply.json()["data"][0]["b64_json"]
    for path in ("/audio/transcriptions", "/audio/translations"):
        reply = requests.post(f"{url}{path}", headers=plain, timeout=30, data={"model": "whisper-1", "prompt": CANARY},
                              files={"file": ("speech.wav", wav, "audio/wav")})
        seen.append(reply.status_code)
        assert CANARY in reply.text  # the transcript holds the canary: it must not reach the log
    speech = post("/audio/speech", {"model": "tts-1", "voice": "alloy", "input": prompt, "response_format": "pcm"})
    post("/audio/speech", {"model": "tts-1", "voice": "alloy", "input": prompt, "stream_format": "sse"})
    # Failures carry the canary too: validation, refusals, an upstream fault mid-stream, a bad key.
    post("/chat/completions", {"model": LLAMA, "messages": [{"role": "wizard", "content": prompt}]})
    post("/chat/completions", {"model": LLAMA, "messages": [{"role": "user", "content": prompt}], "logprobs": True})
    requests.post(f"{url}/chat/completions", data=f'{{"model": "{CANARY}", "messages": [', headers={
        **plain, "Content-Type": "application/json"}, timeout=10)
    upstream.set_faults(cut_after=2)
    post("/chat/completions", {"model": LLAMA, "messages": [{"role": "user", "content": prompt}], "stream": True})
    upstream.set_faults(fail_status=400, fail_code=5006, fail_message=f"Bad input: {CANARY}")
    post("/chat/completions", {"model": LLAMA, "messages": [{"role": "user", "content": prompt}]})
    upstream.clear_faults()
    post("/chat/completions", {"model": LLAMA, "messages": [{"role": "user", "content": prompt}]},
         headers={"Authorization": f"Bearer sk-wrong-{CANARY}"})
    requests.get(f"{noisy.url}/metrics", headers={"Authorization": f"Bearer {METRICS_KEY}"}, timeout=10)
    requests.get(f"{noisy.url}/admin/usage", headers={"Authorization": f"Bearer {ADMIN_KEY}"}, timeout=10)
    assert seen.count(200) >= 17, seen

    time.sleep(0.5)  # the last access-log lines are written as their responses close
    log = noisy.log_text()
    lines = log.splitlines()
    assert sum('"event":"request"' in line for line in lines) >= 25, "the access log was written"
    signature = link.split("signature=")[1]
    forbidden = {
        "plain key": PLAIN_KEY, "named key": NAMED_SECRET, "admin key": ADMIN_KEY, "metrics key": METRICS_KEY,
        "signing secret": SIGNING, "Cloudflare token": upstream.token, "link signature": signature,
        "prompt or output": CANARY, "image key": link.split("/v1/images/")[1].split("?")[0],
        "uploaded image (base64)": base64.b64encode(upload).decode()[40:80],
        "generated image (base64)": output_b64[100:140],
        "audio (base64)": base64.b64encode(wav).decode()[60:100],
        "speech (base64)": base64.b64encode(speech.content).decode()[20:60],
    }
    leaks = {name: [line[:200] for line in lines if value in line] for name, value in forbidden.items()}
    assert not any(leaks.values()), {name: found for name, found in leaks.items() if found}
