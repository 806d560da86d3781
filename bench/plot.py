"""The run at a glance: one PNG with, per scenario and per side (the two floors, the gateway, the peer),
throughput as a share of the direct call's, the p50 milliseconds added to the direct call (to the first
token or first byte for streams, where that is what a user waits for), and the CPU per request.

matplotlib with the Agg backend: no display, no GUI toolkit, the same on CI and a laptop. It is
imported only when a plot is made, so the harness runs without it (``--quick`` makes no plot unless
``--plot`` asks for one).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

SIDES = ("floor", "relay", "gateway", "peer")
COLOURS = {"floor": "#9e9e9e", "relay": "#64b5f6", "gateway": "#e65100", "peer": "#7b1fa2"}
LABELS = {"floor": "floor (Flask + requests, translating)", "relay": "pure relay (Flask + urllib3, bytes)",
          "gateway": "gateway", "peer": "peer"}
THROUGHPUT_TARGET = 0.95
ADDED_TARGET_MS = 3.0


def _is_stream(scn: dict[str, Any]) -> bool:
    if "stream" in scn:
        return bool(scn["stream"])
    base = scn.get("baseline") or {}
    return bool(base.get("chunk_gaps"))


def rows(run: dict[str, Any]) -> list[dict[str, Any]]:
    """One row per scenario that ran: its label and, per side, the three plotted figures."""
    out = []
    for scn in run["scenarios"]:
        if scn.get("skipped") or scn.get("error") or not scn.get("baseline"):
            continue
        stream = _is_stream(scn)
        sides = {}
        for name in SIDES:
            side = scn.get(name)
            if not side:
                continue
            vs = side.get("vs_baseline") or {}
            added = (vs.get("ttft_added_ms") if stream else vs.get("latency_added_ms")) or {}
            sides[name] = {"ratio": vs.get("rps_ratio"), "added_ms": added.get("p50"),
                           "cpu_ms": side.get("cpu_ms_per_request")}
        if sides:
            label = f"{scn['name']} (c={scn['concurrency']}{', TTFT' if stream else ''})"
            out.append({"label": label, "sides": sides})
    return out


def write_plot(run: dict[str, Any], path: Path) -> Path | None:
    """Writes the PNG; None when no scenario has a side to compare with the direct call."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

    data = rows(run)
    if not data:
        return None
    present = [name for name in SIDES if any(name in row["sides"] for row in data)]
    bar = 0.8 / len(present)
    height = max(4.0, 0.22 * len(present) * len(data) + 1.8)
    fig, axes = plt.subplots(1, 3, figsize=(17, height), sharey=True, gridspec_kw={"width_ratios": [1, 1.2, 1]})
    panels = [
        ("ratio", "throughput / direct (higher is better)", "linear"),
        ("added_ms", "added p50 ms vs direct: latency, or first token for streams (lower is better)", "symlog"),
        ("cpu_ms", "server CPU ms per request (log)", "log"),
    ]
    for ax, (key, title, scale) in zip(axes, panels, strict=True):
        plotted: list[float] = []
        for i, name in enumerate(present):
            ys, values = [], []
            for row_index, row in enumerate(data):
                value = row["sides"].get(name, {}).get(key)
                if value is None or (scale == "log" and value <= 0):
                    continue
                ys.append(row_index + (i - (len(present) - 1) / 2) * bar)
                values.append(value)
            plotted += values
            bars = ax.barh(ys, values, height=bar * 0.9, color=COLOURS[name], label=LABELS[name])
            fmt = "{:.2f}" if key == "ratio" else "{:+.1f}" if key == "added_ms" else "{:.2g}"
            ax.bar_label(bars, [fmt.format(v) for v in values], fontsize=6, padding=2)
        ax.set_title(title, fontsize=9)
        ax.grid(axis="x", alpha=0.3)
        plain = FuncFormatter(lambda value, _: f"{value:g}")
        if scale == "symlog":
            ax.set_xscale("symlog", linthresh=5)
            ax.axvline(0, color="black", linewidth=0.8)
            ax.axvline(ADDED_TARGET_MS, color="green", linestyle=":", linewidth=1, label="target +3 ms")
            ax.xaxis.set_major_formatter(plain)
        elif scale == "log":
            ax.set_xscale("log")
            if plotted:  # bars start at a power of ten, so their lengths compare honestly
                ax.set_xlim(left=10 ** math.floor(math.log10(min(plotted))))
            ax.xaxis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
            ax.xaxis.set_major_formatter(plain)
            ax.xaxis.set_minor_formatter(NullFormatter())
        else:
            ax.axvline(1.0, color="black", linewidth=0.8)
            ax.axvline(THROUGHPUT_TARGET, color="green", linestyle="--", linewidth=0.8, label="target 0.95")
            top = max((r["sides"][n]["ratio"] or 0) for r in data for n in r["sides"])
            ax.set_xlim(0, max(1.1, top * 1.12))
    axes[0].set_yticks(range(len(data)), [row["label"] for row in data], fontsize=8)
    axes[0].invert_yaxis()
    legend: dict[str, Any] = {}
    for ax in axes[:2]:
        for handle, label in zip(*ax.get_legend_handles_labels(), strict=True):
            legend.setdefault(label, handle)
    order = [LABELS[name] for name in present] + [label for label in legend if label.startswith("target")]
    fig.legend([legend[label] for label in order], order, loc="lower center", ncol=len(order), fontsize=8,
               frameon=False)
    args, machine = run.get("args", {}), run.get("machine", {})
    fig.suptitle(f"python -m bench, {run.get('started_at', '')[:16]}: each side against the same requests sent "
                 f"straight to the emulator (ttft {args.get('ttft_ms')} ms, token delay {args.get('token_delay_ms')}"
                 f" ms); {machine.get('summary', '')}", fontsize=9)
    fig.tight_layout(rect=(0, 0.05, 1, 0.96))
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
