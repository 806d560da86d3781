"""Idle, trickling and non-reading clients, many at once, while real requests keep being answered."""

from __future__ import annotations

import contextlib
import json
import socket
import time
from collections.abc import Iterator

import pytest
import requests

from tests.support.emulator import EmulatorHandle
from tests.support.gateway import GatewayHandle, start_gateway

CHAT = {"model": "@cf/meta/llama-3.3-70b-instruct-fp8-fast", "messages": [{"role": "user", "content": "hi"}]}


@pytest.fixture(scope="module")
def guarded(emulator: EmulatorHandle) -> Iterator[GatewayHandle]:
    """One worker with 200 connections, so a few hundred sockets are a flood; short limits for the test."""
    with start_gateway(emulator, GUNICORN_WORKER_CONNECTIONS="200", HTTP_HEADER_TIMEOUT_SECONDS="2",
                       HTTP_IO_TIMEOUT_SECONDS="2", HTTP_BODY_TIMEOUT_SECONDS="4") as gateway:
        yield gateway


def address(gateway: GatewayHandle) -> tuple[str, int]:
    host, port = gateway.url.removeprefix("http://").split(":")
    return host, int(port)


def chat(gateway: GatewayHandle, timeout: float = 5) -> requests.Response:
    return requests.post(f"{gateway.base_url}/chat/completions", json=CHAT, timeout=timeout,
                         headers={"Authorization": f"Bearer {gateway.api_key}"})


@contextlib.contextmanager
def sockets(gateway: GatewayHandle, count: int, first_bytes: bytes = b"") -> Iterator[list[socket.socket]]:
    opened = []
    try:
        for _ in range(count):
            sock = socket.create_connection(address(gateway), timeout=5)
            if first_bytes:
                sock.sendall(first_bytes)
            opened.append(sock)
        yield opened
    finally:
        for sock in opened:
            sock.close()


def closed_by_server(sock: socket.socket, within: float) -> bool:
    sock.settimeout(within)
    try:
        return sock.recv(1) == b""
    except (TimeoutError, ConnectionResetError):
        return False


def test_an_idle_flood_larger_than_the_worker_does_not_stop_real_requests(guarded: GatewayHandle) -> None:
    with sockets(guarded, 450):  # more than twice the worker's 200 connections
        started = time.monotonic()
        for _ in range(5):
            assert chat(guarded).status_code == 200
        assert time.monotonic() - started < 5


def test_a_connection_that_sends_no_request_is_closed_after_the_header_timeout(guarded: GatewayHandle) -> None:
    with sockets(guarded, 1) as [idle]:
        assert closed_by_server(idle, within=6)


def test_slowloris_headers_are_cut_off_and_others_are_served(guarded: GatewayHandle) -> None:
    with sockets(guarded, 150, b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\n") as tricklers:
        deadline = time.monotonic() + 3.5
        while time.monotonic() < deadline:
            for sock in tricklers:
                with contextlib.suppress(OSError):
                    sock.sendall(b"X-a: b\r\n")
            assert chat(guarded).status_code == 200
            time.sleep(0.5)
        assert all(closed_by_server(sock, within=4) for sock in tricklers[:10])


def test_a_trickled_body_ends_as_a_408(guarded: GatewayHandle) -> None:
    body = json.dumps(CHAT).encode()
    head = (f"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {guarded.api_key}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n").encode()
    with sockets(guarded, 1, head + body[:5]) as [slow]:
        for byte in body[5:12]:  # a byte a second: each read progresses, the whole body never arrives
            time.sleep(1)
            with contextlib.suppress(OSError):
                slow.sendall(bytes([byte]))
        slow.settimeout(5)
        received = b""
        with contextlib.suppress(OSError):  # the head and the body may come in separate segments
            while not received.rstrip().endswith(b"}") and (chunk := slow.recv(4096)):
                received += chunk
        reply = received.decode(errors="replace")
    assert reply.startswith("HTTP/1.1 408"), reply[:200]
    assert json.loads(reply.split("\r\n\r\n", 1)[1])["error"]["code"] == "request_timeout"


def test_a_client_that_never_reads_its_stream_frees_its_slot(guarded: GatewayHandle, upstream: EmulatorHandle) -> None:
    upstream.set_faults(tokens=500_000, token_delay_ms=0)
    body = json.dumps({**CHAT, "stream": True, "max_tokens": 500_000}).encode()
    head = (f"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {guarded.api_key}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n").encode()
    reader = socket.socket()
    reader.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)  # before connecting: a small window
    reader.connect(address(guarded))
    try:
        reader.sendall(head + body)
        time.sleep(6)  # the reply fills the buffers; the gateway's write stalls and it gives up on it
        assert chat(guarded).status_code == 200
        reader.settimeout(1)
        received, deadline = b"", time.monotonic() + 20
        with contextlib.suppress(OSError):
            while time.monotonic() < deadline and (chunk := reader.recv(65536)):
                received += chunk
        assert time.monotonic() < deadline, "the gateway kept writing to a client that had stopped reading"
        assert b"[DONE]" not in received  # cut off, not delivered whole
    finally:
        reader.close()


def test_oversized_headers_get_an_openai_shaped_error(guarded: GatewayHandle) -> None:
    reply = requests.get(f"{guarded.base_url}/models", timeout=5,
                         headers={"Authorization": f"Bearer {guarded.api_key}", "X-Big": "x" * 20_000})
    assert reply.status_code in (400, 431)
    error = reply.json()["error"]
    assert set(error) == {"message", "type", "param", "code"}
