"""The gateway's log lines: one JSON object a line on stdout, built here and nowhere else.

The request id of the request being served travels in a context variable, so a line written deep
in the upstream client (a retry, say) names the request it belongs to without being handed it.
"""

from __future__ import annotations

import contextvars
import json
import logging
import sys
from typing import Any

from openai_compat.core import jsonio

request_id: contextvars.ContextVar[str | None] = contextvars.ContextVar("request_id", default=None)
request_fields: contextvars.ContextVar[dict[str, Any] | None] = contextvars.ContextVar("request_fields", default=None)
"""The fields of the current request's access-log line. Threads started for the request run in a
copy of its context (see `concurrency`), which holds this same dict, so they can add to it too."""


def note(**fields: Any) -> None:
    """Attach metadata (model, usage, upstream timing) to the current request's log line."""
    current = request_fields.get()
    if current is not None:
        current.update(fields)


def add_upstream_ms(elapsed_ms: float) -> None:
    current = request_fields.get()
    if current is not None:
        current["upstream_ms"] = round(current.get("upstream_ms", 0.0) + elapsed_ms, 1)


def event_line(event: str, **fields: Any) -> str:
    """`{"request_id": ..., "event": ..., ...}`: the request id first, so lines of one request are
    easy to pick out."""
    line: dict[str, Any] = {}
    current = fields.pop("request_id", None) or request_id.get()
    if current is not None:
        line["request_id"] = current
    line["event"] = event
    line.update(fields)
    return jsonio.dumps(line, default=str).decode()  # orjson: the standard library's encoder was 1 % of a request


def log_event(logger: logging.Logger, event: str, *, level: int = logging.INFO, **fields: Any) -> None:
    """Write one JSON line; only metadata goes in `fields`, never prompts, outputs or keys."""
    if logger.isEnabledFor(level):
        logger.log(level, event_line(event, **fields))


class JsonLineFormatter(logging.Formatter):
    """Every record is one JSON line, tracebacks included, so log routers never split an entry."""

    def format(self, record: logging.LogRecord) -> str:
        message = record.getMessage()
        if not record.exc_info and message.startswith("{"):
            return message  # already a JSON line
        line: dict[str, Any] = {"level": record.levelname.lower(), "event": message, "logger": record.name}
        current = request_id.get()
        if current is not None:
            line["request_id"] = current
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
