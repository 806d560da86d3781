"""The unauthenticated ``/__emulator`` control API used by tests and benchmarks.

It lives outside ``/client/v4`` so it can never collide with a real route,
and it answers plain JSON (not the Cloudflare envelope) because only test
code reads it.
"""

from __future__ import annotations

import json

from aiohttp import web

from .access import settings_of
from .breakage import STREAMS
from .envelope import json_response


async def health(request: web.Request) -> web.Response:
    return json_response({"ok": True})


async def get_faults(request: web.Request) -> web.Response:
    return json_response({"ok": True, "faults": settings_of(request).faults.describe()})


async def set_faults(request: web.Request) -> web.Response:
    """Replace the runtime fault layer; unknown fields or bad values are a 400."""
    state = settings_of(request).faults
    try:
        body = json.loads(await request.read() or b"{}")
        if not isinstance(body, dict):
            raise ValueError("body must be a JSON object")
        state.set_runtime(body)
    except ValueError as exc:  # JSONDecodeError is a ValueError too
        return json_response({"ok": False, "error": str(exc)}, status=400)
    return json_response({"ok": True, "faults": state.describe()})


async def clear_faults(request: web.Request) -> web.Response:
    settings_of(request).faults.clear_runtime()
    return json_response({"ok": True})


async def get_script(request: web.Request) -> web.Response:
    return json_response({"ok": True, **settings_of(request).script.describe()})


async def set_script(request: web.Request) -> web.Response:
    """Replace the script's rules (see :mod:`.scripting`); a malformed rule is a 400 naming it."""
    script = settings_of(request).script
    try:
        script.replace(json.loads(await request.read() or b"{}"))
    except ValueError as exc:
        return json_response({"ok": False, "error": str(exc)}, status=400)
    return json_response({"ok": True, **script.describe()})


async def clear_script(request: web.Request) -> web.Response:
    settings_of(request).script.clear()
    return json_response({"ok": True})


async def get_requests(request: web.Request) -> web.Response:
    return json_response(list(settings_of(request).log))


async def clear_requests(request: web.Request) -> web.Response:
    settings_of(request).log.clear()
    return json_response({"ok": True})


async def get_streams(request: web.Request) -> web.Response:
    """Streams (SSE and speech) being written now, opened in all, and ended by their reader leaving."""
    return json_response(request.app[STREAMS].describe())


def add_routes(app: web.Application) -> None:
    app.router.add_get("/__emulator/streams", get_streams)
    app.router.add_get("/__emulator/health", health)
    app.router.add_get("/__emulator/faults", get_faults)
    app.router.add_post("/__emulator/faults", set_faults)
    app.router.add_delete("/__emulator/faults", clear_faults)
    app.router.add_get("/__emulator/script", get_script)
    app.router.add_post("/__emulator/script", set_script)
    app.router.add_delete("/__emulator/script", clear_script)
    app.router.add_get("/__emulator/requests", get_requests)
    app.router.add_delete("/__emulator/requests", clear_requests)
