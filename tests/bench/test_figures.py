"""The bench's own arithmetic: what counts as a text event, CPU per chunk, memory at rest and at peak,
the targets read against the two floors, and the plot."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from bench import metrics, targets
from bench.load import is_token_event
from bench.plot import rows, write_plot
from bench.procstat import PhaseUsage


def test_completions_streams_count_their_text_chunks_and_nothing_else() -> None:
    def event(body: Any) -> bytes:
        return json.dumps(body).encode()

    assert is_token_event(event({"choices": [{"text": "Hel", "index": 0}]}), "completions")
    assert not is_token_event(event({"choices": [{"text": "", "finish_reason": "stop"}]}), "completions")
    assert not is_token_event(event({"choices": [], "usage": {"total_tokens": 3}}), "completions")
    # A chat chunk is not a completions chunk, and the other way round.
    assert not is_token_event(event({"choices": [{"delta": {"content": "x"}}]}), "completions")
    assert not is_token_event(event({"choices": [{"text": "x"}]}), "openai")


def load_result(ok: int, wall_s: float, token_counts: dict[str, int]) -> dict[str, Any]:
    return {"ok": ok, "errors": {}, "error_samples": [], "rps": ok / wall_s, "wall_s": wall_s, "peak_inflight": 4,
            "latency_ms": [100.0] * ok, "ttft_ms": [20.0] * ok, "gaps_ms": [5.0] * ok, "token_counts": token_counts,
            "token_mismatch": 0}


def test_cpu_per_chunk_spreads_a_stream_cpu_over_the_text_events_it_carried() -> None:
    usage = PhaseUsage(cpu_s=0.5, workers=2, peak_rss_mb={1: 50.0, 2: 52.0}, first_rss_mb=100, last_rss_mb=101,
                       hwm_mb={1: 58.0, 2: 51.0}, rest_rss_mb={1: 49.0, 2: 50.5}, peak_added_mb=9.0, peak_reset=True)
    side = metrics.side_figures(load_result(10, 2.0, {"48": 5, "52": 5}), usage, load_cpu_s=0.1)
    assert side["events_per_request"] == 50
    assert side["cpu_ms_per_request"] == 50 and side["cpu_us_per_chunk"] == 1000
    assert side["events_per_s"] == 250
    # At rest: the largest worker before the load; at peak: its high-water mark over the phase, which
    # sees a buffer that lived between two 0.2 s samples.
    assert side["rss_rest_mb_per_worker"] == 50.5 and side["rss_peak_mb_per_worker"] == 58.0
    json_only = metrics.side_figures(load_result(10, 2.0, {}), usage, load_cpu_s=0.1)
    assert json_only["cpu_us_per_chunk"] is None and json_only["events_per_s"] is None


def gateway_side(**figures: Any) -> dict[str, Any]:
    return {"rps": 100.0, "ttft_ms": {"p50": 60.0}, "cpu_ms_per_request": 2.0, "cpu_us_per_chunk": 110.0,
            **figures}


def test_stream_targets_are_read_against_the_floor_and_the_pure_relay() -> None:
    refs = {"floor": {"cpu_us_per_chunk": 100.0, "cpu_ms_per_request": 1.6},
            "relay": {"rps": 104.0, "ttft_ms": {"p50": 56.0}, "cpu_us_per_chunk": 90.0}}
    assert targets.cpu_per_chunk(gateway_side(), refs)[0] is True  # 110 us <= 100 + 10 %
    assert targets.cpu_per_chunk(gateway_side(cpu_us_per_chunk=111.0), refs)[0] is False
    assert targets.relay_throughput(gateway_side(), refs)[0] is True  # 100 / 104 = 96 %
    assert targets.relay_throughput(gateway_side(rps=98.0), refs)[0] is False  # 94 %
    assert targets.relay_ttft(gateway_side(), refs)[0] is True  # +4 ms
    assert targets.relay_ttft(gateway_side(ttft_ms={"p50": 61.5}), refs)[0] is False  # +5.5 ms
    assert targets.cpu_per_request(gateway_side(), refs)[0] is True  # 2.0 <= 1.6 + 0.5
    assert targets.cpu_per_request(gateway_side(cpu_ms_per_request=2.2), refs)[0] is False
    # Without the floor in the run there is nothing to compare with: n/a, never a pass.
    assert [targets.CHECKS[name](gateway_side(), {})[0] for name in
            ("cpu_per_chunk", "relay_throughput", "relay_ttft", "cpu_per_request")] == [None] * 4


def scenario(name: str, stream: bool, **sides: dict[str, Any]) -> dict[str, Any]:
    def side(ratio: float, added: float, cpu: float | None) -> dict[str, Any]:
        vs = {"rps_ratio": ratio, "latency_added_ms": {"p50": added * 10}, "ttft_added_ms": {"p50": added}}
        return {"vs_baseline": vs, "cpu_ms_per_request": cpu}

    return {"name": name, "concurrency": 64, "stream": stream, "baseline": {"chunk_gaps": 0},
            **{k: side(*v) for k, v in sides.items()}}


def test_the_plot_compares_each_side_with_direct_and_uses_first_token_times_for_streams(tmp_path: Path) -> None:
    run = {"started_at": "2026-12-02T10:00:00", "args": {"ttft_ms": 50, "token_delay_ms": 5},
           "machine": {"summary": "test"}, "scenarios": [
               scenario("stream_c64", True, floor=(0.88, 6.0, 5.3), relay=(0.9, 20.0, 4.0), gateway=(0.8, 23.0, 8.1)),
               scenario("chat_c16", False, floor=(0.99, 1.5, 1.2), gateway=(0.98, 2.0, None)),
               {"name": "image_get_1mb", "skipped": "404"},
           ]}
    plotted = rows(run)
    assert [row["label"] for row in plotted] == ["stream_c64 (c=64, TTFT)", "chat_c16 (c=64)"]
    assert plotted[0]["sides"]["gateway"] == {"ratio": 0.8, "added_ms": 23.0, "cpu_ms": 8.1}
    assert plotted[1]["sides"]["gateway"]["added_ms"] == 20.0  # latency, not TTFT, for a JSON reply
    path = write_plot(run, tmp_path / "bench.png")
    assert path is not None and path.read_bytes().startswith(b"\x89PNG\r\n\x1a\n") and path.stat().st_size > 20_000
    assert write_plot({"scenarios": [{"name": "x", "skipped": "404"}]}, tmp_path / "none.png") is None
