"""Images that clients send by URL (`data:` or `http(s)`), loaded into bytes for Workers AI.

Workers AI vision models accept only inline bytes (a byte array or a data URI; "HTTP URL will
not be accepted"), so the gateway fetches remote images itself, within size and time limits and
behind the private-address guard.
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

from openai_compat.connections import shutdown_socket
from openai_compat.errors import InvalidRequestError
from openai_compat.net_guard import (
    PrivatePeerError,
    Resolver,
    check_public_url,
    private_address_error,
    system_resolver,
)
from openai_compat.transport import PublicOnlyAdapter

MAX_REDIRECTS = 3


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


@dataclass(frozen=True)
class ImageData:
    mime: str
    data: bytes

    def data_uri(self) -> str:
        return f"data:{self.mime};base64,{base64.b64encode(self.data).decode()}"


def decode_data_url(url: str, param: str, max_bytes: int) -> ImageData:
    header, sep, payload = url.partition(",")
    if not sep or not header.startswith("data:"):
        raise InvalidRequestError("Malformed data URL: expected data:<mime>;base64,<data>.", param=param)
    meta = header[5:].split(";")
    mime = meta[0] or "application/octet-stream"
    if not mime.startswith("image/"):
        raise InvalidRequestError(f"The data URL holds {mime!r}, not an image.", param=param)
    try:
        data = base64.b64decode(payload, validate=True) if "base64" in meta[1:] else unquote_to_bytes(payload)
    except (binascii.Error, ValueError):
        raise InvalidRequestError("The data URL's base64 payload is invalid.", param=param) from None
    if not data:
        raise InvalidRequestError("The data URL holds no image data.", param=param)
    if len(data) > max_bytes:
        raise InvalidRequestError(f"The image is larger than {max_bytes} bytes.", param=param)
    return ImageData(mime, data)


class ImageFetcher:
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

    def load(self, url: str, param: str) -> ImageData:
        if url.startswith("data:"):
            return decode_data_url(url, param, self._max_bytes)
        return self._fetch(url, param)

    def _fetch(self, url: str, param: str) -> ImageData:
        deadline = time.monotonic() + self._timeout
        for _ in range(MAX_REDIRECTS + 1):
            check_public_url(url, param, self._resolve)
            remaining = max(0.1, deadline - time.monotonic())
            try:
                response = self._session.get(url, stream=True, timeout=(min(5.0, remaining), remaining),
                                             allow_redirects=False)
            except requests.RequestException as exc:
                if _caused_by(exc, PrivatePeerError):
                    raise private_address_error(url, param) from None
                raise InvalidRequestError(f"Could not fetch the image ({type(exc).__name__}).", param=param) from None
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
                    raise InvalidRequestError(f"Fetching the image failed with HTTP {response.status_code}.",
                                              param=param)
                return ImageData(self._mime(response, param), self._read(response, param, deadline))
        raise InvalidRequestError("Too many redirects while fetching the image.", param=param)

    def _mime(self, response: requests.Response, param: str) -> str:
        mime = response.headers.get("Content-Type", "").split(";")[0].strip().lower()
        if not mime.startswith("image/"):
            raise InvalidRequestError(f"The URL did not return an image (Content-Type {mime!r}).", param=param)
        return mime

    def _read(self, response: requests.Response, param: str, deadline: float) -> bytes:
        body = bytearray()
        try:
            for chunk in response.iter_content(chunk_size=8192):
                body.extend(chunk)
                if len(body) > self._max_bytes:
                    raise InvalidRequestError(f"The image is larger than {self._max_bytes} bytes.", param=param)
                if time.monotonic() > deadline:
                    raise InvalidRequestError("Fetching the image took too long.", param=param)
        except (requests.RequestException, OSError) as exc:
            if time.monotonic() >= deadline:
                raise InvalidRequestError("Fetching the image took too long.", param=param) from None
            raise InvalidRequestError(f"Could not fetch the image ({type(exc).__name__}).", param=param) from None
        return bytes(body)
