"""Start the gateway exactly as the Procfile does (gunicorn + gunicorn.conf.py) for e2e tests."""

from __future__ import annotations

import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from harness import processes
from tests.support.emulator import EmulatorHandle, running

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
    defaults = {
        "STORAGE_DIR": tempfile.mkdtemp(prefix="gateway-storage-"),
        "GATEWAY_API_KEYS": f"{API_KEY},sk-second-key",
        "WEB_CONCURRENCY": "1",
        "GUNICORN_THREADS": "32",
        "UPSTREAM_BACKOFF_SECONDS": "0.05",
    }
    return processes.gateway_env(emulator.url, port, **{**defaults, **overrides})


@contextmanager
def start_gateway(emulator: EmulatorHandle, **overrides: str) -> Iterator[GatewayHandle]:
    """The gateway exactly as the Procfile starts it, with the emulator as its upstream."""
    env = gateway_env(emulator, processes.free_port(), **overrides)
    with running(lambda log_dir: processes.start_gateway(env, log_dir), "gateway") as service:
        yield GatewayHandle(service.url, API_KEY, service.log_path, service.process)
