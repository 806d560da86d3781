"""The bench's own arithmetic: what counts as a text event, CPU per chunk, memory at rest and at peak,
and the targets read against the two floors."""

from __future__ import annotations

import json
from typing import Any

from bench import metrics, targets
from bench.load import is_token_event
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
