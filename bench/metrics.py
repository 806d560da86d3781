"""Statistics: raw load-generator samples in, per-side figures and gateway-versus-baseline deltas out.

Everything the issue asks for is a difference or a ratio to the baseline run of the same load,
so the emulator's own pacing (and the shared CPU) cancels out as far as it can.
"""

from __future__ import annotations

import math
from typing import Any

from bench.procstat import CLOCK_TICKS, PhaseUsage

PERCENTILES = (50, 95, 99)
MIN_CPU_S = 5 / CLOCK_TICKS


def percentile(values: list[float], pct: float) -> float | None:
    """Linear interpolation between closest ranks; ``None`` for no data (not 0, which is a value)."""
    if not values:
        return None
    ordered = sorted(values)
    rank = (len(ordered) - 1) * pct / 100
    low, high = math.floor(rank), math.ceil(rank)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def spread(values: list[float], pcts: tuple[int, ...] = PERCENTILES) -> dict[str, float | None]:
    return {f"p{p}": percentile(values, p) for p in pcts}


def _minus(a: float | None, b: float | None) -> float | None:
    return None if a is None or b is None else a - b


def _ratio(a: float | None, b: float | None) -> float | None:
    return None if a is None or b is None or b == 0 else a / b


def mean_events(token_counts: dict[str, int]) -> float | None:
    """Text events per complete stream (the load generator's histogram: events -> streams)."""
    streams = sum(token_counts.values())
    return sum(int(k) * v for k, v in token_counts.items()) / streams if streams else None


def side_figures(result: dict[str, Any], usage: PhaseUsage | None, load_cpu_s: float) -> dict[str, Any]:
    """One side's figures (baseline, floor, relay, gateway or peer) from one load-generator run."""
    errors = sum(result["errors"].values())
    events = mean_events(result["token_counts"])
    figures: dict[str, Any] = {
        "ok": result["ok"],
        "errors": errors,
        "error_kinds": result["errors"],
        "error_samples": result["error_samples"],
        "rps": result["rps"],
        "wall_s": result["wall_s"],
        "peak_inflight": result["peak_inflight"],
        "latency_ms": spread(result["latency_ms"]),
        "ttft_ms": spread(result["ttft_ms"]),
        "chunk_gap_ms": spread(result["gaps_ms"], (50, 99)),
        "chunk_gaps": len(result["gaps_ms"]),
        "token_counts": result["token_counts"],
        "token_mismatch": result["token_mismatch"],
        "events_per_request": events,
        # Text events (chunks) delivered per second over the whole phase: the load a stream scenario put on.
        "events_per_s": events * result["ok"] / result["wall_s"] if events and result["wall_s"] else None,
        "load_generator_cpu_s": load_cpu_s,
    }
    if usage is not None:
        # /proc counts CPU in clock ticks (10 ms): below a few ticks a per-request figure is noise.
        per_request = usage.cpu_s * 1000 / result["ok"] if result["ok"] and usage.cpu_s >= MIN_CPU_S else None
        figures.update(
            cpu_s=usage.cpu_s,
            cpu_ms_per_request=per_request,
            # A stream's CPU spread over the text events it carried: what relaying one chunk costs.
            cpu_us_per_chunk=per_request * 1000 / events if per_request is not None and events else None,
            workers=usage.workers,
            rss_rest_mb_per_worker=usage.rest_rss_per_worker_mb,
            rss_peak_mb_per_worker=usage.phase_peak_per_worker_mb,
            peak_rss_mb_per_worker=usage.peak_rss_per_worker_mb,
            rss_first_mb=usage.first_rss_mb,
            rss_last_mb=usage.last_rss_mb,
            rss_growth_mb=usage.growth_mb,
            vm_hwm_mb=usage.hwm_mb,
            peak_rss_added_mb=usage.peak_added_mb,
        )
    return figures


def compare(side: dict[str, Any], base: dict[str, Any]) -> dict[str, Any]:
    """What the gateway (or peer) adds: ms over the baseline and ratios to it."""
    out: dict[str, Any] = {"rps_ratio": _ratio(side["rps"], base["rps"])}
    for metric in ("latency_ms", "ttft_ms"):
        stem = metric.removesuffix("_ms")
        out[f"{stem}_added_ms"] = {p: _minus(side[metric][p], base[metric][p]) for p in side[metric]}
        out[f"{stem}_ratio"] = {p: _ratio(side[metric][p], base[metric][p]) for p in side[metric]}
    # Per-chunk forwarding delay: how much longer the gaps between text events are through the
    # gateway than straight from the emulator, which paces them identically on both runs.
    out["chunk_delay_ms"] = {p: _minus(side["chunk_gap_ms"][p], base["chunk_gap_ms"][p]) for p in ("p50", "p99")}
    return out
