"""`GET /admin/usage`: usage and spend per key and model, for the operator (`ADMIN_API_KEY` only).

Figures are per UTC day; `from` and `to` (inclusive, `YYYY-MM-DD`) pick the days, today by default.
With Redis they are every worker's and instance's; without it, only the worker that answered has
counted them, and the reply says so (`"shared": false`).
"""

from __future__ import annotations

import datetime as dt
import os
from typing import Any

from flask import Blueprint, Response, jsonify, request

from openai_compat.errors import InvalidRequestError
from openai_compat.quotas import MEASURES
from openai_compat.quotas.ledger import USAGE_RETENTION_SECONDS
from openai_compat.web.auth import admin_only
from openai_compat.web.services import services

bp = Blueprint("admin", __name__)
COUNTS = frozenset({"requests", "input_tokens", "output_tokens", "images", "characters", "unpriced_requests"})
MAX_DAYS = USAGE_RETENTION_SECONDS // 86400


def _day(param: str, default: dt.date) -> dt.date:
    text = request.args.get(param)
    if text is None:
        return default
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise InvalidRequestError(f"`{param}` must be a date like 2026-01-31 (UTC).", param=param) from None


def _row(key: str, model: str, totals: dict[str, float]) -> dict[str, Any]:
    row: dict[str, Any] = {"key": key, "model": model}
    for measure in MEASURES:
        value = totals.get(measure, 0.0)
        row[measure] = round(value) if measure in COUNTS else round(value, 12)
    return row


@bp.get("/admin/usage")
@admin_only
def usage() -> Response:
    svc = services()
    today = dt.datetime.now(dt.UTC).date()
    first, last = _day("from", today), _day("to", today)
    if last < first:
        raise InvalidRequestError("`to` is before `from`.", param="to")
    if (last - first).days >= MAX_DAYS:
        raise InvalidRequestError(f"Ask for at most {MAX_DAYS} days at a time.", param="from")
    wanted_key = request.args.get("key")
    days = [(first + dt.timedelta(days=n)).isoformat() for n in range((last - first).days + 1)]
    totals = svc.quotas.usage(days)
    data = [_row(key, model, row) for (key, model), row in sorted(totals.items())
            if wanted_key is None or key == wanted_key]
    keys = []
    for name, policy in sorted(svc.quotas.policies.items()):
        if wanted_key is not None and name != wanted_key:
            continue
        spent_today, spent_month = svc.quotas.spent(name)
        keys.append({
            "key": name,
            "spent_today_usd": round(spent_today, 12),
            "spent_this_month_usd": round(spent_month, 12),
            "budget_usd_per_day": policy.budget_usd_per_day,
            "budget_usd_per_month": policy.budget_usd_per_month,
            "requests_per_minute": policy.requests_per_minute,
            "tokens_per_minute": policy.tokens_per_minute,
            "models": sorted(policy.models) if policy.models is not None else None,
        })
    body: dict[str, Any] = {"object": "usage", "from": first.isoformat(), "to": last.isoformat(),
                            "shared": svc.quotas.shared, "data": data, "keys": keys}
    if not svc.quotas.shared:
        body["worker_pid"] = os.getpid()
    return jsonify(body)
