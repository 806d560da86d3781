"""Start the gateway exactly as the Procfile does (gunicorn + gunicorn.conf.py) for e2e tests."""

from __future__ import annotations

import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness import processes
from tests.support.emulator import EmulatorHandle, running

API_KEY = "sk-test-gateway-key-0001"


@dataclass
class GatewayHandle:
    url: str
    api_key: str
    log_path: Path
    process: subprocess.Popen[bytes]
    clients: list[Any] = field(default_factory=list)

    @property
    def base_url(self) -> str:
        return f"{self.url}/v1"

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace")

    def client(self, **kwargs: object):
        import openai

        client = openai.OpenAI(base_url=self.base_url, api_key=self.api_key, **kwargs)
        self.clients.append(client)
        return client

    def close_clients(self) -> None:
        """Idle keep-alive connections would make gunicorn wait out its shutdown grace."""
        for client in self.clients:
            client.close()
        self.clients.clear()


def gateway_env(emulator: EmulatorHandle, port: int, **overrides: str) -> dict[str, str]:
    defaults = {
        "STORAGE_DIR": tempfile.mkdtemp(prefix="gateway-storage-"),
        "GATEWAY_API_KEYS": f"{API_KEY},sk-second-key",
        "WEB_CONCURRENCY": "1",
        "GUNICORN_THREADS": "32",
        "UPSTREAM_BACKOFF_SECONDS": "0.05",
        # A test's SDK client keeps its connections open; stopping should not wait out the default grace.
        "GUNICORN_GRACEFUL_TIMEOUT": "3",
    }
    return processes.gateway_env(emulator.url, port, **{**defaults, **overrides})


@contextmanager
def start_gateway(emulator: EmulatorHandle, **overrides: str) -> Iterator[GatewayHandle]:
    """The gateway exactly as the Procfile starts it, with the emulator as its upstream."""
    env = gateway_env(emulator, processes.free_port(), **overrides)
    with running(lambda log_dir: processes.start_gateway(env, log_dir), "gateway") as service:
        handle = GatewayHandle(service.url, API_KEY, service.log_path, service.process)
        try:
            yield handle
        finally:
            handle.close_clients()
