"""Start the gateway exactly as the Procfile does (gunicorn + gunicorn.conf.py) for e2e tests."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from tests.support.emulator import EmulatorHandle
from tests.support.processes import free_port, run_service

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
    """The gateway exactly as the Procfile starts it, with the emulator as its upstream."""
    port = free_port()
    command = [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "app:app"]
    url = f"http://127.0.0.1:{port}"
    env = gateway_env(emulator, port, **overrides)
    with run_service(command, name="gateway", health_url=f"{url}/health", env=env) as (process, log):
        yield GatewayHandle(url, API_KEY, log, process)
