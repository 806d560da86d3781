"""The issue's performance targets as named checks that scenarios opt into.

Targets are reported, never enforced by the exit code: on a shared 2-core box a missed target
is a finding to read, while errors (which do fail the run) mean the harness or gateway is broken.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

Check = Callable[[dict[str, Any]], tuple[bool | None, str]]

MEMORY_SLACK_MB = 5.0  # allocator noise on a few-MB heap
MEMORY_SLACK_RATIO = 0.05


def _fmt(value: float | None, unit: str = "ms") -> str:
    return "n/a" if value is None else f"{value:.2f} {unit}"


def throughput_95(side: dict[str, Any]) -> tuple[bool | None, str]:
    ratio = side["vs_baseline"]["rps_ratio"]
    percent = None if ratio is None else ratio * 100
    return (None if ratio is None else ratio >= 0.95), f"throughput {_fmt(percent, '%')} of baseline (>= 95 %)"


def latency_added(side: dict[str, Any]) -> tuple[bool | None, str]:
    added = side["vs_baseline"]["latency_added_ms"]["p50"]
    return (None if added is None else added < 3), f"added p50 latency {_fmt(added)} (< 3 ms)"


def ttft_added(side: dict[str, Any]) -> tuple[bool | None, str]:
    added = side["vs_baseline"]["ttft_added_ms"]["p50"]
    return (None if added is None else added < 3), f"added p50 TTFT {_fmt(added)} (< 3 ms)"


def chunk_forwarding(side: dict[str, Any]) -> tuple[bool | None, str]:
    delay = side["vs_baseline"]["chunk_delay_ms"]
    worst = delay["p99"]
    return (None if worst is None else worst < 1), (
        f"per-chunk delay p50 {_fmt(delay['p50'])}, p99 {_fmt(worst)} (< 1 ms)"
    )


def zero_errors(side: dict[str, Any]) -> tuple[bool | None, str]:
    return side["errors"] == 0, f"{side['errors']} errors of {side['ok'] + side['errors']} requests (0)"


def cpu_per_request(side: dict[str, Any]) -> tuple[bool | None, str]:
    cpu = side.get("cpu_ms_per_request")
    detail = f"CPU {_fmt(cpu)} per request (< 1 ms)"
    floor = side.get("floor_cpu_ms_per_request")
    if floor is not None:
        detail += f"; the stack's floor in this run: {_fmt(floor)}"
    return (None if cpu is None else cpu < 1), detail


def memory_flat(side: dict[str, Any]) -> tuple[bool | None, str]:
    growth, first = side.get("rss_growth_mb"), side.get("rss_first_mb")
    if growth is None or first is None:
        return None, "no memory samples"
    limit = max(MEMORY_SLACK_MB, MEMORY_SLACK_RATIO * first)
    return growth <= limit, f"RSS {first:.1f} -> {first + growth:.1f} MB (growth <= {limit:.1f} MB)"


UPLOAD_MEMORY_SHARE = 0.25


def upload_memory(side: dict[str, Any]) -> tuple[bool | None, str]:
    """An upload is spooled to disk and sent upstream from there: a worker's memory must not grow by
    anything like the file's size (far less than a quarter of it)."""
    added, upload = side.get("peak_rss_added_mb"), side.get("upload_mb")
    if added is None or not upload:
        return None, "no peak memory figure"
    limit = UPLOAD_MEMORY_SHARE * upload
    return added < limit, f"peak RSS rose {added:.1f} MB per worker for {upload:.0f} MiB uploads (< {limit:.1f} MB)"


CHECKS: dict[str, Check] = {
    "upload_memory": upload_memory,
    "throughput_95": throughput_95,
    "latency_added": latency_added,
    "ttft_added": ttft_added,
    "chunk_forwarding": chunk_forwarding,
    "zero_errors": zero_errors,
    "cpu_per_request": cpu_per_request,
    "memory_flat": memory_flat,
}


def evaluate(names: tuple[str, ...], side: dict[str, Any]) -> list[dict[str, Any]]:
    results = []
    for name in names:
        passed, detail = CHECKS[name](side)
        results.append({"target": name, "passed": passed, "detail": detail})
    return results
