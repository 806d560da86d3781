"""gunicorn settings, from the same validated settings as the app (environment over settings.toml).

Settings are validated here, in the master, so a bad configuration stops start-up with one
line instead of every worker dying with a traceback.
"""

from __future__ import annotations

import gc
import glob
import math
import os
import shutil
import signal
import sys
import tempfile

from openai_compat.settings import SettingsError, load_settings

try:
    _settings = load_settings()
except SettingsError as exc:
    sys.stderr.write(f"{exc}\n")
    raise SystemExit(1) from None

bind = f"{_settings.host}:{_settings.port}"
workers = _settings.web_concurrency
# Streams hold a connection for their whole length, so sync workers are wrong here; the README's
# Performance section has the measurements behind the default.
# gevent: gunicorn's gevent worker with time limits on idle and slow clients (see the module).
worker_class = (
    "openai_compat.web.gunicorn_worker.GatewayWorker"
    if _settings.gunicorn_worker_class == "gevent"
    else _settings.gunicorn_worker_class
)
threads = _settings.gunicorn_threads
worker_connections = _settings.gunicorn_worker_connections
timeout = _settings.gunicorn_timeout
# Open streams get GRACEFUL_TIMEOUT_SECONDS after SIGTERM, then end with an error event (see
# openai_compat.core.shutdown); gunicorn's own grace, after which it kills the worker, stays longer.
graceful_timeout = max(_settings.gunicorn_graceful_timeout, math.ceil(_settings.graceful_timeout_seconds) + 5)
# Longer than the routers' idle keep-alive (Heroku ~90 s) so they never reuse a closed socket.
keepalive = _settings.gunicorn_keepalive
# gunicorn 27's control socket defaults to one path per user, shared by every gunicorn on the host.
control_socket_disable = True
accesslog = None  # the app writes one JSON line per request itself
errorlog = "-"
# gunicorn's own DEBUG output logs every request line, full paths included (a stored image's key, the
# secret part of its link); the app's access log already records each request, with such paths cut short.
loglevel = "info" if _settings.log_level == "DEBUG" else _settings.log_level.lower()

# Metrics: prometheus_client's multiprocess mode, where each worker writes its figures to files in
# this directory and GET /metrics adds them all up. The variable must be set before the workers import
# prometheus_client, so here, in the master; the master itself never imports it (it imports ssl,
# which must not be loaded before the gevent worker patches it: see openai_compat/__init__.py).
_MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
_OWN_DIR_ENV = "OPENAI_COMPAT_OWN_METRICS_DIR"  # remembered across config reloads (SIGHUP)
if not os.environ.get(_MULTIPROC_ENV):
    os.environ[_MULTIPROC_ENV] = os.environ[_OWN_DIR_ENV] = tempfile.mkdtemp(prefix="openai-compat-metrics-")

if _settings.gunicorn_worker_class == "gevent":
    # gevent records every greenlet's spawning stack by default: ~14 objects and a stack walk per
    # request, for a debugging aid. An operator can still turn it on through the same variable.
    os.environ.setdefault("GEVENT_TRACK_GREENLET_TREE", "false")


def post_worker_init(worker: object) -> None:
    """Move everything loaded at start-up (modules, the app, settings) out of the collector's reach.

    With 1,000 streams a worker holds ~100,000 live objects and full collections run every few
    seconds; not re-scanning the ~55,000 start-up objects each time shortens every one of those pauses,
    which every open stream feels as a late chunk.
    """
    _drain_on_sigterm(worker)
    gc.collect()
    gc.freeze()


def on_starting(server: object) -> None:
    """Start every run's figures from zero: files a previous run left would be added in."""
    directory = os.environ[_MULTIPROC_ENV]
    os.makedirs(directory, exist_ok=True)
    for path in glob.glob(os.path.join(directory, "*.db")):
        os.remove(path)


def child_exit(server: object, worker: object) -> None:
    """A dead worker's live gauges (open streams) must stop counting. This is what
    `prometheus_client.multiprocess.mark_process_dead` does, written out because importing that
    package in the master would load ssl before the gevent workers patch it."""
    directory = os.environ[_MULTIPROC_ENV]
    for mode in ("livesum", "liveall", "livemax", "livemin", "livemostrecent"):
        for path in glob.glob(os.path.join(directory, f"gauge_{mode}_{worker.pid}.db")):  # type: ignore[attr-defined]
            os.remove(path)


def on_exit(server: object) -> None:
    if os.environ.get(_OWN_DIR_ENV) == os.environ[_MULTIPROC_ENV]:
        shutil.rmtree(os.environ[_MULTIPROC_ENV], ignore_errors=True)


def _drain_on_sigterm(worker: object) -> None:
    """Keep gunicorn's SIGTERM handling (stop accepting, wait for requests in flight) and start the
    streams' grace period with it."""
    from openai_compat.core.shutdown import DRAIN

    grace = _settings.graceful_timeout_seconds

    def on_sigterm(signum: int, frame: object) -> None:
        worker.handle_exit(signum, frame)  # type: ignore[attr-defined]
        if _settings.gunicorn_worker_class == "gevent":
            import gevent

            gevent.spawn(DRAIN.begin, grace)  # no blocking call inside a signal handler under gevent
        else:
            DRAIN.begin(grace)

    signal.signal(signal.SIGTERM, on_sigterm)
    signal.siginterrupt(signal.SIGTERM, False)  # as gunicorn had it: SIGTERM does not interrupt system calls
