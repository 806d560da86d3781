"""Start, watch and stop the servers under test: the emulator, the gateway, and the servers they use.

Everything binds to 127.0.0.1 on a free port and is stopped through the ``Popen`` handle we got
when starting it, never by name, so a developer's own gateway or emulator is never touched.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
ACCOUNT_ID = "0123456789abcdef0123456789abcdef"
EMULATOR_TOKEN = "emulator-token"
GATEWAY_KEY = "sk-bench-gateway-key"


class StartError(RuntimeError):
    """A process under test did not come up; the message carries the tail of its log."""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def http_status(url: str, timeout: float = 1.0) -> int | None:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code
    except (OSError, ValueError):
        return None


def post_json(url: str, body: Any, headers: dict[str, str] | None = None, timeout: float = 30.0) -> tuple[int, bytes]:
    """A plain POST, for control calls and probes (the load itself never goes through here)."""
    request = urllib.request.Request(
        url, data=json.dumps(body).encode(), method="POST",
        headers={"Content-Type": "application/json", **(headers or {})},
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


@dataclass
class Service:
    """A started server: its URL, its process and the log it writes to."""

    name: str
    url: str
    process: subprocess.Popen[bytes]
    log_path: Path
    extra: dict[str, str] = field(default_factory=dict)
    grace: float = 10.0
    """Seconds `stop` waits after SIGTERM before it kills."""

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def alive(self) -> bool:
        return self.process.poll() is None

    def stop(self, grace: float | None = None) -> None:
        """SIGTERM (gunicorn and uvicorn shut their workers down on it), then SIGKILL.

        Workers still alive once their master is gone (uvicorn's can linger) are killed by the
        pids recorded before the stop, so nothing of ours outlives the run.
        """
        if self.process.poll() is not None:
            return
        descendants = process_tree(self.process.pid)[1:]
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=self.grace if grace is None else grace)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=5)
        deadline = time.monotonic() + 5
        while descendants and time.monotonic() < deadline:
            descendants = [pid for pid in descendants if Path(f"/proc/{pid}").exists()]
            time.sleep(0.1)
        for pid in descendants:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)


def spawn(name: str, argv: list[str], env: dict[str, str], log_dir: Path, cwd: Path = ROOT) -> tuple[
    subprocess.Popen[bytes], Path
]:
    log_path = log_dir / f"{name}.log"
    with log_path.open("wb") as sink:
        process = subprocess.Popen(argv, cwd=cwd, env=env, stdout=sink, stderr=subprocess.STDOUT,
                                   stdin=subprocess.DEVNULL)
    return process, log_path


def wait_ready(service: Service, ready: Callable[[], bool], timeout: float) -> Service:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not service.alive():
            raise StartError(f"{service.name} exited during start-up:\n{service.log_tail()}")
        if ready():
            return service
        time.sleep(0.1)
    service.stop()
    raise StartError(f"{service.name} was not ready within {timeout:.0f} s:\n{service.log_tail()}")


def start_emulator(log_dir: Path, *cli_args: str, token: str = EMULATOR_TOKEN) -> Service:
    """``python -m workers_ai_emulator`` on a free port; extra command-line flags as given."""
    port = free_port()
    argv = [sys.executable, "-m", "workers_ai_emulator", "--host", "127.0.0.1", "--port", str(port),
            "--token", token, *cli_args]
    process, log_path = spawn("emulator", argv, {**os.environ, "PYTHONUNBUFFERED": "1"}, log_dir)
    service = Service("emulator", f"http://127.0.0.1:{port}", process, log_path)
    return wait_ready(service, lambda: http_status(f"{service.url}/__emulator/health") == 200, 15)


def emulator_account_url(emulator: Service) -> str:
    return f"{emulator.url}/client/v4/accounts/{ACCOUNT_ID}/ai"


def gateway_env(emulator_url: str, port: int, **overrides: str) -> dict[str, str]:
    """The gateway's environment with the emulator as upstream: this process's environment minus
    anything that would configure the gateway differently, plus `overrides`."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("GATEWAY_", "CLOUDFLARE_", "GUNICORN_", "UPSTREAM_", "MODEL_ALIASES", "STORAGE_",
                                "R2_", "REDIS_", "IMAGE_", "URL_SIGNING_", "PUBLIC_BASE_URL", "NAMED_API_KEYS",
                                "MODEL_PRICES", "ADMIN_API_KEY", "METRICS_API_KEY", "GRACEFUL_TIMEOUT_",
                                "PROMETHEUS_MULTIPROC_DIR"))}
    env.update(
        CLOUDFLARE_ACCOUNT_ID=ACCOUNT_ID,
        CLOUDFLARE_API_TOKEN=EMULATOR_TOKEN,
        WORKERS_AI_BASE_URL=f"{emulator_url}/client/v4",
        GATEWAY_API_KEYS=GATEWAY_KEY,
        PORT=str(port),
        HOST="127.0.0.1",
        PYTHONUNBUFFERED="1",
    )
    env.update(overrides)
    return env


