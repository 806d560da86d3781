"""Start the Workers AI emulator as a real subprocess for tests.

    with start_emulator("--ttft-ms", "50") as emu:
        requests.post(emu.run_url("@cf/meta/llama-3.1-8b-instruct"), headers=emu.headers, json={...})
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests

from harness import processes
from harness.processes import ROOT

DEFAULT_ACCOUNT_ID = processes.ACCOUNT_ID
DEFAULT_TOKEN = processes.EMULATOR_TOKEN


@dataclass
class EmulatorHandle:
    url: str
    token: str
    process: subprocess.Popen[bytes]
    log_path: Path
    account_id: str = DEFAULT_ACCOUNT_ID

    @property
    def base_url(self) -> str:
        """What a Workers AI client calls its API base (``https://api.cloudflare.com/client/v4``)."""
        return self.url + "/client/v4"

    @property
    def account_url(self) -> str:
        return f"{self.base_url}/accounts/{self.account_id}"

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    def run_url(self, model: str) -> str:
        return f"{self.account_url}/ai/run/{model}"

    def run(
        self, model: str, body: Any = None, headers: dict[str, str] | None = None, **kwargs: Any
    ) -> requests.Response:
        """POST a JSON body to ``/ai/run/{model}`` with the right token (extra headers win)."""
        kwargs.setdefault("timeout", 10)
        return requests.post(self.run_url(model), json=body, headers={**self.headers, **(headers or {})}, **kwargs)

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace")

    def set_faults(self, **fields: Any) -> dict[str, Any]:
        """Replace the runtime fault layer (``ttft_ms=..., fail_status=..., fail_times=...``)."""
        response = requests.post(f"{self.url}/__emulator/faults", json=fields, timeout=5)
        response.raise_for_status()
        return response.json()

    def clear_faults(self) -> None:
        requests.delete(f"{self.url}/__emulator/faults", timeout=5).raise_for_status()

    def set_script(self, rules: list[dict[str, Any]]) -> dict[str, Any]:
        """Replace the scripted answers (see ``workers_ai_emulator.scripting``)."""
        response = requests.post(f"{self.url}/__emulator/script", json={"rules": rules}, timeout=5)
        response.raise_for_status()
        return response.json()

    def clear_script(self) -> None:
        requests.delete(f"{self.url}/__emulator/script", timeout=5).raise_for_status()

    def requests(self) -> list[dict[str, Any]]:
        """The last 100 run requests received, oldest first: ``method, path, headers, json``."""
        response = requests.get(f"{self.url}/__emulator/requests", timeout=5)
        response.raise_for_status()
        return response.json()

    def clear_requests(self) -> None:
        requests.delete(f"{self.url}/__emulator/requests", timeout=5).raise_for_status()


def parse_sse(text: str) -> list[Any]:
    """``data:`` events of an SSE body, JSON-decoded; ``[DONE]`` stays a string."""
    events: list[Any] = []
    for block in text.split("\n\n"):
        block = block.strip()
        if not block:
            continue
        if not block.startswith("data: "):
            raise ValueError(f"not a data event: {block!r}")
        payload = block[len("data: ") :]
        events.append(payload if payload == "[DONE]" else json.loads(payload))
    return events


def shared_dir() -> Path | None:
    """``../shared`` next to the repository (or ``$OPENAI_COMPAT_SHARED_DIR``), if present."""
    configured = os.environ.get("OPENAI_COMPAT_SHARED_DIR")
    candidate = Path(configured) if configured else ROOT / ".." / "shared"
    return candidate.resolve() if candidate.is_dir() else None


@contextmanager
def running(start: Any, prefix: str) -> Iterator[processes.Service]:
    """A harness service started with a fresh log folder, stopped and cleaned up on exit."""
    log_dir = Path(tempfile.mkdtemp(prefix=f"{prefix}-"))
    try:
        service = start(log_dir)
        try:
            yield service
        finally:
            service.stop()
    finally:
        shutil.rmtree(log_dir, ignore_errors=True)


@contextmanager
def start_emulator(*cli_args: str, token: str = DEFAULT_TOKEN) -> Iterator[EmulatorHandle]:
    with running(lambda log_dir: processes.start_emulator(log_dir, *cli_args, token=token), "emulator") as service:
        yield EmulatorHandle(url=service.url, token=token, process=service.process, log_path=service.log_path)
