"""CPU and memory of a process tree, read from /proc while a load phase runs.

CPU is utime+stime of the master and every worker, read before and after the phase, so the
figure includes everything the gateway burns for that load (parsing, JSON, threads, logging).
Memory: each worker's VmRSS just before the phase (at rest, between scenarios), its peak during
the phase (VmHWM, reset to the current RSS when the phase starts, so it is this phase's own peak,
not the process's lifetime one), and VmRSS sampled a few times a second, which gives the growth
over the phase: flat memory under sustained load means the last samples are no higher than those
half-way through.
"""

from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from harness.processes import process_tree

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
SAMPLE_INTERVAL_S = 0.2


def cpu_seconds(pid: int) -> float:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return 0.0
    fields = stat[stat.rindex(")") + 2 :].split()
    # fields[11], fields[12] are utime and stime (the 14th and 15th fields of the whole line).
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def status_kib(pid: int, key: str) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def reset_peak(pid: int) -> bool:
    """Reset a process's VmHWM to its current RSS (`5` to /proc/PID/clear_refs, Linux >= 4.0), so
    the peak read after a phase is that phase's own."""
    try:
        Path(f"/proc/{pid}/clear_refs").write_text("5")
    except OSError:
        return False
    return True


def box_ticks() -> tuple[int, int, int]:
    """Machine-wide (busy, steal, total) jiffies from /proc/stat, to tell a saturated or noisy box."""
    fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + fields[4]  # idle + iowait
    steal = fields[7] if len(fields) > 7 else 0
    total = sum(fields[:8])
    return total - idle - steal, steal, total


def box_usage(before: tuple[int, int, int], after: tuple[int, int, int]) -> dict[str, float]:
    busy, steal, total = (a - b for a, b in zip(after, before, strict=True))
    total = max(total, 1)
    return {"box_busy_pct": 100 * busy / total, "box_steal_pct": 100 * steal / total}


def tree_cpu(pids: list[int]) -> dict[int, float]:
    return {pid: cpu_seconds(pid) for pid in pids}


@dataclass
class PhaseUsage:
    """What one load phase cost the watched process tree."""

    cpu_s: float
    workers: int
    peak_rss_mb: dict[int, float]
    first_rss_mb: float  # workers' total RSS half-way through the phase (after ramp-up and first use)
    last_rss_mb: float  # workers' total RSS when the phase ended
    hwm_mb: dict[int, float]
    rest_rss_mb: dict[int, float] = field(default_factory=dict)  # each worker's RSS just before the phase
    peak_added_mb: float | None = None
    """The most any worker's resident memory rose above where it stood when the phase began: the
    phase's own peak (VmHWM, reset at the start), not the process's lifetime one. None where the
    peak could not be reset."""

    peak_reset: bool = False  # whether hwm_mb is the phase's own peak

    @property
    def peak_rss_per_worker_mb(self) -> float:
        return max(self.peak_rss_mb.values(), default=0.0)

    @property
    def rest_rss_per_worker_mb(self) -> float | None:
        """The largest worker's resident memory at rest, before the phase's load."""
        return max(self.rest_rss_mb.values(), default=None)

    @property
    def phase_peak_per_worker_mb(self) -> float:
        """The largest worker's peak under the phase's load: its own high-water mark where that could
        be reset (a sample every 0.2 s misses a short-lived buffer), else the sampled peak."""
        if self.peak_reset and self.hwm_mb:
            return max(max(self.hwm_mb.values()), self.peak_rss_per_worker_mb)
        return self.peak_rss_per_worker_mb

    @property
    def growth_mb(self) -> float:
        return self.last_rss_mb - self.first_rss_mb


@dataclass
class TreeWatch:
    """Samples a process tree during a phase; ``with TreeWatch(pid) as watch: ...; watch.usage``."""

    root: int
    _before: dict[int, float] = field(default_factory=dict)
    _samples: list[tuple[float, dict[int, int]]] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None
    _rss_before: dict[int, int] = field(default_factory=dict)
    _peak_reset: bool = False
    usage: PhaseUsage | None = None

    def __enter__(self) -> TreeWatch:
        self._before = tree_cpu(process_tree(self.root))
        self._rss_before = {pid: status_kib(pid, "VmRSS") for pid in self._workers()}
        self._peak_reset = all(reset_peak(pid) for pid in self._rss_before)
        self._sample()
        self._thread = threading.Thread(target=self._loop, name="rss-sampler", daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._sample()
        pids = process_tree(self.root)
        after = tree_cpu(pids)
        # A worker that died during the phase takes its CPU with it; a new one starts at zero.
        cpu = sum(after[p] - self._before.get(p, 0.0) for p in after)
        workers = [p for p in pids if p != self.root] or [self.root]
        peak: dict[int, float] = {}
        for _, rss in self._samples:
            for pid, kib in rss.items():
                peak[pid] = max(peak.get(pid, 0.0), kib / 1024)
        self.usage = PhaseUsage(
            cpu_s=cpu,
            workers=len(workers),
            peak_rss_mb=peak,
            first_rss_mb=self._total_at(0.5),
            last_rss_mb=self._total_at(1.0),
            hwm_mb={pid: status_kib(pid, "VmHWM") / 1024 for pid in workers},
            rest_rss_mb={pid: kib / 1024 for pid, kib in self._rss_before.items()},
            peak_added_mb=self._peak_added(workers),
            peak_reset=self._peak_reset,
        )

    def _peak_added(self, workers: list[int]) -> float | None:
        if not self._peak_reset:
            return None
        added = [(status_kib(pid, "VmHWM") - kib) / 1024 for pid, kib in self._rss_before.items() if pid in workers]
        return max(added, default=None)

    def _workers(self) -> list[int]:
        pids = process_tree(self.root)
        return [p for p in pids if p != self.root] or [self.root]

    def _sample(self) -> None:
        self._samples.append((time.monotonic(), {pid: status_kib(pid, "VmRSS") for pid in self._workers()}))

    def _loop(self) -> None:
        while not self._stop.wait(SAMPLE_INTERVAL_S):
            self._sample()

    def _total_at(self, fraction: float) -> float:
        """Total worker RSS at a fraction of the phase's samples.

        Growth is measured over the second half only: the first half holds the ramp-up (more
        concurrent requests, more buffers) and first use of big bodies, which CPython keeps as
        arena space afterwards. Growth under steady load in the second half is what a leak shows.
        """
        if not self._samples:
            return 0.0
        index = min(len(self._samples) - 1, int(fraction * (len(self._samples) - 1)))
        return sum(self._samples[index][1].values()) / 1024
