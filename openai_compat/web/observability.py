"""What operators see of each request besides its log line: `GET /metrics`, the request counters and
latency histograms, and the headers that report a request's cost and its key's rate limits.

The cost header needs the request's usage, which a JSON reply knows before its headers are sent; a
stream's usage comes at its end, after the headers, so streams report cost in the log line, the
metrics and `/admin/usage` only.
"""

from __future__ import annotations

import time
from typing import Any

from flask import Blueprint, Flask, Response, g, request

from openai_compat.core import logs, metrics
from openai_compat.core.metering import Cost
from openai_compat.core.sse import SHUTDOWN_CODE
from openai_compat.web.auth import metrics_reader
from openai_compat.web.services import METRICS_MODEL, RATE_LIMIT_HEADERS

COST_HEADER = "x-workers-ai-cost-usd"

bp = Blueprint("observability", __name__)


@bp.get("/metrics")
@metrics_reader
def prometheus_metrics() -> Response:
    body, content_type = metrics.exposition()
    return Response(body, content_type=content_type)


def cost_header(fields: dict[str, Any]) -> str | None:
    """`x-workers-ai-cost-usd`: a plain decimal, or `unknown` when the model has no usable price."""
    if "cost_usd" not in fields:
        return None
    return Cost(fields["cost_usd"]).header_value()


def init_observability(app: Flask) -> None:
    app.register_blueprint(bp)

    @app.after_request
    def _report(response: Response) -> Response:
        fields = logs.request_fields.get()
        fields = fields if fields is not None and hasattr(g, "started") else {}
        cost = cost_header(fields)
        if cost is not None:
            response.headers[COST_HEADER] = cost
        response.headers.update(g.get(RATE_LIMIT_HEADERS) or {})
        rule = request.url_rule.rule if request.url_rule is not None else "unmatched"
        method, status = request.method, str(response.status_code)
        started = g.get("started") or time.perf_counter()
        model = g.get(METRICS_MODEL, "")

        def _observe() -> None:
            metrics.child(metrics.REQUESTS, rule, method, status, model).inc()
            metrics.child(metrics.REQUEST_SECONDS, rule, model).observe(time.perf_counter() - started)
            if fields.get("stream_error") not in (None, SHUTDOWN_CODE):
                metrics.child(metrics.UPSTREAM_ERRORS, model, "stream", str(fields["stream_error"])).inc()

        response.call_on_close(_observe)
        return response
