"""The orchestrator's handle on the load-generator process (``python -m bench.load``).

One process serves every phase of a run: specs go in one JSON line at a time and results come
back the same way. Each phase is still bounded on both ends: the generator stops itself after
``ramp_s + max_seconds + timeout_s``, and if no result arrives well after that the process is
killed (and a fresh one started for the next phase).
"""

from __future__ import annotations

import json
import queue
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

from bench.procstat import cpu_seconds
from harness.processes import ROOT

OVERRUN_GRACE_S = 30.0


class LoadGenerator:
    def __init__(self, log_dir: Path) -> None:
        self._log_path = log_dir / "load-generator.log"
        self._process: subprocess.Popen[str] | None = None
        self._lines: queue.Queue[str] = queue.Queue()

    def _start(self) -> subprocess.Popen[str]:
        with self._log_path.open("a") as log:
            process = subprocess.Popen([sys.executable, "-m", "bench.load"], cwd=ROOT, stdin=subprocess.PIPE,
                                       stdout=subprocess.PIPE, stderr=log, text=True, bufsize=1)
        self._lines = queue.Queue()
        lines = self._lines
        stdout = process.stdout
        assert stdout is not None

        def pump() -> None:  # a blocking readline cannot time out; a thread and a queue can
            for line in stdout:
                lines.put(line)
            lines.put("")  # EOF: the process is gone

        threading.Thread(target=pump, name="load-generator-reader", daemon=True).start()
        return process

    def run(self, spec: dict[str, Any]) -> tuple[dict[str, Any], float]:
        """One phase: the generator's figures and the CPU seconds it used for them."""
        if self._process is None or self._process.poll() is not None:
            self._process = self._start()
        process = self._process
        assert process.stdin is not None
        limit = float(spec["max_seconds"]) + float(spec.get("ramp_s", 0)) + float(spec.get("timeout_s", 60))
        limit += OVERRUN_GRACE_S
        started = time.monotonic()
        cpu_before = cpu_seconds(process.pid)
        process.stdin.write(json.dumps(spec) + "\n")
        process.stdin.flush()
        try:
            line = self._lines.get(timeout=limit)
        except queue.Empty:
            self.close(force=True)
            raise RuntimeError(f"load generator overran its {limit:.0f} s limit") from None
        if not line:
            self._process = None
            raise RuntimeError(f"load generator died ({process.wait()}): {self._log_tail()}")
        cpu = cpu_seconds(process.pid) - cpu_before
        result = json.loads(line)
        result["elapsed_s"] = time.monotonic() - started
        return result, cpu

    def _log_tail(self) -> str:
        try:
            return self._log_path.read_text(errors="replace")[-800:]
        except OSError:
            return ""

    def close(self, force: bool = False) -> None:
        process, self._process = self._process, None
        if process is None or process.poll() is not None:
            return
        if not force and process.stdin is not None:
            process.stdin.close()  # ends its read loop
            try:
                process.wait(timeout=5)
                return
            except subprocess.TimeoutExpired:
                pass
        process.kill()
        process.wait(timeout=5)
