"""The load generator: ``python -m bench.load`` reads JSON specs on stdin, prints JSON results.

It runs in its own process so its CPU use is neither charged to the gateway nor stolen from the
orchestrator's /proc sampling, and so one asyncio loop (aiohttp) can hold 1,000 concurrent streams
on one core. It is a closed loop: ``concurrency`` tasks, their starts spread over ``ramp_s``, each
send one logical request after another until ``max_requests`` have been started or
``max_seconds`` (after the ramp) have passed, whichever comes first; a hard deadline
(``ramp_s + max_seconds + timeout_s``) cancels anything still running, so a run always ends.

A logical request is one or more HTTP calls sent together (the embeddings baseline is ten
100-item batches); its latency is the time until the last of them finished.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp

MAX_ERROR_SAMPLES = 5


@dataclass
class Call:
    url: str
    headers: dict[str, str]
    body: bytes
    sse: bool = False
    # "native" ({"response": ...}), "openai" (chat.completion.chunk), "completions" (text_completion chunks),
    # "responses" (named events)
    dialect: str = "native"
    method: str = "POST"
    byte_stream: bool = False  # a binary body (speech): each piece read is timed like a token

    @classmethod
    def from_spec(cls, raw: dict[str, Any]) -> Call:
        # A body too big for a JSON line (an audio upload) comes as a file, read once per phase.
        body = Path(raw["body_file"]).read_bytes() if raw.get("body_file") else raw.get("body", "").encode()
        return cls(raw["url"], raw.get("headers", {}), body, raw.get("sse", False),
                   raw.get("dialect", "native"), raw.get("method", "POST"), raw.get("byte_stream", False))


@dataclass
class Outcome:
    """One HTTP call's result; times are ``time.perf_counter()`` values."""

    ok: bool
    error: str | None = None
    detail: str = ""
    first_token: float | None = None
    end: float = 0.0
    tokens: int = 0
    gaps: list[float] = field(default_factory=list)


@dataclass
class Tally:
    """Everything the parent needs, kept as raw samples so all statistics live in one place."""

    gap_cap: int
    latency_ms: list[float] = field(default_factory=list)
    ttft_ms: list[float] = field(default_factory=list)
    gaps_ms: list[float] = field(default_factory=list)
    errors: dict[str, int] = field(default_factory=dict)
    error_samples: list[str] = field(default_factory=list)
    token_counts: dict[int, int] = field(default_factory=dict)
    ok: int = 0
    token_mismatch: int = 0  # complete streams whose text-event count differs from the reply length
    started: int = 0
    first_start: float = 0.0
    last_end: float = 0.0
    inflight: int = 0
    peak_inflight: int = 0

    def error(self, kind: str, detail: str) -> None:
        self.errors[kind] = self.errors.get(kind, 0) + 1
        if len(self.error_samples) < MAX_ERROR_SAMPLES:
            self.error_samples.append(f"{kind}: {detail}"[:300])


def is_token_event(payload: bytes, dialect: str) -> bool:
    """Whether an SSE data payload carries generated text (role, usage and finish events do not).

    Both dialects are JSON-decoded so the load generator spends the same effort per event on the
    baseline and on the gateway.
    """
    try:
        event = json.loads(payload)
    except ValueError:
        return False
    if not isinstance(event, dict):
        return False
    if dialect == "native":
        return bool(event.get("response"))
    if dialect == "responses":
        return event.get("type") == "response.output_text.delta" and bool(event.get("delta"))
    choices = event.get("choices") or []
    if not choices or not isinstance(choices[0], dict):
        return False
    if dialect == "completions":
        return bool(choices[0].get("text"))
    return bool((choices[0].get("delta") or {}).get("content"))


async def read_sse(response: aiohttp.ClientResponse, call: Call, outcome: Outcome) -> None:
    buffer = b""
    last_token: float | None = None
    done = False
    async for piece in response.content.iter_any():
        now = time.perf_counter()
        buffer += piece
        *events, buffer = buffer.split(b"\n\n")
        for raw in events:
            for line in raw.split(b"\n"):
                if not line.startswith(b"data:"):
                    continue  # comments (": ping" heartbeats) and named-event lines
                payload = line[5:].strip()
                if payload == b"[DONE]" or (call.dialect == "responses" and b'"response.completed"' in payload):
                    done = True  # the Responses API ends with its completed event, not [DONE]
                elif is_token_event(payload, call.dialect):
                    outcome.tokens += 1
                    if last_token is None:
                        outcome.first_token = now
                    else:
                        outcome.gaps.append((now - last_token) * 1000)
                    last_token = now
    if not done:
        outcome.ok, outcome.error, outcome.detail = False, "incomplete_stream", "ended without data: [DONE]"


async def read_bytes(response: aiohttp.ClientResponse, outcome: Outcome) -> None:
    """A binary stream: the first piece's arrival and the gaps between pieces, as for tokens."""
    last: float | None = None
    async for piece in response.content.iter_any():
        if not piece:
            continue
        now = time.perf_counter()
        outcome.tokens += 1
        if last is None:
            outcome.first_token = now
        else:
            outcome.gaps.append((now - last) * 1000)
        last = now


