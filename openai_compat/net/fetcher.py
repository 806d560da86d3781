"""The one guarded fetcher: what a client sends by URL (`data:` or `http(s)`), loaded into bytes.

Workers AI takes inputs only inline (vision models: "HTTP URL will not be accepted"), so the gateway
fetches remote media itself: every hop (redirects included) must resolve to public addresses, the
address each connection actually reaches is checked again before a byte is sent, and size and time
are capped (a server trickling bytes is cut at the overall deadline, not just a per-read timeout).
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import unquote_to_bytes, urljoin

import requests

from openai_compat.errors import InvalidRequestError
from openai_compat.media.pictures import refuse_bombs
from openai_compat.net.guard import PrivatePeerError, Resolver, check_public_url, private_address_error, system_resolver
from openai_compat.net.transport import PublicOnlyAdapter, shutdown_socket

MAX_REDIRECTS = 3


@dataclass(frozen=True)
class Fetched:
    mime: str
    data: bytes

    def data_uri(self) -> str:
        return f"data:{self.mime};base64,{base64.b64encode(self.data).decode()}"


@contextlib.contextmanager
def _cancelling(timer: threading.Timer) -> Iterator[None]:
    try:
        yield
    finally:
        timer.cancel()


def _caused_by(exc: BaseException, kind: type[BaseException]) -> bool:
    """Whether `kind` is anywhere in the chain urllib3 and requests wrap a connection error in."""
    seen: set[int] = set()
    pending: list[BaseException | None] = [exc]
    while pending:
        current = pending.pop()
        if current is None or id(current) in seen:
            continue
        if isinstance(current, kind):
            return True
        seen.add(id(current))
        pending += [current.__cause__, current.__context__, getattr(current, "reason", None)]
        pending += [arg for arg in current.args if isinstance(arg, BaseException)]
    return False


def decode_data_url(url: str, param: str, max_bytes: int, kind: str = "image") -> Fetched:
    header, sep, payload = url.partition(",")
    if not sep or not header.startswith("data:"):
        raise InvalidRequestError("Malformed data URL: expected data:<mime>;base64,<data>.", param=param)
    meta = header[5:].split(";")
    mime = (meta[0] or "application/octet-stream").lower()
    if not mime.startswith(f"{kind}/"):
        raise InvalidRequestError(f"The data URL holds {mime!r}, not an {kind}.", param=param)
    if len(payload) > max_bytes * 4 // 3 + 4:
        raise InvalidRequestError(f"The {kind} is larger than {max_bytes} bytes.", param=param)
    try:
        data = base64.b64decode(payload, validate=True) if "base64" in meta[1:] else unquote_to_bytes(payload)
    except (binascii.Error, ValueError):
        raise InvalidRequestError("The data URL's base64 payload is invalid.", param=param) from None
    if not data:
        raise InvalidRequestError(f"The data URL holds no {kind} data.", param=param)
    if len(data) > max_bytes:
        raise InvalidRequestError(f"The {kind} is larger than {max_bytes} bytes.", param=param)
    return Fetched(mime, data)


class GuardedFetcher:
    def __init__(
        self,
        *,
        max_bytes: int,
        timeout_seconds: float,
        resolve: Resolver = system_resolver,
        session: requests.Session | None = None,
    ) -> None:
        self._max_bytes = max_bytes
        self._timeout = timeout_seconds
        self._resolve = resolve
        if session is None:
            session = requests.Session()
            adapter = PublicOnlyAdapter(max_retries=0)
            session.mount("http://", adapter)
            session.mount("https://", adapter)
        self._session = session

    def load(self, url: str, param: str, *, kind: str = "image") -> Fetched:
        """The bytes behind a `data:` or public `http(s)` URL whose media type is `kind/*`, or a 400
        naming `param`."""
        fetched = decode_data_url(url, param, self._max_bytes, kind) if url.startswith("data:") else \
            self._fetch(url, param, kind)
        if kind == "image":
            refuse_bombs(fetched.data, param)  # a tiny file declaring gigapixels goes no further
        return fetched

    def _fetch(self, url: str, param: str, kind: str) -> Fetched:
        deadline = time.monotonic() + self._timeout
        for _ in range(MAX_REDIRECTS + 1):
            check_public_url(url, param, self._resolve)
            remaining = max(0.1, deadline - time.monotonic())
            try:
                # No compression asked for; a server that compresses anyway is read through urllib3's
                # bounded decoder and cut at the size limit, so a gzip bomb never expands in memory.
                response = self._session.get(url, stream=True, timeout=(min(5.0, remaining), remaining),
                                             allow_redirects=False, headers={"Accept-Encoding": "identity"})
            except requests.RequestException as exc:
                if _caused_by(exc, PrivatePeerError):
                    raise private_address_error(url, param) from None
                raise InvalidRequestError(f"Could not fetch the {kind} ({type(exc).__name__}).", param=param) from None
            # The read timeout restarts with every byte, so a server trickling bytes could hold a
            # worker for ever: a watchdog cuts the connection at the overall deadline.
            watchdog = threading.Timer(max(0.0, deadline - time.monotonic()), shutdown_socket, (response,))
            watchdog.daemon = True
            watchdog.start()
            with response, _cancelling(watchdog):
                if response.is_redirect and "Location" in response.headers:
                    url = urljoin(url, response.headers["Location"])
                    continue
                if response.status_code != 200:
                    raise InvalidRequestError(f"Fetching the {kind} failed with HTTP {response.status_code}.",
                                              param=param)
                mime = response.headers.get("Content-Type", "").split(";")[0].strip().lower()
                if not mime.startswith(f"{kind}/"):
                    raise InvalidRequestError(f"The URL did not return an {kind} (Content-Type {mime!r}).",
                                              param=param)
                return Fetched(mime, self._read(response, param, deadline, kind))
        raise InvalidRequestError(f"Too many redirects while fetching the {kind}.", param=param)

    def _read(self, response: requests.Response, param: str, deadline: float, kind: str) -> bytes:
        declared = response.headers.get("Content-Length", "")
        if declared.isdigit() and int(declared) > self._max_bytes:
            raise InvalidRequestError(f"The {kind} is larger than {self._max_bytes} bytes.", param=param)
        body = bytearray()
        try:
            for chunk in response.iter_content(chunk_size=65536):
                body.extend(chunk)
                if len(body) > self._max_bytes:
                    raise InvalidRequestError(f"The {kind} is larger than {self._max_bytes} bytes.", param=param)
                if time.monotonic() > deadline:
                    raise InvalidRequestError(f"Fetching the {kind} took too long.", param=param)
        except (requests.RequestException, OSError) as exc:
            if time.monotonic() >= deadline:
                raise InvalidRequestError(f"Fetching the {kind} took too long.", param=param) from None
            raise InvalidRequestError(f"Could not fetch the {kind} ({type(exc).__name__}).", param=param) from None
        return bytes(body)
