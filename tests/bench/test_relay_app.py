"""The pure relay (bench.relay_app), the bench's second floor: it must pass the upstream's bytes on
exactly as they came, chunk for chunk and as they arrive, or it is not the floor it claims to be."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from bench.relay_app import create_relay_app

# Chunk boundaries that fall mid-event and mid-line, a padding comment, non-ASCII bytes: a relay that
# parsed or re-framed events would change at least one of them.
CHUNKS = [
    b'data: {"response":"Hel',
    b'lo"}\n\n',
    b": " + b"x" * 300 + b'\n\ndata: {"response":"caf\xc3\xa9"}\n\n',
    b'data: {"response":"","usage":{"prompt_tokens":3}}\n\ndata: [DONE]\n\n',
]


@dataclass
class Upstream:
    url: str
    seen: list[tuple[str, str, str | None, bytes]] = field(default_factory=list)
    release: threading.Event = field(default_factory=threading.Event)


@pytest.fixture
def upstream() -> Iterator[Upstream]:
    state = Upstream(url="")

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: object) -> None:
            pass

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            state.seen.append(("POST", self.path, self.headers.get("Authorization"), body))
            if self.path.startswith("/json"):
                reply = json.dumps({"result": {"response": "hi"}, "success": True}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(reply)))
                self.end_headers()
                self.wfile.write(reply)
                return
            if self.path.startswith("/missing"):
                reply = b'{"errors":[{"code":5007,"message":"No such model"}],"success":false}'
                self.send_response(400)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(reply)))
                self.end_headers()
                self.wfile.write(reply)
                return
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            for i, chunk in enumerate(CHUNKS):
                if i == 1:  # the rest only once the test has seen the first chunk come out of the relay
                    state.release.wait(10)
                self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                self.wfile.flush()
            self.wfile.write(b"0\r\n\r\n")
            self.wfile.flush()

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    state.url = f"http://127.0.0.1:{server.server_address[1]}/client/v4"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield state
    state.release.set()
    server.shutdown()
    server.server_close()


def test_a_chunked_event_stream_comes_out_byte_for_byte_and_chunk_for_chunk_as_it_arrives(upstream: Upstream) -> None:
    client = create_relay_app(upstream.url, pool_size=4).test_client()
    body = b'{"messages":[{"role":"user","content":"hi"}],"stream":true}'
    reply = client.post("/client/v4/accounts/abc/ai/run/@cf/meta/model", data=body, buffered=False,
                        headers={"Authorization": "Bearer upstream-token", "Content-Type": "application/json"})
    try:
        assert reply.status_code == 200 and reply.headers["Content-Type"] == "text/event-stream"
        pieces = iter(reply.response)
        assert next(pieces) == CHUNKS[0]  # out before the upstream sent the second chunk: not buffered
        upstream.release.set()
        assert [CHUNKS[0], *pieces] == CHUNKS
    finally:
        reply.close()
    # The request went on unchanged too: same path, same credentials, same bytes.
    assert upstream.seen == [("POST", "/client/v4/accounts/abc/ai/run/@cf/meta/model", "Bearer upstream-token", body)]


def test_replies_with_a_length_and_upstream_errors_pass_through_with_their_status(upstream: Upstream) -> None:
    client = create_relay_app(upstream.url, pool_size=4).test_client()
    ok = client.post("/json?x=1", data=b"{}", headers={"Content-Type": "application/json"})
    assert ok.status_code == 200 and ok.get_json() == {"result": {"response": "hi"}, "success": True}
    refused = client.post("/missing", data=b"{}", headers={"Content-Type": "application/json"})
    assert refused.status_code == 400 and refused.get_json()["errors"][0]["code"] == 5007
    assert [path for _, path, _, _ in upstream.seen] == ["/json?x=1", "/missing"]


def test_the_relay_refuses_an_upstream_it_cannot_reach_in_plain_http() -> None:
    with pytest.raises(ValueError, match="plain HTTP"):
        create_relay_app("https://api.cloudflare.com/client/v4")
