"""Request ids and the one JSON log line per request.

The line is written when the response is closed, not in `after_request`, so a stream's line
carries its full duration. Only metadata is logged: never prompts, outputs or keys.
"""

from __future__ import annotations

import json
import logging
import re
import sys
import time
import uuid
from typing import Any

from flask import Flask, Response, g, request

REQUEST_ID_HEADER = "x-request-id"
_SAFE_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")

access_log = logging.getLogger("openai_compat.access")


def note(**fields: Any) -> None:
    """Attach fields (model, upstream timing) to the current request's log line."""
    g.log_fields.update(fields)


def add_upstream_ms(elapsed_ms: float) -> None:
    g.log_fields["upstream_ms"] = round(g.log_fields.get("upstream_ms", 0.0) + elapsed_ms, 1)


class JsonLineFormatter(logging.Formatter):
    """Every record is one JSON line, tracebacks included, so log routers never split an entry."""

    def format(self, record: logging.LogRecord) -> str:
        message = record.getMessage()
        if not record.exc_info and message.startswith("{"):
            return message  # already a JSON line
        line: dict[str, Any] = {"level": record.levelname.lower(), "event": message, "logger": record.name}
        if record.exc_info:
            line["traceback"] = self.formatException(record.exc_info)
        return json.dumps(line, separators=(",", ":"))


def configure_logging(level: str) -> None:
    """JSON lines on stdout, the only place PaaS log routers read."""
    # No line carries the caller's file or line, so skip the frame walk that finds them for every
    # record (the Logging HOWTO's "Optimization" section). Thread and process ids stay: gunicorn's own
    # log format prints the process id.
    logging._srcfile = None  # type: ignore[attr-defined]
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(JsonLineFormatter())
    root = logging.getLogger("openai_compat")
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    root.propagate = False


def init_request_log(app: Flask) -> None:
    @app.before_request
    def _start() -> None:
        incoming = request.headers.get(REQUEST_ID_HEADER, "")
        g.request_id = incoming if _SAFE_ID.match(incoming) else f"req_{uuid.uuid4().hex}"
        g.started = time.perf_counter()
        g.log_fields = {}

    @app.after_request
    def _finish(response: Response) -> Response:
        request_id = getattr(g, "request_id", None) or f"req_{uuid.uuid4().hex}"
        response.headers[REQUEST_ID_HEADER] = request_id
        started = getattr(g, "started", time.perf_counter())
        line: dict[str, Any] = {
            "request_id": request_id,
            "method": request.method,
            "path": request.path,
            "status": response.status_code,
        }
        fields = getattr(g, "log_fields", {})

        def _write() -> None:
            line["duration_ms"] = round((time.perf_counter() - started) * 1000, 1)
            line.update(fields)
            access_log.info(json.dumps(line, separators=(",", ":")))

        response.call_on_close(_write)
        return response
