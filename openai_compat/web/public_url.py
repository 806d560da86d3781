"""The gateway's own address as its clients reach it, for the absolute links it hands out.

`PUBLIC_BASE_URL` wins when set. Behind a PaaS router (Heroku, Render, Fly) the request arrives over
plain HTTP on an internal host, and the router says what the client used in `X-Forwarded-Proto` and
`X-Forwarded-Host`; those headers are believed only when `TRUST_PROXY_HEADERS` is set, since anyone
can send them to a gateway that is reached directly.
"""

from __future__ import annotations

import re

from flask import request

from openai_compat.settings import Settings

_HOST = re.compile(r"^[A-Za-z0-9.-]+(:\d{1,5})?$|^\[[0-9A-Fa-f:.]+\](:\d{1,5})?$")


def _first(header: str | None) -> str:
    return (header or "").split(",")[0].strip()


def public_base(settings: Settings) -> str:
    """`scheme://host[:port]` with no trailing slash."""
    if settings.public_base_url:
        return settings.public_base_url
    scheme, host = request.scheme, request.host
    if settings.trust_proxy_headers:
        forwarded_proto = _first(request.headers.get("X-Forwarded-Proto")).lower()
        forwarded_host = _first(request.headers.get("X-Forwarded-Host"))
        if forwarded_proto in ("http", "https"):
            scheme = forwarded_proto
        if forwarded_host and _HOST.match(forwarded_host):
            host = forwarded_host
    if not _HOST.match(host):
        host = request.environ.get("SERVER_NAME", "localhost")
    return f"{scheme}://{host}"
