"""The private-address guard and image loading (data URLs and fetched URLs)."""

from __future__ import annotations

import base64
import http.server
import threading
from collections.abc import Iterator

import pytest
import responses

from openai_compat.errors import InvalidRequestError
from openai_compat.net.fetcher import GuardedFetcher, decode_data_url
from openai_compat.net.guard import check_public_url, is_public_address

PUBLIC = "93.184.215.14"


@pytest.mark.parametrize(
    "address",
    ["127.0.0.1", "10.1.2.3", "172.16.0.1", "192.168.1.1", "169.254.169.254", "100.64.0.1", "0.0.0.0",
     "::1", "fe80::1", "fd00:ec2::254", "::ffff:127.0.0.1", "::ffff:169.254.169.254", "224.0.0.1"],
)
def test_private_addresses_are_not_public(address: str) -> None:
    assert not is_public_address(address)


@pytest.mark.parametrize("address", [PUBLIC, "8.8.8.8", "2606:4700:4700::1111"])
def test_public_addresses(address: str) -> None:
    assert is_public_address(address)


def resolver(table: dict[str, list[str]]):
    return lambda host, port: table[host]


def test_a_host_resolving_to_any_private_address_is_refused() -> None:
    with pytest.raises(InvalidRequestError) as caught:
        check_public_url("http://mixed.test/x.png", "p", resolver({"mixed.test": [PUBLIC, "10.0.0.1"]}))
    assert caught.value.code == "invalid_image_url" and caught.value.param == "p"


@pytest.mark.parametrize("url", ["file:///etc/passwd", "ftp://x.test/a", "gopher://x"])
def test_only_http_urls(url: str) -> None:
    with pytest.raises(InvalidRequestError):
        check_public_url(url, "p", resolver({}))


def fetcher(**kw) -> GuardedFetcher:
    table = {"img.test": [PUBLIC], "evil.test": [PUBLIC], "metadata.test": ["169.254.169.254"]}
    return GuardedFetcher(max_bytes=kw.get("max_bytes", 1000), timeout_seconds=5, resolve=resolver(table))


@responses.activate
def test_fetches_a_public_image() -> None:
    responses.get("http://img.test/cat.png", body=b"\x89PNG....", content_type="image/png")
    image = fetcher().load("http://img.test/cat.png", "p")
    assert image.mime == "image/png" and image.data == b"\x89PNG...."


@responses.activate
def test_redirect_to_a_private_address_is_refused() -> None:
    responses.get("http://evil.test/a.png", status=302, headers={"Location": "http://metadata.test/latest/meta-data"})
    with pytest.raises(InvalidRequestError) as caught:
        fetcher().load("http://evil.test/a.png", "p")
    assert caught.value.code == "invalid_image_url"
    assert len(responses.calls) == 1


@responses.activate
def test_size_limit_and_content_type() -> None:
    responses.get("http://img.test/big.png", body=b"x" * 5000, content_type="image/png")
    with pytest.raises(InvalidRequestError, match="larger"):
        fetcher().load("http://img.test/big.png", "p")
    responses.get("http://img.test/page", body=b"<html>", content_type="text/html")
    with pytest.raises(InvalidRequestError, match="not return an image"):
        fetcher().load("http://img.test/page", "p")


def test_data_urls() -> None:
    payload = base64.b64encode(b"\x89PNG").decode()
    assert decode_data_url(f"data:image/png;base64,{payload}", "p", 100).data == b"\x89PNG"
    for bad in ("data:image/png;base64,!!!", "data:text/plain;base64,QQ==", "data:image/png;base64,"):
        with pytest.raises(InvalidRequestError):
            decode_data_url(bad, "p", 100)


@pytest.fixture
def local_image_server() -> Iterator[tuple[str, list[str]]]:
    """A real HTTP server on loopback serving a PNG, recording the paths it was asked for."""
    seen: list[str] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            seen.append(self.path)
            self.send_response(200)
            self.send_header("Content-Type", "image/png")
            self.send_header("Content-Length", "4")
            self.end_headers()
            self.wfile.write(b"\x89PNG")

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"localhost:{server.server_address[1]}", seen
    finally:
        server.shutdown()


def test_a_host_that_rebinds_to_a_private_address_after_the_check_is_refused(
    local_image_server: tuple[str, list[str]],
) -> None:
    host, seen = local_image_server
    checked_as_public = GuardedFetcher(max_bytes=1000, timeout_seconds=5, resolve=resolver({"localhost": [PUBLIC]}))
    with pytest.raises(InvalidRequestError) as caught:
        checked_as_public.load(f"http://{host}/cat.png", "messages[0].content[1].image_url.url")
    assert caught.value.code == "invalid_image_url"
    assert seen == []  # refused before a request was sent
