"""A loopback round-robin proxy for the scale run: what a PaaS router's pool of instances does, small.

``python -m bench.rrproxy --port 8100 --backend http://127.0.0.1:8001 --backend http://127.0.0.1:8002``

Each request goes to the next instance in turn, its body read first and its reply streamed back as it
comes. An instance that refuses the connection (stopped, or not yet started), or drops it before
sending any reply head (a stopping gunicorn closes its listener, and connections still waiting in the
backlog are reset unanswered: the app never saw them), is skipped for ``DOWN_SECONDS`` and the request
is sent to the next one, as a router's health-checked pool takes a dead instance out and retries
elsewhere. Once a reply head has arrived nothing is retried. Only the instances' connection errors are
retried, never their answers: a 5xx from an instance is passed on as it is.

Connections to the instances are not kept alive: a kept connection to an instance that is being
stopped can be closed under a request already sent on it, which no proxy can safely retry, while a new
connection per request fails, if it fails, before anything was sent. ``GET /__proxy/stats`` says how
many requests each instance served and how many attempts were moved to another.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Sequence
from typing import Any

import aiohttp
from aiohttp import web

DOWN_SECONDS = 1.0
# A reply head that never came within the read timeout (aiohttp >= 3.10 tells it from a connect timeout).
READ_TIMEOUT = getattr(aiohttp, "SocketTimeoutError", aiohttp.ServerTimeoutError)
STATS_PATH = "/__proxy/stats"
SESSION = web.AppKey("session", aiohttp.ClientSession)
# Hop-by-hop headers (RFC 9110 7.6.1) and those the proxy's own HTTP stack sets.
HOP_BY_HOP = frozenset({"connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te", "trailer",
                        "transfer-encoding", "upgrade", "host", "content-length"})


class Pool:
    """The instances in round-robin order, with the ones that just refused a connection put last."""

    def __init__(self, backends: Sequence[str], down_seconds: float = DOWN_SECONDS) -> None:
        if not backends:
            raise ValueError("the pool needs at least one backend")
        self.backends = [b.rstrip("/") for b in backends]
        self.down_seconds = down_seconds
        self._next = 0
        self._down_until = dict.fromkeys(self.backends, 0.0)
        self.served = dict.fromkeys(self.backends, 0)
        self.moved = dict.fromkeys(self.backends, 0)  # attempts on this instance that went elsewhere
        self.failed = 0  # requests no instance took

    def order(self) -> list[str]:
        """Every instance, starting with the next in turn; those marked down come last (still tried:
        a pool whose every instance was down a moment ago must recover on its own)."""
        start, self._next = self._next, (self._next + 1) % len(self.backends)
        rotated = self.backends[start:] + self.backends[:start]
        now = time.monotonic()
        return sorted(rotated, key=lambda b: self._down_until[b] > now)

    def mark_down(self, backend: str) -> None:
        self._down_until[backend] = time.monotonic() + self.down_seconds
        self.moved[backend] += 1

    def stats(self) -> dict[str, Any]:
        return {"served": dict(self.served), "moved": dict(self.moved), "failed": self.failed}


def build_app(backends: Sequence[str], down_seconds: float = DOWN_SECONDS) -> web.Application:
    pool = Pool(backends, down_seconds)
    app = web.Application(client_max_size=64 * 1024 * 1024)

    async def open_session(app: web.Application) -> Any:
        connector = aiohttp.TCPConnector(force_close=True, limit=0)
        timeout = aiohttp.ClientTimeout(total=None, sock_connect=5, sock_read=300)
        async with aiohttp.ClientSession(connector=connector, timeout=timeout, auto_decompress=False) as session:
            app[SESSION] = session
            yield

    async def stats(request: web.Request) -> web.Response:
        return web.json_response(pool.stats())

    async def forward(request: web.Request) -> web.StreamResponse:
        body = await request.read()
        headers = {k: v for k, v in request.headers.items() if k.lower() not in HOP_BY_HOP}
        session = request.app[SESSION]
        last_error = "no backend"
        for backend in pool.order():
            try:
                upstream = await session.request(request.method, backend + request.path_qs, headers=headers,
                                                 data=body or None, allow_redirects=False)
            except READ_TIMEOUT as exc:  # the instance took the request and may still be working on it
                last_error = f"{backend}: {type(exc).__name__}: {exc}"
                break
            except aiohttp.ClientConnectionError as exc:  # refused, or reset before any reply head
                pool.mark_down(backend)
                last_error = f"{backend}: {type(exc).__name__}: {exc}"
                continue
            async with upstream:
                reply = web.StreamResponse(status=upstream.status, reason=upstream.reason, headers={
                    k: v for k, v in upstream.headers.items() if k.lower() not in HOP_BY_HOP})
                if upstream.content_length is not None:
                    reply.content_length = upstream.content_length
                await reply.prepare(request)
                async for piece in upstream.content.iter_any():
                    await reply.write(piece)
                await reply.write_eof()
            pool.served[backend] += 1
            return reply
        pool.failed += 1
        return web.json_response({"error": {"message": f"no instance answered ({last_error})", "type": "proxy_error",
                                            "param": None, "code": "no_backend"}}, status=502)

    app.cleanup_ctx.append(open_session)
    app.router.add_get(STATS_PATH, stats)
    app.router.add_route("*", "/{tail:.*}", forward)
    return app


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.rrproxy", description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--backend", action="append", required=True, help="an instance's base URL (repeat)")
    args = parser.parse_args(argv)
    web.run_app(build_app(args.backend), host="127.0.0.1", port=args.port, access_log=None, print=None,
                backlog=4096)


if __name__ == "__main__":
    main()
