"""The flood that once stopped the gateway, at its deployed settings (two gevent workers of 1,000
connections, the default time limits): thousands of idle sockets, slowloris headers and trickled bodies,
and readers that never read a large reply, all at once, while ordinary requests keep being answered promptly."""

from __future__ import annotations

import contextlib
import json
import os
import resource
import socket
import statistics
import tempfile
import threading
import time
from collections.abc import Iterator

import pytest
import requests

from openai_compat.media.links import LinkSigner, new_key
from openai_compat.storage.local import LocalStore
from tests.support.emulator import EmulatorHandle
from tests.support.gateway import GatewayHandle, start_gateway

CHAT = {"model": "@cf/meta/llama-3.3-70b-instruct-fp8-fast", "messages": [{"role": "user", "content": "hi"}]}
IDLE, SLOWLORIS, TRICKLED, UNREAD = 2_000, 600, 100, 50
SECRET = "flood-signing-secret-0123456789"
FLOOD_SECONDS = 20


@pytest.fixture(scope="module")
def deployed(emulator: EmulatorHandle) -> Iterator[GatewayHandle]:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = IDLE + SLOWLORIS + TRICKLED + UNREAD + 1_000
    if hard != resource.RLIM_INFINITY and hard < wanted:
        pytest.skip(f"this machine allows {hard} open files; the flood needs {wanted}")
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, min(hard, 65_536)), hard))  # the gateway inherits it
    # The Procfile's gateway as deployed: two workers, 1,000 connections each, default time limits.
    storage = tempfile.mkdtemp(prefix="flood-storage-")
    with start_gateway(emulator, WEB_CONCURRENCY="2", STORAGE_DIR=storage, URL_SIGNING_SECRET=SECRET) as gateway:
        gateway.storage_dir = storage  # type: ignore[attr-defined]
        yield gateway


def big_image_request(gateway: GatewayHandle) -> bytes:
    """A GET of an 8 MB stored image at its signed link: a reply far larger than the socket buffers."""
    key = new_key("png")
    LocalStore(gateway.storage_dir).put(key, b"\x89PNG" + os.urandom(8 * 1024 * 1024),  # type: ignore[attr-defined]
                                        content_type="image/png")
    query = LinkSigner(SECRET.encode()).query(key, 3600)
    return f"GET /v1/images/{key.removeprefix('images/')}?{query} HTTP/1.1\r\nHost: x\r\n\r\n".encode()


def address(gateway: GatewayHandle) -> tuple[str, int]:
    host, port = gateway.url.removeprefix("http://").split(":")
    return host, int(port)


def connect(gateway: GatewayHandle) -> socket.socket | None:
    try:
        return socket.create_connection(address(gateway), timeout=5)
    except OSError:
        return None


def send_quietly(sock: socket.socket, data: bytes) -> None:
    with contextlib.suppress(OSError):
        sock.setblocking(False)
        sock.send(data)


def test_thousands_of_idle_and_trickling_sockets_do_not_stop_real_requests(
    deployed: GatewayHandle, upstream: EmulatorHandle
) -> None:
    body = json.dumps(CHAT).encode()
    head = (f"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {deployed.api_key}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n").encode()
    opened: list[socket.socket] = []
    latencies: list[float] = []
    failures: list[str] = []
    stop = threading.Event()

    def real_client() -> None:
        with requests.Session() as session:
            while not stop.is_set():
                started = time.monotonic()
                try:
                    reply = session.post(f"{deployed.base_url}/chat/completions", json=CHAT, timeout=10,
                                         headers={"Authorization": f"Bearer {deployed.api_key}"})
                    if reply.status_code != 200:
                        failures.append(f"{reply.status_code}: {reply.text[:100]}")
                except requests.RequestException as exc:
                    failures.append(type(exc).__name__)
                latencies.append(time.monotonic() - started)
                stop.wait(0.2)

    clients = [threading.Thread(target=real_client, daemon=True) for _ in range(2)]
    try:
        for client in clients:
            client.start()
        image_request = big_image_request(deployed)
        for _ in range(UNREAD):  # readers that never read: small windows, never drained
            sock = socket.socket()
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
            with contextlib.suppress(OSError):
                sock.connect(address(deployed))
                sock.sendall(image_request)
            opened.append(sock)
        idle = [s for s in (connect(deployed) for _ in range(IDLE)) if s is not None]
        slowloris = [s for s in (connect(deployed) for _ in range(SLOWLORIS)) if s is not None]
        trickled = [s for s in (connect(deployed) for _ in range(TRICKLED)) if s is not None]
        opened += idle + slowloris + trickled
        assert len(idle) + len(slowloris) + len(trickled) > 0.9 * (IDLE + SLOWLORIS + TRICKLED)
        for sock in slowloris:
            send_quietly(sock, b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\n")
        for sock in trickled:
            send_quietly(sock, head + body[:3])
        deadline = time.monotonic() + FLOOD_SECONDS
        position = 3
        while time.monotonic() < deadline:
            for sock in slowloris:
                send_quietly(sock, b"X-Slow: 1\r\n")  # a header line a second, never the blank line
            if position < len(body):
                for sock in trickled:
                    send_quietly(sock, body[position:position + 1])  # a byte a second of the body
                position += 1
            time.sleep(1.0)
        # More sockets than the workers hold were opened and kept busy: the cap closed the oldest waiting ones.
        closed = sum(1 for sock in idle[:200] if _closed(sock))
        assert closed > 100, f"only {closed} of the first 200 idle sockets were closed by the gateway"
    finally:
        stop.set()
        for client in clients:
            client.join(timeout=15)
        for sock in opened:
            sock.close()
    assert not failures, failures[:10]
    assert len(latencies) >= FLOOD_SECONDS * 4, len(latencies)
    assert max(latencies) < 5, f"slowest real request took {max(latencies):.2f} s"
    assert statistics.median(latencies) < 1, f"median real request took {statistics.median(latencies):.2f} s"
    print(f"flood: {len(latencies)} real requests, median {statistics.median(latencies) * 1000:.0f} ms, "
          f"max {max(latencies) * 1000:.0f} ms")
    # And afterwards, nothing is wedged.
    assert requests.post(f"{deployed.base_url}/chat/completions", json=CHAT, timeout=10,
                         headers={"Authorization": f"Bearer {deployed.api_key}"}).status_code == 200


def _closed(sock: socket.socket) -> bool:
    sock.setblocking(True)
    sock.settimeout(0.01)
    try:
        return sock.recv(1) == b""
    except (TimeoutError, BlockingIOError):
        return False
    except OSError:
        return True
