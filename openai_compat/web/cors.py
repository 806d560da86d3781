"""CORS for browser clients (openai-node in a page, Open WebUI direct connections).

Preflight is answered here, before authentication, because browsers never send credentials on it.
"""

from __future__ import annotations

from flask import Flask, Response, request

ALLOWED_HEADERS = (
    "Authorization, Content-Type, Accept, OpenAI-Organization, OpenAI-Project, OpenAI-Beta, "
    "X-Request-ID, X-Stainless-Arch, X-Stainless-Lang, X-Stainless-OS, X-Stainless-Package-Version, "
    "X-Stainless-Runtime, X-Stainless-Runtime-Version, X-Stainless-Retry-Count, X-Stainless-Timeout, "
    "X-Stainless-Read-Timeout, X-Stainless-Async, X-Stainless-Helper-Method, X-Stainless-Poll-Helper, "
    "X-Stainless-Custom-Poll-Interval, X-Gateway-Upstream-Retries"
)
EXPOSED_HEADERS = (
    "x-request-id, x-workers-ai-model, retry-after, x-should-retry, x-workers-ai-cost-usd, "
    "x-ratelimit-limit-requests, x-ratelimit-remaining-requests, x-ratelimit-reset-requests, "
    "x-ratelimit-limit-tokens, x-ratelimit-remaining-tokens, x-ratelimit-reset-tokens"
)


def init_cors(app: Flask, origins: list[str]) -> None:
    allow_any = "*" in origins

    def _origin_headers(response: Response) -> None:
        origin = request.headers.get("Origin")
        if not origin:
            return
        if allow_any:
            response.headers["Access-Control-Allow-Origin"] = "*"
        elif origin in origins:
            response.headers["Access-Control-Allow-Origin"] = origin
            response.headers.add("Vary", "Origin")
        else:
            return
        response.headers["Access-Control-Expose-Headers"] = EXPOSED_HEADERS

    @app.before_request
    def _preflight() -> Response | None:
        if request.method != "OPTIONS":
            return None
        response = Response(status=204)
        _origin_headers(response)
        response.headers["Access-Control-Allow-Methods"] = "GET, POST, DELETE, OPTIONS"
        requested = request.headers.get("Access-Control-Request-Headers")
        # Echoing what was asked keeps future x-stainless-* headers working; the list covers the rest.
        response.headers["Access-Control-Allow-Headers"] = requested or ALLOWED_HEADERS
        response.headers["Access-Control-Max-Age"] = "86400"
        return response

    @app.after_request
    def _actual(response: Response) -> Response:
        if request.method != "OPTIONS":
            _origin_headers(response)
        return response
