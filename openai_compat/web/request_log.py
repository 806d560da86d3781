"""Request ids and the one JSON access-log line per request.

The line is written when the response is closed, not in `after_request`, so a stream's line
carries its full duration and its usage. Only metadata is logged: never prompts, outputs or keys.
"""

from __future__ import annotations

import logging
import re
import secrets
import time
from typing import Any

from flask import Flask, Response, g, request

from openai_compat.core import logs
from openai_compat.core.metering import Measurement

REQUEST_ID_HEADER = "x-request-id"
_SAFE_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")

access_log = logging.getLogger("openai_compat.access")


def new_request_id() -> str:
    """128 random bits, as `uuid4().hex` gave, without building a UUID object for every request."""
    return f"req_{secrets.token_hex(16)}"


_METERED = "_metered"
"""Where a request's measurements so far are kept on its fields (left out of the log line)."""


def log_usage(measurement: Measurement) -> None:
    """The metering sink that puts a request's usage and cost on its access-log line (and from there in
    the cost header). A request that runs more than one model (a transcription then its translation)
    reports each: the figures add up, and one unknown price makes the total unknown."""
    fields = logs.request_fields.get()
    earlier: list[Measurement] = list((fields or {}).get(_METERED, []))
    every = [*earlier, measurement]
    totals: dict[str, object] = {}
    for item in every:
        for name, value in item.usage.fields().items():
            before = totals.get(name)
            totals[name] = before + value if isinstance(before, int | float) and not isinstance(value, bool) else value
    costs = [item.cost for item in every]
    if all(cost.usd is not None for cost in costs):
        totals["cost_usd"] = sum(cost.usd or 0.0 for cost in costs)
    else:
        totals["cost_usd"] = None
        totals["cost_note"] = next(cost.note for cost in costs if cost.usd is None)
    logs.note(**{_METERED: every}, **totals)


def init_request_log(app: Flask) -> None:
    @app.before_request
    def _start() -> None:
        incoming = request.headers.get(REQUEST_ID_HEADER, "")
        g.request_id = incoming if _SAFE_ID.match(incoming) else new_request_id()
        g.started = time.perf_counter()
        logs.request_id.set(g.request_id)
        logs.request_fields.set({})

    @app.after_request
    def _finish(response: Response) -> Response:
        request_id = getattr(g, "request_id", None) or new_request_id()
        response.headers[REQUEST_ID_HEADER] = request_id
        started = getattr(g, "started", time.perf_counter())
        line: dict[str, Any] = {"method": request.method, "path": request.path, "status": response.status_code}
        fields = logs.request_fields.get() if hasattr(g, "started") else None
        fields = fields if fields is not None else {}

        def _write() -> None:
            line["duration_ms"] = round((time.perf_counter() - started) * 1000, 1)
            line.update((name, value) for name, value in fields.items() if not name.startswith("_"))
            logs.log_event(access_log, "request", request_id=request_id, **line)

        response.call_on_close(_write)
        return response
