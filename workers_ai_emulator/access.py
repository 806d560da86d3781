"""What every API request goes through before a model sees it.

Every request is first recorded in the request log (so a test can see what
a broken gateway actually sent) and its body read under the size limit
(3006). Then, as at Cloudflare's edge, the account id is routed (7003 even
for a good token) before credentials are checked (9106 / 10000).
"""

from __future__ import annotations

import contextlib
import json
import re
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from .envelope import ApiError
from .faults import FaultState
from .scripting import Script

ACCOUNT_RE = re.compile(r"^[0-9a-f]{32}$")
DEFAULT_ACCOUNT_ID = "0123456789abcdef0123456789abcdef"
DEFAULT_TOKEN = "emulator-token"
LOG_SIZE = 100


@dataclass
class Settings:
    """Process-wide state: CLI configuration plus the mutable fault, log and script stores."""

    token: str = DEFAULT_TOKEN
    max_body_bytes: int = 64 * 1024 * 1024  # a 25 MiB audio upload as base64 JSON is 33 MiB
    faults: FaultState = field(default_factory=FaultState)
    log: deque[dict[str, Any]] = field(default_factory=lambda: deque(maxlen=LOG_SIZE))
    script: Script = field(default_factory=Script)


SETTINGS = web.AppKey("settings", Settings)


def settings_of(request: web.Request) -> Settings:
    return request.app[SETTINGS]


def check_account(request: web.Request) -> str:
    account = request.match_info.get("account", "")
    if not ACCOUNT_RE.match(account):
        raise ApiError(7003, path=request.path, extra=[(7000, "No route for that URI")])
    return account


def check_auth(request: web.Request) -> None:
    token = settings_of(request).token
    header = request.headers.get("Authorization")
    if header is None:
        legacy_key = request.headers.get("X-Auth-Key")
        if legacy_key is None:
            raise ApiError(9106)
        if legacy_key != token:
            raise ApiError(10000)
        return
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "bearer" or value.strip() != token:
        raise ApiError(10000)


def _redacted_headers(request: web.Request) -> dict[str, str]:
    headers: dict[str, str] = {}
    for name, value in request.headers.items():
        key = name.lower()
        if key in ("authorization", "x-auth-key"):
            scheme = value.split(" ", 1)[0] if " " in value else ""
            value = f"{scheme} [redacted]".strip()
        headers[key] = f"{headers[key]}, {value}" if key in headers else value
    return headers


def parse_json(raw: bytes) -> Any:
    """The body as JSON, or ApiError 5006 with a JavaScript-like parse message."""
    if not raw.strip():
        raise ApiError(5006, what="Unexpected end of JSON input")
    try:
        return json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ApiError(5006, what=f"Body is not valid JSON: {exc}") from exc


def _peer(request: web.Request) -> str | None:
    peername = request.transport.get_extra_info("peername") if request.transport else None
    return f"{peername[0]}:{peername[1]}" if peername else None


async def read_and_log(request: web.Request) -> bytes:
    """Read the body under the size limit and append the request to the log."""
    settings = settings_of(request)
    entry: dict[str, Any] = {
        "method": request.method,
        "path": request.path,
        "query": dict(request.query),
        "headers": _redacted_headers(request),
        "json": None,
        # Which client connection carried it: tells a reused keep-alive connection from a new one.
        "peer": _peer(request),
    }
    settings.log.append(entry)
    if request.content_length is not None and request.content_length > settings.max_body_bytes:
        raise ApiError(3006)
    try:
        raw = await request.read()
    except web.HTTPRequestEntityTooLarge as exc:
        raise ApiError(3006) from exc
    with contextlib.suppress(UnicodeDecodeError, json.JSONDecodeError):
        entry["json"] = json.loads(raw) if raw.strip() else None
    return raw


async def admit(request: web.Request) -> bytes:
    """Log and body, account, auth: the shared prelude of every model-running route."""
    raw = await read_and_log(request)
    check_account(request)
    check_auth(request)
    return raw
