"""The second floor: a pure byte relay on the gateway's stack (gunicorn + gevent + Flask + urllib3).

The benchmark runs it as one more side (``relay``), under the gateway's own ``gunicorn.conf.py`` and
environment, and sends it exactly what it sends the emulator directly (the native request, the same
path under the relay's address). It forwards the method, path, query, body and the headers that
matter to the emulator, and passes the upstream's reply back as it comes: one HTTP chunk in, the same
bytes out as one chunk, never parsed, decoded or re-framed. No translation in either direction, so
what it costs is what relaying bytes costs on this stack; the gateway, which must translate every
event, cannot do better than this, and should not do much worse.

``bench.floor_app`` is the other floor: the same stack with `requests`, parsing the OpenAI body and
building the native one, the least a translating gateway has to do.

Started as ``gunicorn -c gunicorn.conf.py 'bench.relay_app:create_relay_app()'`` (the upstream from
``WORKERS_AI_BASE_URL``); tests build one with an explicit ``upstream``. Not part of the product.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from urllib.parse import urlsplit

import urllib3
from flask import Flask, Response, request

# Request headers worth passing on; hop-by-hop ones (Connection, Transfer-Encoding) and Host are not.
FORWARDED_REQUEST_HEADERS = ("Authorization", "Content-Type", "Accept")
# Reply headers passed back; the WSGI server frames the body itself (chunked, or its length).
FORWARDED_REPLY_HEADERS = ("Content-Type", "Cache-Control")
UPSTREAM_TIMEOUT = urllib3.Timeout(connect=5.0, read=120.0)


def create_relay_app(upstream: str | None = None, pool_size: int | None = None) -> Flask:
    """A relay to ``upstream`` (an origin or any URL on it; default: ``WORKERS_AI_BASE_URL``'s origin)."""
    parts = urlsplit(upstream or os.environ["WORKERS_AI_BASE_URL"])
    if parts.scheme != "http" or not parts.hostname:
        raise ValueError(f"the relay speaks plain HTTP to a loopback upstream, not {upstream!r}")
    size = pool_size or int(os.environ.get("GUNICORN_WORKER_CONNECTIONS", "1000"))
    # One keep-alive pool to the one upstream, one connection per concurrent request, as the gateway's.
    pool = urllib3.HTTPConnectionPool(parts.hostname, parts.port or 80, maxsize=size, block=False,
                                      retries=False, timeout=UPSTREAM_TIMEOUT)
    app = Flask(__name__)

    @app.get("/health")
    def health() -> str:
        return "ok"

    @app.route("/<path:path>", methods=["GET", "POST", "PUT", "DELETE"])
    def relay(path: str) -> Response:
        headers = {name: request.headers[name] for name in FORWARDED_REQUEST_HEADERS if name in request.headers}
        target = request.full_path if request.query_string else request.path
        upstream_reply = pool.urlopen(request.method, target, body=request.get_data() or None, headers=headers,
                                      preload_content=False, decode_content=False, redirect=False)
        reply_headers = {name: upstream_reply.headers[name] for name in FORWARDED_REPLY_HEADERS
                         if name in upstream_reply.headers}
        return Response(_pieces(upstream_reply), upstream_reply.status, headers=reply_headers,
                        direct_passthrough=True)

    return app


def _pieces(reply: urllib3.BaseHTTPResponse) -> Iterator[bytes]:
    """The upstream body as it arrives: each HTTP chunk whole (``amt=None``), or the whole body of a
    reply with a length; the connection goes back to the pool only once the body was read to its end."""
    complete = False
    try:
        yield from reply.stream(None, decode_content=False)
        complete = True
    finally:
        if complete:
            reply.release_conn()
        else:  # the client left mid-body: the rest of it must not be read by the next request
            reply.close()
            reply.release_conn()