def start_gateway(
    env: dict[str, str], log_dir: Path, *, wsgi_app: str = "app:app", name: str = "gateway", timeout: float = 30
) -> Service:
    """Exactly the Procfile's command line: ``gunicorn -c gunicorn.conf.py app:app``, on ``env["PORT"]``.

    With ``wsgi_app="bench.floor_app:app"`` the same command and environment start the bench's floor.
    """
    gunicorn = str(Path(sys.executable).with_name("gunicorn"))
    argv = [gunicorn, "-c", "gunicorn.conf.py", wsgi_app]
    process, log_path = spawn(name, argv, env, log_dir)
    service = Service(name, f"http://127.0.0.1:{env['PORT']}", process, log_path)
    wait_ready(service, lambda: http_status(f"{service.url}/health") == 200, timeout)
    # /health answering means one worker is up; wait until all of them are.
    workers = int(env.get("WEB_CONCURRENCY", "1"))
    deadline = time.monotonic() + 15
    while len(children(process.pid)) < workers and time.monotonic() < deadline:
        time.sleep(0.1)
    return service


def children(pid: int) -> list[int]:
    """Direct children of ``pid`` (gunicorn's workers), read from /proc."""
    found: list[int] = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2 :].split()
        if int(fields[1]) == pid:
            found.append(int(entry.name))
    return found


def process_tree(pid: int) -> list[int]:
    """``pid`` and all its descendants (uvicorn's workers sit one level deeper than gunicorn's)."""
    tree, frontier = [pid], [pid]
    while frontier:
        frontier = [child for parent in frontier for child in children(parent)]
        tree.extend(frontier)
    return tree


MOTO_ACCESS_KEY = "moto-access-key"
MOTO_SECRET_KEY = "moto-secret-key"


def start_moto(log_dir: Path, *, require_auth: bool = False, port: int | None = None) -> Service:
    """moto's S3 server on loopback: the R2 stand-in (S3 over HTTP, path-style, any credentials
    unless `require_auth`, when only IAM-created keys pass, as a real bucket's would)."""
    port = port or free_port()
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "MOTO_ALLOW_NONEXISTENT_REGION": "true"}
    if require_auth:
        env["INITIAL_NO_AUTH_ACTION_COUNT"] = "0"
    argv = [str(Path(sys.executable).with_name("moto_server")), "-H", "127.0.0.1", "-p", str(port)]
    process, log_path = spawn(f"moto-{port}", argv, env, log_dir)
    # A test double with no state worth a graceful stop: its threaded server takes seconds to wind down.
    service = Service("moto", f"http://127.0.0.1:{port}", process, log_path, grace=1.0)
    return wait_ready(service, lambda: http_status(f"{service.url}/moto-api/") == 200, 30)


def create_bucket(moto: Service, bucket: str) -> None:
    """A bucket on a moto server, through boto3 as the gateway talks to it."""
    import boto3

    client = boto3.client("s3", endpoint_url=moto.url, region_name="us-east-1",
                          aws_access_key_id=MOTO_ACCESS_KEY, aws_secret_access_key=MOTO_SECRET_KEY)
    client.create_bucket(Bucket=bucket)


def start_redis(log_dir: Path, *, port: int | None = None) -> Service:
    """Debian's ``redis-server`` on a free loopback port, in memory only (no snapshot, no AOF), so
    nothing outlives the run. ``scripts/test`` installs the package."""
    import shutil

    binary = shutil.which("redis-server")
    if binary is None:
        raise StartError("redis-server is not installed: `bash scripts/test` installs it (Debian's redis-server)")
    port = port or free_port()
    argv = [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
            "--dir", str(log_dir), "--daemonize", "no", "--protected-mode", "yes"]
    process, log_path = spawn(f"redis-{port}", argv, dict(os.environ), log_dir)
    service = Service("redis", f"redis://127.0.0.1:{port}/0", process, log_path)
    return wait_ready(service, lambda: _redis_answers(port), 15)


def _redis_answers(port: int) -> bool:
    """A PING in the protocol's inline form: no client library needed to know the server is up."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(16).startswith(b"+PONG")
    except OSError:
        return False
