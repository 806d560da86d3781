"""A fault-injecting HTTP proxy in front of moto's S3 server: the R2 stand-in made slow, refusing,
down, or failing chosen writes, for the storage fault tests (images and stored Responses alike)."""

from __future__ import annotations

import threading
import time
from http.client import HTTPConnection
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit


class FlakyS3Proxy(ThreadingHTTPServer):
    """Forwards S3 requests to moto. Faults, all changeable while it runs:

    - `down`: no answer at all, the connection just drops (a stopped server, as a client sees it);
      `fail_after`: go down by itself once that many image objects were written;
    - `delay`: seconds to wait before forwarding each request (a slow store);
    - `status`: answer every request with this status and an S3 error body instead (503: refusing);
    - `failing_keys`: the 1-based ordinals of distinct objects written under `fail_prefix` whose every
      write is answered 500 (one write of several failing, boto's own retries included).
    """

    daemon_threads = True

    def __init__(self, target: str, fail_after: int = 10**9) -> None:
        super().__init__(("127.0.0.1", 0), _ProxyHandler)
        self.target = urlsplit(target)
        self.fail_after = fail_after
        self.puts = 0
        self.down = False
        self.delay = 0.0
        self.status: int | None = None
        self.fail_prefix = "/images/"
        self.failing_keys: set[int] = set()
        self.seen_keys: list[str] = []
        self.requests = 0
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def start(self) -> FlakyS3Proxy:
        self._thread = threading.Thread(target=self.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self.shutdown()
        self.server_close()

    def up(self) -> None:
        """Every fault off: the store is back."""
        self.down = False
        self.fail_after = 10**9
        self.delay = 0.0
        self.status = None
        self.failing_keys = set()

    def _ordinal(self, path: str) -> int:
        with self._lock:
            if path not in self.seen_keys:
                self.seen_keys.append(path)
            return self.seen_keys.index(path) + 1


_S3_ERRORS = {500: "InternalError", 503: "SlowDown", 403: "AccessDenied"}


class _ProxyHandler(BaseHTTPRequestHandler):
    server: FlakyS3Proxy
    protocol_version = "HTTP/1.1"

    def log_message(self, *args: object) -> None:
        pass

    def _error(self, status: int) -> None:
        body = (f"<?xml version='1.0' encoding='UTF-8'?><Error><Code>{_S3_ERRORS.get(status, 'InternalError')}"
                "</Code><Message>injected by the test proxy</Message></Error>").encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/xml")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _forward(self) -> None:
        server = self.server
        with server._lock:
            server.requests += 1
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else None
        if server.delay:
            time.sleep(server.delay)
        if server.down:
            self.close_connection = True
            return  # no answer at all: the client sees the connection drop
        if server.status is not None:
            self._error(server.status)
            return
        path = self.path.split("?", 1)[0]
        failing = self.command == "PUT" and server.fail_prefix in path and server.failing_keys
        if failing and server._ordinal(path) in server.failing_keys:
            self._error(500)
            return
        upstream = HTTPConnection(server.target.hostname, server.target.port, timeout=30)
        headers = {k: v for k, v in self.headers.items() if k.lower() != "host"}
        headers["Host"] = server.target.netloc
        upstream.request(self.command, self.path, body=body, headers=headers)
        reply = upstream.getresponse()
        data = reply.read()
        self.send_response(reply.status)
        for name, value in reply.getheaders():
            if name.lower() not in ("transfer-encoding", "connection", "content-length"):
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)
        upstream.close()
        if self.command == "PUT" and "/images/" in self.path and reply.status == 200:
            with server._lock:
                server.puts += 1
                if server.puts >= server.fail_after:
                    server.down = True

    do_GET = do_PUT = do_HEAD = do_DELETE = do_POST = _forward
