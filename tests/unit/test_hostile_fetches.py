"""What a hostile URL or file can make the gateway do: reach the cloud's metadata services or the host's
own network (through every encoding of such an address), wait for ever, or expand a few kilobytes into
gigabytes (a gzip bomb, a PNG declaring gigapixels). Each is refused."""

from __future__ import annotations

import base64
import gzip
import http.server
import struct
import threading
import time
import tracemalloc
import zlib
from collections.abc import Iterator

import pytest
import responses

from openai_compat.errors import InvalidRequestError
from openai_compat.media.pictures import MAX_PIXELS, refuse_bombs
from openai_compat.net.fetcher import GuardedFetcher
from openai_compat.net.guard import is_public_address

PUBLIC = "93.184.215.14"


@pytest.mark.parametrize("address", [
    "169.254.169.254",  # AWS, GCP, Azure metadata
    "fd00:ec2::254",  # AWS metadata over IPv6
    "100.100.100.200",  # Alibaba Cloud metadata
    "192.0.0.192",  # Oracle Cloud metadata
    "168.63.129.16",  # Azure WireServer
    "::ffff:169.254.169.254", "::ffff:10.0.0.1", "::ffff:127.0.0.1",  # IPv4-mapped IPv6
    "::127.0.0.1",  # IPv4-compatible IPv6
    "64:ff9b::a9fe:a9fe",  # NAT64 of the metadata address
    "2002:7f00:1::1", "2002:a9fe:a9fe::1",  # 6to4 of loopback and of the metadata address
    "224.0.0.1", "239.255.255.250", "ff02::1", "ff05::2",  # multicast
    "255.255.255.255", "0.0.0.0", "0.1.2.3", "::",  # broadcast, unspecified, "this network"
    "127.0.0.1", "127.255.0.9", "::1",  # loopback
    "10.0.0.1", "172.31.255.1", "192.168.0.1", "fec0::1", "fe80::1%eth0",  # private, site-local, link-local
    "198.18.0.1", "240.0.0.1", "192.0.2.1", "2001:db8::1",  # benchmarking, reserved, documentation
])
def test_private_loopback_link_local_multicast_and_metadata_addresses_are_refused(address: str) -> None:
    assert not is_public_address(address)


@pytest.mark.parametrize("address", [PUBLIC, "8.8.8.8", "2606:4700:4700::1111", "::ffff:8.8.8.8"])
def test_public_addresses_pass(address: str) -> None:
    assert is_public_address(address)


def fetcher(max_bytes: int = 1_000_000, timeout: float = 5) -> GuardedFetcher:
    return GuardedFetcher(max_bytes=max_bytes, timeout_seconds=timeout, resolve=lambda host, port: [PUBLIC])


@responses.activate
def test_a_gzip_bomb_is_cut_at_the_size_limit_without_expanding_in_memory() -> None:
    bomb = gzip.compress(b"\0" * (256 * 1024 * 1024), compresslevel=9)  # 256 MiB from about 250 KB
    assert len(bomb) < 1_000_000
    responses.get("http://img.test/bomb.png", body=bomb, content_type="image/png",
                  headers={"Content-Encoding": "gzip"})
    tracemalloc.start()
    try:
        with pytest.raises(InvalidRequestError, match="larger than 1000000 bytes"):
            fetcher().load("http://img.test/bomb.png", "messages[0].content[1].image_url.url")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 16 * 1024 * 1024, f"{peak / 1e6:.0f} MB held while reading a 1 MB-limited bomb"
    assert responses.calls[0].request.headers["Accept-Encoding"] == "identity"


def png_header(width: int, height: int) -> bytes:
    """A valid PNG of any declared size: the signature, IHDR, one tiny IDAT (a compressed row of
    zeros, far short of the rows declared) and IEND."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 1024))
            + chunk(b"IEND", b""))


@pytest.mark.parametrize(("width", "height"), [(100_000, 100_000), (MAX_PIXELS, 2), (70_000, 1_000)])
def test_a_tiny_png_declaring_gigapixels_is_refused_without_decoding(width: int, height: int) -> None:
    bomb = png_header(width, height)
    assert len(bomb) < 200
    started = time.monotonic()
    with pytest.raises(InvalidRequestError) as caught:
        refuse_bombs(bomb, "input[0].content[1].image_url")
    assert caught.value.param == "input[0].content[1].image_url" and time.monotonic() - started < 1
    data_url = "data:image/png;base64," + base64.b64encode(bomb).decode()
    with pytest.raises(InvalidRequestError, match="pixels"):
        fetcher().load(data_url, "p")


def test_ordinary_images_and_unknown_formats_pass() -> None:
    refuse_bombs(png_header(1024, 1024), "p")
    refuse_bombs(b"GIF89a not really", "p")  # a format left to the model to judge


@pytest.fixture
def trickling_server() -> Iterator[str]:
    """Answers an image a byte every 0.2 s: each read is quick, the whole never ends."""

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "image/png")
            self.end_headers()
            try:
                for _ in range(500):
                    self.wfile.write(b"x")
                    self.wfile.flush()
                    time.sleep(0.2)
            except OSError:
                pass

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://trickle.test:{server.server_address[1]}/slow.png"
    finally:
        server.shutdown()
        server.server_close()


def test_a_trickling_server_is_cut_at_the_overall_deadline(
    trickling_server: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The connected-address check refuses loopback; let this one test server count as public.
    monkeypatch.setattr("openai_compat.net.transport.is_public_address", lambda address: True)
    slow = GuardedFetcher(max_bytes=1_000_000, timeout_seconds=1.5,
                          resolve=lambda host, port: [PUBLIC] if host == "trickle.test" else [])
    monkeypatch.setattr("socket.getaddrinfo", _loopback_for("trickle.test"))
    started = time.monotonic()
    with pytest.raises(InvalidRequestError, match="too long"):
        slow.load(trickling_server, "p")
    assert time.monotonic() - started < 4


def _loopback_for(host: str):
    import socket

    real = socket.getaddrinfo

    def resolve(name, *args, **kwargs):
        return real("127.0.0.1" if name == host else name, *args, **kwargs)

    return resolve
