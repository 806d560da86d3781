"""Request ids and the one JSON access-log line per request.

The line is written when the response is closed, not in `after_request`, so a stream's line
carries its full duration and its usage. Only metadata is logged: never prompts, outputs or keys.
"""

from __future__ import annotations

import logging
import re
import time
import uuid
from typing import Any

from flask import Flask, Response, g, request

from openai_compat.core import logs
from openai_compat.core.metering import Measurement

REQUEST_ID_HEADER = "x-request-id"
_SAFE_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")

access_log = logging.getLogger("openai_compat.access")


def log_usage(measurement: Measurement) -> None:
    """The metering sink that puts a request's usage and cost on its access-log line (and from there in
    the cost header). A request that runs more than one model (a transcription then its translation)
    reports each: the figures add up, and one unknown price makes the total unknown."""
    fields = logs.request_fields.get()
    previous = dict(fields) if fields is not None else {}
    added: dict[str, object] = {}
    for name, value in measurement.usage.fields().items():
        before = previous.get(name)
        added[name] = before + value if isinstance(before, int | float) and not isinstance(value, bool) else value
    if "cost_usd" in previous:
        earlier, now = previous.get("cost_usd"), measurement.cost.usd
        added["cost_usd"] = earlier + now if earlier is not None and now is not None else None
        note = measurement.cost.note or previous.get("cost_note")
        if added["cost_usd"] is None and note:
            added["cost_note"] = note
    else:
        added.update(measurement.cost.fields())
    logs.note(**added)


def init_request_log(app: Flask) -> None:
    @app.before_request
    def _start() -> None:
        incoming = request.headers.get(REQUEST_ID_HEADER, "")
        g.request_id = incoming if _SAFE_ID.match(incoming) else f"req_{uuid.uuid4().hex}"
        g.started = time.perf_counter()
        logs.request_id.set(g.request_id)
        logs.request_fields.set({})

    @app.after_request
    def _finish(response: Response) -> Response:
        request_id = getattr(g, "request_id", None) or f"req_{uuid.uuid4().hex}"
        response.headers[REQUEST_ID_HEADER] = request_id
        started = getattr(g, "started", time.perf_counter())
        line: dict[str, Any] = {"method": request.method, "path": request.path, "status": response.status_code}
        fields = logs.request_fields.get() if hasattr(g, "started") else None
        fields = fields if fields is not None else {}

        def _write() -> None:
            line["duration_ms"] = round((time.perf_counter() - started) * 1000, 1)
            line.update(fields)
            logs.log_event(access_log, "request", request_id=request_id, **line)

        response.call_on_close(_write)
        return response
