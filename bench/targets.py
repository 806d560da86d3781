"""The issue's performance targets as named checks that scenarios opt into.

Targets are reported, never enforced by the exit code: on a shared 2-core box a missed target
is a finding to read, while errors (which do fail the run) mean the harness or gateway is broken.

A check reads the gateway's (or peer's) side and the two floors measured in the same scenario
(``refs["floor"]``: the bare stack relaying the OpenAI request; ``refs["relay"]``: a pure byte
relay), where a target is stated against them; a floor that did not run makes such a check n/a.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

Refs = dict[str, dict[str, Any] | None]
Check = Callable[[dict[str, Any], Refs], tuple[bool | None, str]]

MEMORY_SLACK_MB = 5.0  # allocator noise on a few-MB heap
MEMORY_SLACK_RATIO = 0.05
CPU_OVER_FLOOR_MS = 0.5  # chat: the gateway's CPU per request may exceed the floor's by this much
CHUNK_CPU_OVER_FLOOR = 0.10  # streams: CPU per chunk at most the floor's + 10 %
RELAY_THROUGHPUT_SHARE = 0.95  # the saturation scenario: within 5 % of the pure relay's throughput
RELAY_TTFT_MS = 5.0  # ... and within 5 ms of its time to first token


def _fmt(value: float | None, unit: str = "ms") -> str:
    return "n/a" if value is None else f"{value:.2f} {unit}"


def throughput_95(side: dict[str, Any], refs: Refs) -> tuple[bool | None, str]:
    ratio = side["vs_baseline"]["rps_ratio"]
    percent = None if ratio is None else ratio * 100
    return (None if ratio is None else ratio >= 0.95), f"throughput {_fmt(percent, '%')} of baseline (>= 95 %)"


def latency_added(side: dict[str, Any], refs: Refs) -> tuple[bool | None, str]:
    added = side["vs_baseline"]["latency_added_ms"]["p50"]
    return (None if added is None else added <= 3), f"added p50 latency {_fmt(added)} (<= 3 ms)"


def ttft_added(side: dict[str, Any], refs: Refs) -> tuple[bool | None, str]:
    added = side["vs_baseline"]["ttft_added_ms"]["p50"]
    return (None if added is None else added <= 3), f"added p50 TTFT {_fmt(added)} (<= 3 ms)"


def chunk_forwarding(side: dict[str, Any], refs: Refs) -> tuple[bool | None, str]:
    delay = side["vs_baseline"]["chunk_delay_ms"]
    worst = delay["p99"]
    return (None if worst is None else worst < 1), (
        f"per-chunk delay p50 {_fmt(delay['p50'])}, p99 {_fmt(worst)} (< 1 ms)"
    )


def zero_errors(side: dict[str, Any], refs: Refs) -> tuple[bool | None, str]:
    return side["errors"] == 0, f"{side['errors']} errors of {side['ok'] + side['errors']} requests (0)"


def cpu_per_request(side: dict[str, Any], refs: Refs) -> tuple[bool | None, str]:
    """At most the floor's CPU per request + 0.5 ms: the stack's own cost is not the gateway's to cut."""
    cpu = side.get("cpu_ms_per_request")
    floor = (refs.get("floor") or {}).get("cpu_ms_per_request")
    if floor is None:
        return None, f"CPU {_fmt(cpu)} per request (no floor for this family)"
    limit = floor + CPU_OVER_FLOOR_MS
    verdict = None if cpu is None else cpu <= limit
    return verdict, f"CPU {_fmt(cpu)} per request (<= floor {_fmt(floor)} + {CPU_OVER_FLOOR_MS:g} = {_fmt(limit)})"


def cpu_per_chunk(side: dict[str, Any], refs: Refs) -> tuple[bool | None, str]:
    """A stream's CPU per text event at most the floor's + 10 %: translating an event may cost a
    little more than passing it on, not a multiple."""
    cpu = side.get("cpu_us_per_chunk")
    floor = (refs.get("floor") or {}).get("cpu_us_per_chunk")
    relay = (refs.get("relay") or {}).get("cpu_us_per_chunk")
    detail = f"CPU {_fmt(cpu, 'us')} per chunk"
    relay_note = f"; the relay's {_fmt(relay, 'us')}" if relay is not None else ""
    if floor is None:
        return None, f"{detail} (no floor for this family){relay_note}"
    limit = floor * (1 + CHUNK_CPU_OVER_FLOOR)
    verdict = None if cpu is None else cpu <= limit
    return verdict, f"{detail} (<= floor {_fmt(floor, 'us')} + 10 % = {_fmt(limit, 'us')}){relay_note}"


