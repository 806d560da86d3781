"""Retries are the client's or the gateway's, never both stacked.

The official SDKs retry 429s and 5xx twice on their own and say so in `x-stainless-retry-count`. A
request that is already a client's retry gets one upstream attempt: the gateway's own retries were
spent on the first try. A client can also ask for no gateway retries at all with
`x-gateway-upstream-retries: 0` (any number caps them). The errors then carry `x-should-retry`
(see the upstream client) so an SDK knows whether retrying can help.
"""

from __future__ import annotations

from flask import Flask, request

from openai_compat.upstream.client import retries_allowed

CLIENT_RETRY_HEADER = "x-stainless-retry-count"
OPT_OUT_HEADER = "x-gateway-upstream-retries"


def _count(value: str | None) -> int | None:
    try:
        return max(0, int(value)) if value is not None else None
    except ValueError:
        return None


def init_retry_policy(app: Flask) -> None:
    @app.before_request
    def _cap_retries() -> None:
        cap = _count(request.headers.get(OPT_OUT_HEADER))
        if (_count(request.headers.get(CLIENT_RETRY_HEADER)) or 0) > 0:
            cap = 0
        retries_allowed.set(cap)
