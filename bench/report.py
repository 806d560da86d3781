"""The printed tables and the JSON file.

Two tables, because one with every figure would not fit a terminal: latency and throughput per
side (baseline, the two floors, gateway, peer), then what each side's server costs in CPU (per
request, and per chunk for streams) and memory (per worker at rest before the load, and at its peak
under it). Added milliseconds are shown with a sign so a faster-than-baseline reading (noise) is
visible as such.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

SIDES = ("baseline", "floor", "relay", "gateway", "peer")


def _num(value: float | None, digits: int = 1) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def _signed(value: float | None, digits: int = 2) -> str:
    return "-" if value is None else f"{value:+.{digits}f}"


def _table(header: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(str(row[i])) for row in [header, *rows]) for i in range(len(header))]

    def line(row: list[str]) -> str:
        cells = zip(row, widths, strict=True)
        return "  ".join(cell.rjust(w) if i else cell.ljust(w) for i, (cell, w) in enumerate(cells))

    lines = [line(row) for row in [header, *rows]]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def latency_table(scenarios: list[dict[str, Any]]) -> str:
    header = ["scenario", "side", "ok", "err", "rps", "x base", "p50 ms", "p95 ms", "p99 ms", "+p50", "+p99",
              "ttft p50", "+ttft p50", "+ttft p99", "chunk +p50", "chunk +p99"]
    rows = []
    for scn in scenarios:
        if scn.get("skipped"):
            rows.append([scn["name"], "skipped", *["" for _ in header[2:]]])
            continue
        for side_name in SIDES:
            side = scn.get(side_name)
            if not side:
                continue
            vs = side.get("vs_baseline") or {}
            lat, ttft = side["latency_ms"], side["ttft_ms"]
            added = vs.get("latency_added_ms", {})
            ttft_added = vs.get("ttft_added_ms", {})
            chunk = vs.get("chunk_delay_ms", {})
            rows.append([
                scn["name"] if side_name == "baseline" else "", side_name, str(side["ok"]), str(side["errors"]),
                _num(side["rps"]), _num(vs.get("rps_ratio"), 3),
                _num(lat["p50"]), _num(lat["p95"]), _num(lat["p99"]),
                _signed(added.get("p50")), _signed(added.get("p99")),
                _num(ttft["p50"]), _signed(ttft_added.get("p50")), _signed(ttft_added.get("p99")),
                _signed(chunk.get("p50"), 3), _signed(chunk.get("p99"), 3),
            ])
    return _table(header, rows)


def resource_table(scenarios: list[dict[str, Any]]) -> str:
    header = ["scenario", "side", "cpu s", "cpu ms/req", "cpu us/chunk", "workers", "rest MB/w", "peak MB/w",
              "+peak MB", "growth MB", "events/s", "loadgen cpu s", "peak in-flight", "box busy %"]
    rows = []
    for scn in scenarios:
        if scn.get("skipped"):
            continue
        for side_name in SIDES:
            side = scn.get(side_name)
            if not side:
                continue
            measured = "cpu_s" in side
            rows.append([
                scn["name"] if side_name == "baseline" else "", side_name,
                _num(side.get("cpu_s"), 2), _num(side.get("cpu_ms_per_request"), 3),
                _num(side.get("cpu_us_per_chunk"), 0),
                str(side.get("workers", "-")), _num(side.get("rss_rest_mb_per_worker")),
                _num(side.get("rss_peak_mb_per_worker")), _signed(side.get("peak_rss_added_mb"), 1),
                _signed(side.get("rss_growth_mb"), 1) if measured else "-",
                _num(side.get("events_per_s"), 0), _num(side["load_generator_cpu_s"], 2),
                str(side["peak_inflight"]), _num(side.get("box_busy_pct"), 0),
            ])
    return _table(header, rows)


def targets_text(scenarios: list[dict[str, Any]]) -> str:
    lines = []
    for scn in scenarios:
        for side_name in ("gateway", "peer"):
            side = scn.get(side_name)
            for check in (side or {}).get("targets", []):
                verdict = {True: "PASS", False: "MISS", None: "n/a "}[check["passed"]]
                lines.append(f"  {verdict}  {scn['name']:<16} {side_name:<8} {check['detail']}")
    return "\n".join(lines)


def notes_text(scenarios: list[dict[str, Any]]) -> str:
    lines = []
    for scn in scenarios:
        pacing = scn.get("pacing", {})
        text = (f"  {scn['name']}: c={scn['concurrency']}, <= {scn['max_requests']} requests"
                f" / {scn['max_seconds']:g} s,"
                f" ttft {pacing.get('ttft_ms')} ms, token delay {pacing.get('token_delay_ms')} ms,"
                f" {pacing.get('tokens')} tokens, starts spread over {scn.get('ramp_s', 0):.2f} s")
        if scn.get("note"):
            text += f"; {scn['note']}"
        if scn.get("skipped"):
            text += f"; SKIPPED: {scn['skipped']}"
        for key in ("error", "probe_error"):
            if scn.get(key):
                text += f"\n      {key.replace('_', ' ').upper()}: {scn[key]}"
        for side_name in SIDES:
            side = scn.get(side_name) or {}
            for sample in side.get("error_samples", [])[:2]:
                text += f"\n      {side_name} error: {sample}"
        lines.append(text)
    return "\n".join(lines)


def render(run: dict[str, Any]) -> str:
    scenarios = run["scenarios"]
    parts = [
        f"gateway: {run['config']['label']}   emulator: ttft {run['args']['ttft_ms']} ms, "
        f"token delay {run['args']['token_delay_ms']} ms   machine: {run['machine']['summary']}",
        "",
        latency_table(scenarios),
        "",
        resource_table(scenarios),
        "",
        "targets:",
        targets_text(scenarios),
        "",
        "scenarios:",
        notes_text(scenarios),
    ]
    if run.get("peer_status"):
        parts += ["", f"peer: {run['peer_status']}"]
    if not scenarios:
        parts = parts[:1]
    if run.get("scale"):
        from bench.scale import render as render_scale

        parts += ["", render_scale(run["scale"])]
    return "\n".join(parts)


def write_json(run: dict[str, Any], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(run, indent=2, sort_keys=False) + "\n")
