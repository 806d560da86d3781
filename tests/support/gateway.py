"""Start the gateway exactly as the Procfile does (gunicorn + gunicorn.conf.py) for e2e tests."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import requests

from tests.support.emulator import EmulatorHandle

ROOT = Path(__file__).resolve().parents[2]
API_KEY = "sk-test-gateway-key-0001"


@dataclass
class GatewayHandle:
    url: str
    api_key: str
    log_path: Path
    process: subprocess.Popen[bytes]

    @property
    def base_url(self) -> str:
        return f"{self.url}/v1"

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace")

    def client(self, **kwargs: object):
        import openai

        return openai.OpenAI(base_url=self.base_url, api_key=self.api_key, **kwargs)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def gateway_env(emulator: EmulatorHandle, port: int, **overrides: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GATEWAY_", "CLOUDFLARE_", "MODEL_ALIASES"))}
    env.update(
        CLOUDFLARE_ACCOUNT_ID=emulator.account_id,
        CLOUDFLARE_API_TOKEN=emulator.token,
        WORKERS_AI_BASE_URL=emulator.base_url,
        GATEWAY_API_KEYS=f"{API_KEY},sk-second-key",
        PORT=str(port),
        HOST="127.0.0.1",
        WEB_CONCURRENCY="1",
        GUNICORN_THREADS="32",
        UPSTREAM_BACKOFF_SECONDS="0.05",
        PYTHONUNBUFFERED="1",
    )
    env.update(overrides)
    return env


@contextmanager
def start_gateway(emulator: EmulatorHandle, **overrides: str) -> Iterator[GatewayHandle]:
    port = free_port()
    log = Path(tempfile.mkstemp(prefix="gateway-", suffix=".log")[1])
    with log.open("wb") as sink:
        process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "app:app"],
            cwd=ROOT,
            env=gateway_env(emulator, port, **overrides),
            stdout=sink,
            stderr=subprocess.STDOUT,
        )
    handle = GatewayHandle(f"http://127.0.0.1:{port}", API_KEY, log, process)
    try:
        deadline = time.monotonic() + 20
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"gateway exited early:\n{handle.log_text()}")
            try:
                if requests.get(f"{handle.url}/health", timeout=1).status_code == 200:
                    break
            except requests.ConnectionError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"gateway did not start:\n{handle.log_text()}")
            time.sleep(0.1)
        yield handle
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
        log.unlink(missing_ok=True)