async def send(session: aiohttp.ClientSession, call: Call) -> Outcome:
    outcome = Outcome(ok=True)
    try:
        async with session.request(call.method, call.url, data=call.body or None, headers=call.headers) as response:
            if response.status != 200:
                text = (await response.read())[:200].decode(errors="replace")
                outcome.ok, outcome.error, outcome.detail = False, f"http_{response.status}", text
            elif call.sse:
                await read_sse(response, call, outcome)
            elif call.byte_stream:
                await read_bytes(response, outcome)
            else:
                await response.read()
    except asyncio.CancelledError:
        raise
    except Exception as exc:  # every failure is a data point, never a crash of the run
        outcome.ok, outcome.error, outcome.detail = False, type(exc).__name__, str(exc)
    outcome.end = time.perf_counter()
    if outcome.ok and (call.sse or call.byte_stream) and outcome.first_token is None:
        outcome.first_token = outcome.end  # a stream without text: count its end as first token
    return outcome


async def one_request(
    session: aiohttp.ClientSession, calls: list[Call], tally: Tally, expect_tokens: int | None
) -> None:
    started = time.perf_counter()
    tally.inflight += 1
    tally.peak_inflight = max(tally.peak_inflight, tally.inflight)
    try:
        outcomes = await asyncio.gather(*(send(session, call) for call in calls))
    finally:
        tally.inflight -= 1
    end = max(o.end for o in outcomes)
    tally.last_end = max(tally.last_end, end)
    failed = [o for o in outcomes if not o.ok]
    if failed:
        tally.error(failed[0].error or "error", failed[0].detail)
        return
    tally.ok += 1
    tally.latency_ms.append((end - started) * 1000)
    firsts = [o.first_token for o in outcomes if o.first_token is not None]
    if firsts:
        tally.ttft_ms.append((max(firsts) - started) * 1000)
    tokens = sum(o.tokens for o in outcomes)
    if any(c.sse or c.byte_stream for c in calls):
        tally.token_counts[tokens] = tally.token_counts.get(tokens, 0) + 1
        if expect_tokens is not None and tokens != expect_tokens:
            tally.token_mismatch += 1
    for outcome in outcomes:
        room = tally.gap_cap - len(tally.gaps_ms)
        if room > 0:
            tally.gaps_ms.extend(outcome.gaps[:room])


async def run(spec: dict[str, Any]) -> dict[str, Any]:
    calls = [Call.from_spec(c) for c in spec["calls"]]
    concurrency = int(spec["concurrency"])
    max_requests = int(spec["max_requests"])
    max_seconds = float(spec["max_seconds"])
    timeout_s = float(spec.get("timeout_s", 60))
    tally = Tally(gap_cap=int(spec.get("gap_cap", 200_000)))
    connector = aiohttp.TCPConnector(limit=0, limit_per_host=0, ttl_dns_cache=None)
    timeout = aiohttp.ClientTimeout(total=timeout_s, sock_connect=10)
    tally.first_start = time.perf_counter()
    stop_starting = tally.first_start + max_seconds + float(spec.get("ramp_s", 0.0))

    workers = min(concurrency, max_requests)
    ramp_s = float(spec.get("ramp_s", 0.0))

    async def worker(index: int) -> None:
        # Staggered starts: with identical request lengths, tasks started together stay in lockstep
        # and every first token of the run arrives in one burst, which measures queueing, not overhead.
        await asyncio.sleep(ramp_s * index / workers)
        while tally.started < max_requests and time.perf_counter() < stop_starting:
            tally.started += 1
            await one_request(session, calls, tally, spec.get("expect_tokens"))

    async with aiohttp.ClientSession(connector=connector, timeout=timeout, auto_decompress=False) as session:
        tasks = [asyncio.create_task(worker(i)) for i in range(workers)]
        _, pending = await asyncio.wait(tasks, timeout=max_seconds + ramp_s + timeout_s + 5)
        for task in pending:
            task.cancel()
        cancelled = len(pending)
        if pending:
            await asyncio.wait(pending, timeout=5)
    if cancelled:
        tally.errors["cancelled_at_deadline"] = tally.errors.get("cancelled_at_deadline", 0) + cancelled
    wall = max(tally.last_end - tally.first_start, 1e-9)
    return {
        "ok": tally.ok,
        "started": tally.started,
        "wall_s": wall,
        "rps": tally.ok / wall,
        "latency_ms": tally.latency_ms,
        "ttft_ms": tally.ttft_ms,
        "gaps_ms": tally.gaps_ms,
        "errors": tally.errors,
        "error_samples": tally.error_samples,
        "token_counts": {str(k): v for k, v in sorted(tally.token_counts.items())},
        "token_mismatch": tally.token_mismatch,
        "peak_inflight": tally.peak_inflight,
    }


def main() -> None:
    """One JSON spec per line in, one JSON result per line out, until stdin closes.

    The process lives for the whole benchmark (see ``bench.loadclient``), so a phase does not pay
    for an interpreter and aiohttp start-up, and its CPU can be read from /proc around each phase.
    """
    for line in sys.stdin:
        if line.strip():
            result = asyncio.run(run(json.loads(line)))
            sys.stdout.write(json.dumps(result) + "\n")
            sys.stdout.flush()


if __name__ == "__main__":
    main()
