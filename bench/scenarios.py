"""The scenario registry: small declarative definitions plus one request builder per endpoint family.

A scenario says how hard to push (concurrency, a request cap and a time cap), what the
emulator should do (reply length, time to first token and inter-token delay as factors of the
command-line values) and which family builds its requests. A family builder returns the same
logical request in each dialect: the emulator's native route (baseline), the gateway, the two
floors where they serve the family (``floor``: the OpenAI request relayed by the bare stack;
``relay``: the native request relayed byte for byte) and the peer when the peer supports it.
Adding an endpoint family is one builder in ``FAMILIES`` and a few ``Scenario(...)`` lines in
``SCENARIOS``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from bench import audio

CHAT_MODEL = "@cf/meta/llama-3.3-70b-instruct-fp8-fast"
IMAGE_MODEL = "@cf/stabilityai/stable-diffusion-xl-base-1.0"
EMBEDDING_MODEL = "@cf/baai/bge-base-en-v1.5"
MAX_TOKENS = 4096  # the gateway's DEFAULT_MAX_TOKENS; sent explicitly so every route agrees
NATIVE_EMBEDDING_BATCH = 100  # Workers AI's per-call limit for bge models


@dataclass(frozen=True)
class Endpoints:
    emulator_ai: str  # .../client/v4/accounts/{account}/ai
    emulator_headers: dict[str, str]
    gateway: str
    gateway_headers: dict[str, str]
    peer: str | None = None
    peer_headers: dict[str, str] | None = None
    peer_chat_model: str = CHAT_MODEL
    floor: str | None = None
    relay_ai: str | None = None  # bench.relay_app's address + the emulator's .../accounts/{account}/ai path
    store_server: str | None = None  # a plain static file server on the local store's objects
    put_image: Callable[[int], tuple[str, str]] | None = None  # size in bytes -> (key, the gateway's link)


@dataclass(frozen=True)
class Targets:
    """One logical request in each dialect; each entry is a load-generator call spec."""

    baseline: list[dict[str, Any]]
    gateway: list[dict[str, Any]]
    peer: list[dict[str, Any]] | None = None
    expect_tokens: int | None = None
    floor: list[dict[str, Any]] | None = None  # the gateway's request, answered by bench.floor_app
    relay: list[dict[str, Any]] | None = None  # the baseline's request, relayed by bench.relay_app


@dataclass(frozen=True)
class Scenario:
    name: str
    family: str
    concurrency: int
    max_requests: int
    max_seconds: float
    stream: bool = False
    prompt_bytes: int = 0  # 0: a one-line prompt
    tokens: int = 16  # reply length the emulator is told to produce
    ttft_factor: float = 1.0  # x --ttft-ms
    delay_factor: float = 1.0  # x --token-delay-ms (streams only; non-streamed replies come in one piece)
    inputs: int = 0  # embeddings: texts per request
    object_mb: float = 0  # image retrieval: size of the stored image
    upload_bytes: int = 0  # transcription: the audio file's size
    timeout_s: float = 60.0
    extra_body: tuple[tuple[str, Any], ...] = ()  # extra fields for the gateway's (and peer's) request body
    checks: tuple[str, ...] = ()  # names of targets in bench.targets
    note: str = ""
    default: bool = True  # False: only run when named in --scenarios

    def pacing(self, ttft_ms: float, token_delay_ms: float) -> dict[str, float | int]:
        """Fields for the emulator's control API; the same for the baseline and the gateway."""
        return {
            "ttft_ms": round(ttft_ms * self.ttft_factor, 3),
            "token_delay_ms": round(token_delay_ms * self.delay_factor, 3) if self.stream else 0,
            "tokens": self.tokens,
        }

    def ramp_seconds(self, pacing: dict[str, float | int]) -> float:
        """Spread the load generator's first requests over one request's length (at most 5 s)."""
        if self.concurrency == 1:
            return 0.0
        length_ms = float(pacing["ttft_ms"]) + float(pacing["token_delay_ms"]) * int(pacing["tokens"])
        return min(length_ms / 1000, 5.0)

    def quick(self) -> Scenario:
        """The CI smoke version: same shape, a few requests, well under a second of load each."""
        concurrency = min(self.concurrency, 32)
        return replace(self, concurrency=concurrency, max_requests=min(self.max_requests, max(2, concurrency)),
                       max_seconds=min(self.max_seconds, 2.0), tokens=min(self.tokens, 40),
                       inputs=min(self.inputs, 200), upload_bytes=min(self.upload_bytes, 2 * 1024 * 1024),
                       timeout_s=20.0)


