"""The scale run's round-robin proxy (bench.rrproxy): it spreads requests over the instances, and an
instance that refuses connections (stopped, or never started) costs no request, as behind a PaaS router."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import aiohttp
from aiohttp import web

from bench.rrproxy import STATS_PATH, build_app


def instance(name: str, status: int = 200) -> web.Application:
    """An instance that says who it is and echoes the body it got."""

    async def answer(request: web.Request) -> web.Response:
        body = await request.read()
        return web.json_response({"instance": name, "path": request.path_qs, "body": body.decode(),
                                  "auth": request.headers.get("Authorization")}, status=status)

    async def stream(request: web.Request) -> web.StreamResponse:
        reply = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await reply.prepare(request)
        for i in range(3):
            await reply.write(f"data: {name} {i}\n\n".encode())
        await reply.write_eof()
        return reply

    app = web.Application()
    app.router.add_post("/v1/stream", stream)
    app.router.add_route("*", "/{tail:.*}", answer)
    return app


@asynccontextmanager
async def serving(app: web.Application) -> AsyncIterator[tuple[str, web.AppRunner]]:
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        yield f"http://127.0.0.1:{port}", runner
    finally:
        await runner.cleanup()


def refusing_url() -> str:
    """An address where nothing listens: connections to it are refused."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{sock.getsockname()[1]}"


async def post_many(session: aiohttp.ClientSession, url: str, count: int) -> list[tuple[int, Any]]:
    results = []
    for i in range(count):
        async with session.post(f"{url}/v1/chat/completions?n={i}", data=f"request {i}",
                                headers={"Authorization": "Bearer k"}) as reply:
            results.append((reply.status, await reply.json()))
    return results


async def stats(session: aiohttp.ClientSession, proxy: str) -> dict[str, Any]:
    async with session.get(f"{proxy}{STATS_PATH}") as reply:
        return await reply.json()


def names(results: list[tuple[int, Any]]) -> list[str]:
    return [body["instance"] for _, body in results]


async def test_requests_take_turns_between_instances_and_arrive_unchanged() -> None:
    async with serving(instance("a")) as (a, _), serving(instance("b")) as (b, _), \
            serving(build_app([a, b])) as (proxy, _), aiohttp.ClientSession() as session:
        results = await post_many(session, proxy, 4)
        assert names(results) == ["a", "b", "a", "b"]
        assert [(s, body["path"], body["body"], body["auth"]) for s, body in results][:2] == [
            (200, "/v1/chat/completions?n=0", "request 0", "Bearer k"),
            (200, "/v1/chat/completions?n=1", "request 1", "Bearer k"),
        ]
        async with session.post(f"{proxy}/v1/stream") as reply:
            assert await reply.read() == b"data: a 0\n\ndata: a 1\n\ndata: a 2\n\n"
        assert (await stats(session, proxy))["served"] == {a: 3, b: 2}


async def test_an_instance_that_refuses_connections_is_skipped_and_the_request_sent_to_another() -> None:
    dead = refusing_url()
    async with serving(instance("a")) as (a, _), serving(build_app([dead, a])) as (proxy, _), \
            aiohttp.ClientSession() as session:
        results = await post_many(session, proxy, 6)
        assert [status for status, _ in results] == [200] * 6 and set(names(results)) == {"a"}
        figures = await stats(session, proxy)
        assert figures["served"] == {dead: 0, a: 6} and figures["moved"][dead] >= 1 and figures["failed"] == 0


async def test_an_instance_stopped_mid_run_costs_no_request() -> None:
    async with serving(instance("a")) as (a, _), serving(instance("b")) as (b, b_runner), \
            serving(build_app([a, b])) as (proxy, _), aiohttp.ClientSession() as session:
        before = await post_many(session, proxy, 4)
        await b_runner.cleanup()  # b stops listening: its connections are refused from now on
        after = await post_many(session, proxy, 8)
        assert [status for status, _ in before + after] == [200] * 12
        assert names(before) == ["a", "b", "a", "b"] and set(names(after)) == {"a"}
        figures = await stats(session, proxy)
        assert figures["served"] == {a: 10, b: 2} and figures["failed"] == 0


async def test_an_instance_answer_is_passed_on_not_retried_and_no_instance_at_all_is_a_502() -> None:
    async with serving(instance("a", status=503)) as (a, _), serving(instance("b")) as (b, _), \
            serving(build_app([a, b])) as (proxy, _), aiohttp.ClientSession() as session:
        status, body = (await post_many(session, proxy, 1))[0]
        assert (status, body["instance"]) == (503, "a")  # an answer, even an error, is not a dead instance
    async with serving(build_app([refusing_url(), refusing_url()])) as (proxy, _), \
            aiohttp.ClientSession() as session, session.post(f"{proxy}/v1/chat/completions", data="x") as reply:
        assert reply.status == 502 and (await reply.json())["error"]["code"] == "no_backend"