def relay_throughput(side: dict[str, Any], refs: Refs) -> tuple[bool | None, str]:
    relay = refs.get("relay")
    if not relay or not relay.get("rps"):
        return None, "throughput vs the pure relay: no relay in this run"
    share = side["rps"] / relay["rps"]
    return share >= RELAY_THROUGHPUT_SHARE, (
        f"throughput {share * 100:.1f} % of the pure relay's ({side['rps']:.1f} vs {relay['rps']:.1f} req/s; >= 95 %)"
    )


def relay_ttft(side: dict[str, Any], refs: Refs) -> tuple[bool | None, str]:
    relay = refs.get("relay")
    mine, theirs = side["ttft_ms"]["p50"], (relay or {}).get("ttft_ms", {}).get("p50")
    if mine is None or theirs is None:
        return None, "time to first token vs the pure relay: no relay figure"
    gap = mine - theirs
    return gap <= RELAY_TTFT_MS, (
        f"TTFT p50 {_fmt(mine)} vs the pure relay's {_fmt(theirs)}: {gap:+.2f} ms (<= +{RELAY_TTFT_MS:g} ms)"
    )


def memory_flat(side: dict[str, Any], refs: Refs) -> tuple[bool | None, str]:
    growth, first = side.get("rss_growth_mb"), side.get("rss_first_mb")
    if growth is None or first is None:
        return None, "no memory samples"
    limit = max(MEMORY_SLACK_MB, MEMORY_SLACK_RATIO * first)
    return growth <= limit, f"RSS {first:.1f} -> {first + growth:.1f} MB (growth <= {limit:.1f} MB)"


UPLOAD_MEMORY_SHARE = 0.25
DOWNLOAD_MEMORY_SHARE = 0.5


def upload_memory(side: dict[str, Any], refs: Refs) -> tuple[bool | None, str]:
    """An upload is spooled to disk and sent upstream from there: a worker's memory must not grow by
    anything like the file's size (far less than a quarter of it)."""
    added, upload = side.get("peak_rss_added_mb"), side.get("upload_mb")
    if added is None or not upload:
        return None, "no peak memory figure"
    limit = UPLOAD_MEMORY_SHARE * upload
    return added < limit, f"peak RSS rose {added:.1f} MB per worker for {upload:.0f} MiB uploads (< {limit:.1f} MB)"


def download_memory(side: dict[str, Any], refs: Refs) -> tuple[bool | None, str]:
    """A stored image is streamed out in chunks: serving several at once must not raise a worker's
    memory by anything like one image's size (reading it whole would add the size per download)."""
    added, size = side.get("peak_rss_added_mb"), side.get("object_mb")
    if added is None or not size:
        return None, "no peak memory figure"
    limit = DOWNLOAD_MEMORY_SHARE * size
    return added < limit, f"peak RSS rose {added:.1f} MB per worker serving {size:g} MB images (< {limit:.1f} MB)"


CHECKS: dict[str, Check] = {
    "upload_memory": upload_memory,
    "download_memory": download_memory,
    "cpu_per_chunk": cpu_per_chunk,
    "relay_throughput": relay_throughput,
    "relay_ttft": relay_ttft,
    "throughput_95": throughput_95,
    "latency_added": latency_added,
    "ttft_added": ttft_added,
    "chunk_forwarding": chunk_forwarding,
    "zero_errors": zero_errors,
    "cpu_per_request": cpu_per_request,
    "memory_flat": memory_flat,
}


def evaluate(names: tuple[str, ...], side: dict[str, Any], refs: Refs | None = None) -> list[dict[str, Any]]:
    results = []
    for name in names:
        passed, detail = CHECKS[name](side, refs or {})
        results.append({"target": name, "passed": passed, "detail": detail})
    return results
