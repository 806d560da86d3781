"""WSGI entry point: `gunicorn -c gunicorn.conf.py app:app`."""

from __future__ import annotations

import sys

from openai_compat import create_app
from openai_compat.settings import SettingsError

try:
    app = create_app()
except SettingsError as exc:
    sys.stderr.write(f"{exc}\n")
    raise SystemExit(1) from None
