"""The bench's servers: the shared harness (`harness.processes`) with the bench's worker settings
and pacing."""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path

from harness.processes import (
    Service,
    free_port,
    gateway_env,
    http_status,
    post_json,
    spawn,
    start_emulator,
    start_gateway,
    wait_ready,
)


@dataclass(frozen=True)
class WorkerConfig:
    """The gunicorn knobs the gateway reads from its environment."""

    worker_class: str = "gevent"
    workers: int = 2
    threads: int = 64
    worker_connections: int = 1000
    pool_size: int | None = None

    def label(self) -> str:
        if self.worker_class == "gevent":
            return f"gevent {self.workers}w x {self.worker_connections}conn, pool {self.pool_size or 'default'}"
        return f"gthread {self.workers}w x {self.threads}t, pool {self.pool_size or 'default'}"

    def env(self) -> dict[str, str]:
        env = {
            "WEB_CONCURRENCY": str(self.workers),
            "GUNICORN_WORKER_CLASS": self.worker_class,
            "GUNICORN_THREADS": str(self.threads),
            "GUNICORN_WORKER_CONNECTIONS": str(self.worker_connections),
        }
        if self.pool_size is not None:
            env["UPSTREAM_POOL_SIZE"] = str(self.pool_size)
        return env


def start_paced_emulator(log_dir: Path, ttft_ms: float, token_delay_ms: float) -> Service:
    return start_emulator(log_dir, "--ttft-ms", str(ttft_ms), "--token-delay-ms", str(token_delay_ms),
                          "--max-body-mb", "64")


def set_emulator_pacing(emulator: Service, **fields: float | int) -> None:
    """Pacing goes through the control API because the gateway does not forward x-emulator-* headers."""
    status, body = post_json(f"{emulator.url}/__emulator/faults", fields, timeout=5)
    if status != 200:
        raise RuntimeError(f"emulator refused pacing {fields}: {body[:200]!r}")


def start_bench_gateway(
    emulator: Service, config: WorkerConfig, log_dir: Path, extra: dict[str, str],
    *, wsgi_app: str = "app:app", name: str = "gateway",
) -> Service:
    env = gateway_env(emulator.url, free_port(), **config.env(), **extra)
    return start_gateway(env, log_dir, wsgi_app=wsgi_app, name=name)


def start_store_server(log_dir: Path, directory: Path) -> Service:
    """The image retrieval baseline (`bench.store_server`): the local store's objects as static files."""
    directory.mkdir(parents=True, exist_ok=True)
    port = free_port()
    argv = [sys.executable, "-m", "bench.store_server", "--port", str(port), "--directory", str(directory)]
    process, log_path = spawn("store-server", argv, {**os.environ, "PYTHONUNBUFFERED": "1"}, log_dir)
    service = Service("store-server", f"http://127.0.0.1:{port}", process, log_path)
    return wait_ready(service, lambda: http_status(f"{service.url}/health") == 200, 15)


def start_proxy(log_dir: Path, backends: list[str], name: str = "rrproxy") -> Service:
    """The scale run's round-robin proxy (`bench.rrproxy`) in front of the given instances."""
    port = free_port()
    argv = [sys.executable, "-m", "bench.rrproxy", "--port", str(port)]
    for backend in backends:
        argv += ["--backend", backend]
    process, log_path = spawn(name, argv, {**os.environ, "PYTHONUNBUFFERED": "1"}, log_dir)
    service = Service(name, f"http://127.0.0.1:{port}", process, log_path)
    return wait_ready(service, lambda: http_status(f"{service.url}/__proxy/stats") == 200, 15)
