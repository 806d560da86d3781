"""Route table, error middleware and the model-search route.

Every failure leaves as a Cloudflare envelope: handlers raise
:class:`~.envelope.ApiError`, and aiohttp's own 404/405/413 are translated
here so that unknown paths look like Cloudflare's (7000 / 7001 / 3006).
"""

from __future__ import annotations

import math
from collections.abc import Awaitable, Callable

from aiohttp import web

from . import control, handlers, registry
from .access import SETTINGS, Settings, check_account, check_auth
from .breakage import STREAMS, StreamCounter, break_replies, wrong_content_type
from .envelope import ApiError, success

ACCOUNT = "/client/v4/accounts/{account}"
GATEWAY = "/v1/{account}/{gateway}/workers-ai"


@web.middleware
async def envelope_errors(
    request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
) -> web.StreamResponse:
    try:
        return await handler(request)
    except ApiError as exc:
        return exc.response()
    except web.HTTPNotFound:
        return ApiError(7000).response()
    except web.HTTPMethodNotAllowed:
        return ApiError(7001, method=request.method).response()
    except web.HTTPRequestEntityTooLarge:
        return ApiError(3006).response()


def _positive_int(raw: str | None, default: int) -> int:
    try:
        value = int(raw) if raw is not None else default
    except ValueError:
        return default
    return value if value > 0 else default


async def search_models(request: web.Request) -> web.Response:
    """``GET .../ai/models/search``: catalogue records, filtered and paginated."""
    check_account(request)
    check_auth(request)
    query = request.query
    found = registry.search(task=query.get("task"), text=query.get("search"))
    page = _positive_int(query.get("page"), 1)
    per_page = _positive_int(query.get("per_page"), 100)
    window = found[(page - 1) * per_page : page * per_page]
    info = {
        "page": page,
        "per_page": per_page,
        "count": len(window),
        "total_count": len(found),
        "total_pages": math.ceil(len(found) / per_page),
    }
    return success([spec.record() for spec in window], result_info=info)


def create_app(settings: Settings | None = None) -> web.Application:
    settings = settings or Settings()
    app = web.Application(client_max_size=settings.max_body_bytes, middlewares=[break_replies, envelope_errors])
    app[SETTINGS] = settings
    app[STREAMS] = StreamCounter()
    app.on_response_prepare.append(wrong_content_type)
    control.add_routes(app)
    router = app.router
    router.add_get(f"{ACCOUNT}/ai/models/search", search_models)
    # Specific routes first: the catch-all {model:.+} would swallow them otherwise.
    for prefix in (f"{ACCOUNT}/ai", GATEWAY):
        router.add_post(f"{prefix}/v1/chat/completions", handlers.openai_chat)
        router.add_post(f"{prefix}/v1/embeddings", handlers.openai_embeddings)
    router.add_post(f"{ACCOUNT}/ai/run/{{model:.+}}", handlers.run_model)
    router.add_post(f"{GATEWAY}/{{model:.+}}", handlers.run_model)
    return app
