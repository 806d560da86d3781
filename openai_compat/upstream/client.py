"""The one Workers AI client: JSON, SSE and binary replies over a pooled session.

Retries happen only here and only before anything has been returned to the caller, which is
before any byte has reached the gateway's client: a stream that has begun is never replayed.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import random
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urlencode

import requests
import urllib3
from requests.adapters import HTTPAdapter
from requests.structures import CaseInsensitiveDict

from openai_compat import jsonio
from openai_compat.connections import shutdown_socket
from openai_compat.errors import APIError, UpstreamError, UpstreamTimeoutError
from openai_compat.settings import Settings
from openai_compat.transport import UpstreamAdapter
from openai_compat.upstream.error_map import envelope_errors, map_upstream_error, parse_retry_after
from openai_compat.upstream.event_stream import iter_event_data

log = logging.getLogger("openai_compat.upstream")

RETRY_STATUSES = frozenset({429, 502, 503, 504})
NO_RETRY_CODES = frozenset({3036})  # a spent daily allocation does not come back in seconds
CATALOGUE_READ_TIMEOUT_SECONDS = 5.0
DRAIN_SECONDS = 0.1
DRAIN_CHUNK_BYTES = 64 * 1024


class UpstreamStreamError(UpstreamError):
    """The stream broke after it started; only an in-band error event can report it."""


@dataclass
class UpstreamReply:
    """What Workers AI answered: exactly one of `result` (JSON), `events` (SSE) or `body` (binary)."""

    content_type: str
    elapsed_ms: float
    result: Any = None
    events: Iterator[dict[str, Any]] | None = None
    body: bytes | None = None
    _response: requests.Response | None = field(default=None, repr=False)

    def close(self) -> None:
        """Release the connection; for a stream this also stops generation upstream.

        The socket is shut down first: closing alone does not wake a thread blocked reading it.
        """
        if self._response is not None:
            shutdown_socket(self._response)
            # A reader thread may be inside a read of this response right now; its read fails on
            # the shut socket and `_events` then closes the response from that thread.
            with contextlib.suppress(RuntimeError):
                self._response.close()


def _media_type(response: requests.Response) -> str:
    return response.headers.get("Content-Type", "").split(";")[0].strip().lower()


def _hand_back(response: requests.Response) -> None:
    """Read a finished stream's body to its end so the connection goes back to the pool: closed
    unread, the next stream would pay a new TCP and TLS handshake. After `[DONE]` only the body's
    terminator is left, so the read is bounded in time: an upstream that keeps the body open (or
    trickles) costs a moment, not the read timeout, and its connection is closed by the caller."""
    raw = response.raw
    sock = getattr(raw.connection, "sock", None)
    if sock is not None:
        sock.settimeout(DRAIN_SECONDS)  # urllib3 sets the timeout again when it reuses the connection
    deadline = time.monotonic() + DRAIN_SECONDS
    try:
        while raw.read(DRAIN_CHUNK_BYTES, decode_content=False):  # b"" at the end: back in the pool
            if time.monotonic() > deadline:
                return
    except (urllib3.exceptions.HTTPError, OSError):
        return


def _json_or_none(response: requests.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


class WorkersAIClient:
    def __init__(
        self,
        settings: Settings,
        adapter: HTTPAdapter | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._settings = settings
        self._sleep = sleep
        self._adapter = adapter or UpstreamAdapter(pool_connections=4, pool_maxsize=settings.pool_size, max_retries=0)
        headers = requests.utils.default_headers()
        headers["Authorization"] = f"Bearer {settings.cloudflare_api_token.get_secret_value()}"
        if settings.cloudflare_ai_gateway_token is not None:
            headers["cf-aig-authorization"] = f"Bearer {settings.cloudflare_ai_gateway_token.get_secret_value()}"
        self._headers = headers
        self._timeout = (settings.upstream_connect_timeout_seconds, settings.upstream_read_timeout_seconds)
        account = quote(settings.cloudflare_account_id, safe="")
        self._account_url = f"{settings.workers_ai_base_url}/accounts/{account}/ai"
        if settings.cloudflare_ai_gateway_id:
            gateway = quote(settings.cloudflare_ai_gateway_id, safe="")
            self._run_base = f"{settings.cloudflare_ai_gateway_base_url}/{account}/{gateway}/workers-ai"
        else:
            self._run_base = f"{self._account_url}/run"
        self._proxies, self._verify = self._read_environment_once()

    def _read_environment_once(self) -> tuple[dict[str, str], bool | str]:
        """Proxy and CA settings from the environment, read at start-up rather than per request.

        A `requests.Session` re-reads proxy variables and netrc on every call, which was a fifth of
        the gateway's CPU per request; the upstream hosts are fixed, so once is enough.
        """
        proxies: dict[str, str] = {}
        for url in (self._run_base, self._account_url):
            proxies.update(requests.utils.get_environ_proxies(url))
        bundle = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE")
        return proxies, bundle or True

    def run_url(self, model: str) -> str:
        return f"{self._run_base}/{'/'.join(quote(part, safe='@') for part in model.split('/'))}"

    def run(
        self,
        model: str,
        payload: dict[str, Any] | None = None,
        *,
        data: bytes | None = None,
        content_type: str | None = None,
        requested: str | None = None,
    ) -> UpstreamReply:
        """Run a model (a JSON payload, or raw `data` bytes for binary-input models); the reply's
        kind follows the Content-Type Workers AI answered with."""
        if payload is not None:
            data = jsonio.dumps(payload)
            content_type = "application/json"
        headers = {"Content-Type": content_type} if content_type else None
        # Errors name the model as the client asked for it (an alias), not the @cf/ name behind it.
        response, elapsed_ms = self._send(
            "POST", self.run_url(model), model=requested or model, data=data, headers=headers
        )
        media = _media_type(response)
        if media == "text/event-stream":
            return UpstreamReply(media, elapsed_ms, events=self._events(response), _response=response)
        try:
            content = response.content
        except requests.RequestException as exc:
            raise UpstreamError(f"Workers AI's reply was cut off: {type(exc).__name__}") from None
        finally:
            response.close()
        if media == "application/json" or media.endswith("+json"):
            try:
                body = jsonio.loads(content) if content else None
            except (ValueError, RecursionError):
                raise UpstreamError("Workers AI answered with malformed JSON.") from None
            if not isinstance(body, dict) or "result" not in body:
                raise UpstreamError("Workers AI answered with JSON the gateway does not recognise.")
            return UpstreamReply(media, elapsed_ms, result=body["result"])
        return UpstreamReply(media or "application/octet-stream", elapsed_ms, body=content)

    def search_models(self, per_page: int = 1000, max_pages: int = 20) -> list[dict[str, Any]]:
        """The account's model catalogue, all pages. A short timeout and no retries: listings wait
        on it, and a stale or alias-only list is better than a slow one."""
        models: list[dict[str, Any]] = []
        for page in range(1, max_pages + 1):
            response, _ = self._send(
                "GET",
                f"{self._account_url}/models/search?{urlencode({'per_page': per_page, 'page': page})}",
                timeout=(self._timeout[0], CATALOGUE_READ_TIMEOUT_SECONDS),
                max_retries=0,
            )
            with response:
                body = _json_or_none(response)
            if not isinstance(body, dict) or not isinstance(body.get("result"), list):
                raise UpstreamError("Workers AI's model catalogue answer was not understood.")
            models.extend(m for m in body["result"] if isinstance(m, dict))
            info = body.get("result_info") or {}
            total_pages = info.get("total_pages")
            if not body["result"] or not isinstance(total_pages, int) or page >= total_pages:
                break
        return models

    def _send(
        self, method: str, url: str, *, model: str | None = None, **kwargs: Any
    ) -> tuple[requests.Response, float]:
        settings = self._settings
        attempt = 0
        while True:
            started = time.perf_counter()
            try:
                response = self._adapter.send(
                    self._prepare(method, url, kwargs.get("data"), kwargs.get("headers")),
                    stream=True,
                    timeout=kwargs.get("timeout", self._timeout),
                    verify=self._verify,
                    proxies=self._proxies,
                )
            except requests.exceptions.ConnectTimeout:
                error: APIError = UpstreamTimeoutError("Timed out connecting to Workers AI.")
                retry_in = self._backoff(attempt)
            except requests.exceptions.ReadTimeout:
                raise UpstreamTimeoutError(
                    f"Workers AI did not answer within {settings.upstream_read_timeout_seconds:g} s."
                ) from None
            except requests.exceptions.ConnectionError as exc:
                error = UpstreamError(f"Could not connect to Workers AI ({type(exc).__name__}).")
                retry_in = self._backoff(attempt)
            else:
                elapsed_ms = (time.perf_counter() - started) * 1000
                if response.status_code < 300:
                    return response, elapsed_ms
                if response.status_code < 400:
                    response.close()
                    raise UpstreamError(
                        f"Workers AI answered with a redirect ({response.status_code}) to "
                        f"{response.headers.get('Location', 'nowhere')!r}; the gateway does not follow "
                        "redirects: check WORKERS_AI_BASE_URL."
                    )
                with response:
                    body = _json_or_none(response)
                error = map_upstream_error(response.status_code, body, response.headers, model)
                codes = {e.get("code") for e in envelope_errors(body)}
                if response.status_code not in RETRY_STATUSES or codes & NO_RETRY_CODES:
                    raise error
                advised = parse_retry_after(response.headers.get("Retry-After"))
                retry_in = advised if advised is not None else self._backoff(attempt)
            max_retries = kwargs.get("max_retries", settings.upstream_max_retries)
            if attempt >= max_retries or retry_in > settings.upstream_max_retry_wait_seconds:
                raise error
            attempt += 1
            retry = {"event": "upstream_retry", "attempt": attempt, "wait_s": round(retry_in, 3), "reason": error.code}
            log.warning(json.dumps(retry))
            self._sleep(retry_in)

    def _prepare(
        self, method: str, url: str, data: bytes | None, headers: dict[str, str] | None
    ) -> requests.PreparedRequest:
        """The request as the adapter sends it, built directly: `Session.request` would merge cookies,
        hooks, auth and environment settings on every call, a third of the client's CPU for nothing a
        fixed, token-authenticated upstream needs. Redirects are not followed: the API never sends
        one, and a misconfigured base URL is better named than re-posted somewhere else."""
        prepared = requests.PreparedRequest()
        prepared.method = method
        prepared.url = url
        prepared.headers = CaseInsensitiveDict(self._headers)
        if headers:
            prepared.headers.update(headers)
        prepared.body = data
        if data is not None:
            prepared.headers["Content-Length"] = str(len(data))
        return prepared

    def _backoff(self, attempt: int) -> float:
        """Exponential backoff with full jitter, so retrying workers do not stampede together."""
        ceiling = self._settings.upstream_backoff_seconds * (2**attempt)
        return random.uniform(ceiling / 2, ceiling)

    def _events(self, response: requests.Response) -> Iterator[dict[str, Any]]:
        """Parsed SSE events up to `[DONE]`; a stream that breaks or ends early raises."""
        try:
            for data in iter_event_data(response.iter_content(chunk_size=None)):
                if data.strip() == "[DONE]":
                    _hand_back(response)
                    return
                try:
                    event = jsonio.loads(data)
                except ValueError:
                    raise UpstreamStreamError("Workers AI sent a malformed stream event.") from None
                if isinstance(event, dict) and event.get("success") is False:
                    raise map_upstream_error(200, event, {}, None)
                if isinstance(event, dict):
                    yield event
        except (requests.RequestException, OSError, AttributeError, ValueError) as exc:
            # AttributeError/ValueError: urllib3 reading a response closed by a departing client.
            raise UpstreamStreamError(f"The Workers AI stream broke off ({type(exc).__name__}).") from None
        finally:
            response.close()
        raise UpstreamStreamError("The Workers AI stream ended before it was complete.")
