"""Optional sampling profile of the gateway during each gateway phase (``--profile``), with py-spy.

py-spy samples the gunicorn master and all workers from outside, so the gateway runs unmodified
(exactly as the Procfile starts it) and no profiler overhead lands in its own threads. The raw
collapsed stacks are kept per scenario, and a short summary (the functions the workers are in
most, self and inclusive) is written next to them, which is usually enough to say where the
milliseconds go. Only samples of a thread holding the GIL are kept (``--gil``): a thread blocked
in a socket read looks busy to py-spy otherwise, and the shares would be shares of waiting.
"""

from __future__ import annotations

import shutil
import signal
import subprocess
import sys
from collections import Counter
from pathlib import Path

SAMPLE_RATE_HZ = 250


def py_spy() -> str | None:
    found = Path(sys.executable).with_name("py-spy")
    return str(found) if found.exists() else shutil.which("py-spy")


class Profiler:
    """``with Profiler(pid, out_file): ...`` records until the block ends (SIGINT makes py-spy write)."""

    def __init__(self, pid: int, out_file: Path) -> None:
        self.pid = pid
        self.out_file = out_file
        self.process: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> Profiler:
        binary = py_spy()
        if binary is None:
            raise RuntimeError("--profile needs py-spy: pip install py-spy")
        self.out_file.parent.mkdir(parents=True, exist_ok=True)
        self.process = subprocess.Popen(
            [binary, "record", "--pid", str(self.pid), "--subprocesses", "--rate", str(SAMPLE_RATE_HZ),
             "--gil", "--format", "raw", "--output", str(self.out_file), "--nonblocking"],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        )
        return self

    def __exit__(self, *exc: object) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGINT)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=5)


def _frame_name(frame: str) -> str:
    """``fn (path/to/module.py:123)`` -> ``fn (module.py)``: lines differ per sample, functions do not."""
    name, _, where = frame.partition(" (")
    path = where.rstrip(")").rsplit(":", 1)[0]
    return f"{name} ({'/'.join(Path(path).parts[-2:])})" if path else name


def summarize(raw_file: Path, top: int = 25) -> str:
    """Top functions by self samples and by inclusive samples, from py-spy's collapsed stacks."""
    self_counts: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    total = 0
    for line in raw_file.read_text(errors="replace").splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        frames = [_frame_name(f) for f in stack.split(";")[1:]]  # first entry is the process/thread
        if not frames:
            continue
        total += count
        self_counts[frames[-1]] += count
        for name in set(frames):
            inclusive[name] += count
    if not total:
        return f"{raw_file.name}: no samples\n"
    lines = [f"{raw_file.name}: {total} busy samples at {SAMPLE_RATE_HZ} Hz", "", "self %   function"]
    lines += [f"{100 * n / total:6.1f}   {name}" for name, n in self_counts.most_common(top)]
    lines += ["", "incl %   function"]
    lines += [f"{100 * n / total:6.1f}   {name}" for name, n in inclusive.most_common(top)]
    return "\n".join(lines) + "\n"
