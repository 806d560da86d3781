"""gunicorn settings, from the same validated settings as the app (environment over settings.toml).

Settings are validated here, in the master, so a bad configuration stops start-up with one
line instead of every worker dying with a traceback.
"""

from __future__ import annotations

import gc
import os
import sys

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
graceful_timeout = _settings.gunicorn_graceful_timeout
# Longer than the routers' idle keep-alive (Heroku ~90 s) so they never reuse a closed socket.
keepalive = _settings.gunicorn_keepalive
# gunicorn 27's control socket defaults to one path per user, shared by every gunicorn on the host.
control_socket_disable = True
accesslog = None  # the app writes one JSON line per request itself
errorlog = "-"
loglevel = _settings.log_level.lower()

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
    gc.collect()
    gc.freeze()