def _json(body: Any) -> str:
    return json.dumps(body, separators=(",", ":"))


def prompt_text(size: int) -> str:
    if size <= 0:
        return "Say hello to the benchmark."
    sentence = "The quick brown fox jumps over the lazy dog while the gateway forwards every byte. "
    return (sentence * (size // len(sentence) + 1))[:size]


def _text_targets(s: Scenario, ep: Endpoints, route: str, text_field: str, text: Any, dialect: str,
                  *, peer_ok: bool) -> Targets:
    """Chat and completions: one native call, the gateway's OpenAI route, and both floors."""
    sse = {"sse": s.stream}
    native = {text_field: text, "stream": s.stream, "max_tokens": MAX_TOKENS}
    openai = {"model": CHAT_MODEL, text_field: text, "stream": s.stream, "max_tokens": MAX_TOKENS,
              **dict(s.extra_body)}
    baseline = {"url": f"{ep.emulator_ai}/run/{CHAT_MODEL}", "headers": ep.emulator_headers,
                "body": _json(native), "dialect": "native", **sse}
    gateway = {"url": f"{ep.gateway}{route}", "headers": ep.gateway_headers,
               "body": _json(openai), "dialect": dialect, **sse}
    peer = None
    if ep.peer and peer_ok:
        body = {**openai, "model": ep.peer_chat_model}
        peer = [{"url": f"{ep.peer}{route}", "headers": ep.peer_headers or {},
                 "body": _json(body), "dialect": dialect, **sse}]
    # Both floors pass Workers AI's events on unchanged, so their streams are counted in that dialect.
    floor = [{**gateway, "url": f"{ep.floor}{route}", "dialect": "native"}] if ep.floor else None
    relay = [{**baseline, "url": f"{ep.relay_ai}/run/{CHAT_MODEL}"}] if ep.relay_ai else None
    return Targets([baseline], [gateway], peer, expect_tokens=s.tokens if s.stream else None, floor=floor,
                   relay=relay)


def chat_targets(s: Scenario, ep: Endpoints) -> Targets:
    messages = [{"role": "user", "content": prompt_text(s.prompt_bytes)}]
    return _text_targets(s, ep, "/v1/chat/completions", "messages", messages, "openai", peer_ok=True)


def completions_targets(s: Scenario, ep: Endpoints) -> Targets:
    """Legacy completions: the native call with a `prompt` instead of `messages`."""
    return _text_targets(s, ep, "/v1/completions", "prompt", prompt_text(s.prompt_bytes), "completions",
                         peer_ok=False)


def responses_targets(s: Scenario, ep: Endpoints) -> Targets:
    """The Responses API against the same native call a direct client would make; `store` is on, as
    OpenAI's default, so the gateway's cost includes writing every response to its store."""
    text = prompt_text(s.prompt_bytes)
    native = {"messages": [{"role": "user", "content": text}], "stream": s.stream, "max_tokens": MAX_TOKENS}
    body = {"model": CHAT_MODEL, "input": text, "stream": s.stream, "max_output_tokens": MAX_TOKENS,
            **dict(s.extra_body)}
    baseline = {"url": f"{ep.emulator_ai}/run/{CHAT_MODEL}", "headers": ep.emulator_headers,
                "body": _json(native), "dialect": "native", "sse": s.stream}
    gateway = {"url": f"{ep.gateway}/v1/responses", "headers": ep.gateway_headers, "body": _json(body),
               "dialect": "responses", "sse": s.stream}
    return Targets([baseline], [gateway], None, expect_tokens=s.tokens if s.stream else None)


def embedding_texts(count: int) -> list[str]:
    return [f"Benchmark passage {i}: the gateway embeds this sentence about item {i * 7 % 97}." for i in range(count)]


def embeddings_targets(s: Scenario, ep: Endpoints) -> Targets:
    """Baseline: what a client talking to Workers AI directly must do, 100-item batches at once."""
    texts = embedding_texts(s.inputs)
    batches = [texts[i : i + NATIVE_EMBEDDING_BATCH] for i in range(0, len(texts), NATIVE_EMBEDDING_BATCH)]
    baseline = [{"url": f"{ep.emulator_ai}/run/{EMBEDDING_MODEL}", "headers": ep.emulator_headers,
                 "body": _json({"text": batch})} for batch in batches]
    gateway = [{"url": f"{ep.gateway}/v1/embeddings", "headers": ep.gateway_headers,
                "body": _json({"model": EMBEDDING_MODEL, "input": texts, **dict(s.extra_body)})}]
    return Targets(baseline, gateway, None)  # released LiteLLM has no Cloudflare embeddings


def image_generation_targets(s: Scenario, ep: Endpoints) -> Targets:
    """Baseline: the raw PNG straight from the model; gateway: the same image stored, and its link."""
    prompt = "A lighthouse on a cliff at dusk, for the benchmark."
    baseline = {"url": f"{ep.emulator_ai}/run/{IMAGE_MODEL}", "headers": ep.emulator_headers,
                "body": _json({"prompt": prompt, "width": 1024, "height": 1024})}
    gateway = {"url": f"{ep.gateway}/v1/images/generations", "headers": ep.gateway_headers,
               "body": _json({"model": IMAGE_MODEL, "prompt": prompt, "size": "1024x1024", **dict(s.extra_body)})}
    return Targets([baseline], [gateway], None)


def image_retrieval_targets(s: Scenario, ep: Endpoints) -> Targets:
    """Baseline: the stored object read straight from the store (a static file server on its directory);
    gateway: the same object at its signed link."""
    assert ep.put_image is not None and ep.store_server is not None
    key, link = ep.put_image(int(s.object_mb * 1024 * 1024))
    baseline = {"url": f"{ep.store_server}/{key}", "headers": {}, "method": "GET"}
    gateway = {"url": link, "headers": {}, "method": "GET"}
    return Targets([baseline], [gateway], None)


FAMILIES: dict[str, Callable[[Scenario, Endpoints], Targets]] = {
    "chat": chat_targets,
    "completions": completions_targets,
    "embeddings": embeddings_targets,
    "responses": responses_targets,
    "images": image_generation_targets,
    "image_get": image_retrieval_targets,
    "transcription": audio.transcription_targets,
    "speech": audio.speech_targets,
}

NON_STREAM_CHECKS = ("cpu_per_request", "memory_flat")
STREAM_CHECKS = ("ttft_added", "chunk_forwarding", "cpu_per_chunk", "memory_flat")

SCENARIOS: list[Scenario] = [
    Scenario("chat_c1", "chat", concurrency=1, max_requests=40, max_seconds=10, checks=NON_STREAM_CHECKS),
    Scenario("chat_c16", "chat", concurrency=16, max_requests=640, max_seconds=10,
             checks=("throughput_95", "latency_added", *NON_STREAM_CHECKS)),
    Scenario("chat_c64", "chat", concurrency=64, max_requests=1600, max_seconds=10, checks=NON_STREAM_CHECKS),
    Scenario("stream_c1", "chat", concurrency=1, max_requests=20, max_seconds=8, stream=True, tokens=20,
             checks=STREAM_CHECKS, note="one stream at a time: the gateway's own per-chunk cost, no contention"),
    Scenario("stream_c64", "chat", concurrency=64, max_requests=1280, max_seconds=10, stream=True, tokens=50,
             checks=(*STREAM_CHECKS, "relay_throughput", "relay_ttft"),
             note="the saturation scenario with --ttft-ms 50 --token-delay-ms 5 (~10,000 events/s)"),
    Scenario("stream_c256", "chat", concurrency=256, max_requests=768, max_seconds=15, stream=True, tokens=50,
             delay_factor=2.5, checks=STREAM_CHECKS,
             note="token delay x2.5: ~5,000 events/s in all, what emulator + load generator drive on 2 cores"),
    Scenario("stream_c1000", "chat", concurrency=1000, max_requests=2000, max_seconds=20, stream=True, tokens=20,
             delay_factor=10, timeout_s=90, checks=("zero_errors", *STREAM_CHECKS),
             note="token delay x10: this one is about holding 1,000 connections, not chunk rate"),
    Scenario("long_prompt", "chat", concurrency=8, max_requests=240, max_seconds=10, prompt_bytes=100_000,
             checks=NON_STREAM_CHECKS, note="100 KB user message"),
    Scenario("long_stream", "chat", concurrency=8, max_requests=8, max_seconds=15, stream=True, tokens=2000,
             delay_factor=0.25, checks=STREAM_CHECKS, note="2,000 tokens, token delay x0.25"),
    Scenario("embeddings_1000", "embeddings", concurrency=2, max_requests=16, max_seconds=10, inputs=1000,
             ttft_factor=0.25, checks=("throughput_95", "memory_flat"),
             note="baseline: ten 100-item native calls sent together"),
    Scenario("embeddings_1000_b64", "embeddings", concurrency=2, max_requests=16, max_seconds=10, inputs=1000,
             ttft_factor=0.25, extra_body=(("encoding_format", "base64"),), checks=("throughput_95", "memory_flat"),
             note="what the OpenAI SDKs send by default: base64 vectors"),
    Scenario("completions_c16", "completions", concurrency=16, max_requests=640, max_seconds=10,
             checks=("throughput_95", "latency_added", *NON_STREAM_CHECKS), note="legacy /v1/completions"),
    Scenario("completions_stream_c64", "completions", concurrency=64, max_requests=640, max_seconds=10,
             stream=True, tokens=50, checks=STREAM_CHECKS, note="legacy /v1/completions, streamed"),
    Scenario("responses_c16", "responses", concurrency=16, max_requests=640, max_seconds=10,
             checks=("throughput_95", "latency_added", *NON_STREAM_CHECKS),
             note="Responses API, stored (the default): one store write per response"),
    Scenario("responses_stream_c64", "responses", concurrency=64, max_requests=320, max_seconds=12, stream=True,
             tokens=50, checks=STREAM_CHECKS, note="Responses API named-event streams, stored"),
    Scenario("image_generate", "images", concurrency=4, max_requests=120, max_seconds=10, ttft_factor=0.25,
             checks=("memory_flat",), note="SDXL 1024x1024, stored in the local store; baseline: the raw PNG"),
    Scenario("image_get_1mb", "image_get", concurrency=16, max_requests=2000, max_seconds=10, object_mb=1,
             checks=("throughput_95", "memory_flat"), note="baseline: the same file from a static file server"),
    Scenario("image_get_12mb", "image_get", concurrency=8, max_requests=400, max_seconds=10, object_mb=12,
             checks=("download_memory", "memory_flat"),
             note="a >10 MB image: worker memory must not grow with its size"),
    Scenario("transcribe_25mib", "transcription", concurrency=2, max_requests=6, max_seconds=15,
             upload_bytes=25 * 1024 * 1024, ttft_factor=0.25, timeout_s=120, checks=("upload_memory",),
             note="a 25 MiB WAV as multipart (gateway) or base64 JSON (baseline) to whisper-large-v3-turbo"),
    Scenario("speech_stream", "speech", concurrency=8, max_requests=48, max_seconds=10, stream=True, tokens=20,
             delay_factor=2.5, checks=("ttft_added", "chunk_forwarding", "memory_flat"),
             note="aura-2-en PCM, one chunk per word as the emulator makes it; first byte and gaps vs direct"),
    Scenario("soak", "chat", concurrency=32, max_requests=20_000, max_seconds=40, ttft_factor=0.25,
             checks=("memory_flat", "cpu_per_request"), default=False,
             note="opt-in: 40 s of steady non-streamed load, for memory flatness"),
]

BY_NAME = {s.name: s for s in SCENARIOS}


def select(names: str | None) -> list[Scenario]:
    if not names:
        return [s for s in SCENARIOS if s.default]
    chosen = []
    for name in (n.strip() for n in names.split(",") if n.strip()):
        if name not in BY_NAME:
            raise SystemExit(f"unknown scenario {name!r}; known: {', '.join(BY_NAME)}")
        chosen.append(BY_NAME[name])
    return chosen
