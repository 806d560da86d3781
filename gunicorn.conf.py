"""gunicorn settings, read from the environment the way PaaS hosts set it.

Settings are validated here, in the master, so a bad configuration stops start-up with one
line instead of every worker dying with a traceback.
"""

from __future__ import annotations

import os
import sys

from openai_compat.settings import SettingsError, load_settings

try:
    _settings = load_settings()
except SettingsError as exc:
    sys.stderr.write(f"{exc}\n")
    raise SystemExit(1) from None

bind = f"{os.environ.get('HOST', '0.0.0.0')}:{_settings.port}"
workers = _settings.web_concurrency
# Streams hold a connection for their whole length, so sync workers are wrong here; see the
# README's Performance section for how this default was chosen.
worker_class = os.environ.get("GUNICORN_WORKER_CLASS", "gthread")
threads = int(os.environ.get("GUNICORN_THREADS", "64"))
worker_connections = int(os.environ.get("GUNICORN_WORKER_CONNECTIONS", "1000"))
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "120"))
graceful_timeout = int(os.environ.get("GUNICORN_GRACEFUL_TIMEOUT", "25"))
# Longer than the routers' idle keep-alive (Heroku ~90 s) so they never reuse a closed socket.
keepalive = int(os.environ.get("GUNICORN_KEEPALIVE", "95"))
accesslog = None  # the app writes one JSON line per request itself
errorlog = "-"
loglevel = _settings.log_level.lower()
