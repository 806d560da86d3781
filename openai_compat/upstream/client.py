"""The one Workers AI client: JSON, raw and multipart requests; JSON, SSE and binary replies; pooled connections.

Retries happen only here and only before anything has been returned to the caller, which is
before any byte has reached the gateway's client: a stream that has begun is never replayed.
"""

from __future__ import annotations

import contextvars
import logging
import os
import random
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import quote, urlencode

import requests
from requests.adapters import HTTPAdapter
from requests.structures import CaseInsensitiveDict

from openai_compat.core.logs import log_event
from openai_compat.errors import APIError, UpstreamError, UpstreamTimeoutError
from openai_compat.net.transport import UpstreamAdapter
from openai_compat.settings import Settings
from openai_compat.upstream.body import Body, json_body
from openai_compat.upstream.error_map import envelope_errors, map_upstream_error, parse_retry_after
from openai_compat.upstream.reply import (
    UpstreamReply,
    media_type,
    read_json_result,
    stream_chunks,
    stream_events,
)

log = logging.getLogger("openai_compat.upstream")

retries_allowed: contextvars.ContextVar[int | None] = contextvars.ContextVar("upstream_retries_allowed", default=None)
"""This request's cap on retries, set by the web layer when the client retries on its own."""


def allowed_retries() -> int:
    cap = retries_allowed.get()
    return 1_000 if cap is None else cap

RETRY_STATUSES = frozenset({429, 502, 503, 504})
NO_RETRY_CODES = frozenset({3036})  # a spent daily allocation does not come back in seconds
CATALOGUE_READ_TIMEOUT_SECONDS = 5.0
MAX_JSON_REPLY_BYTES = 64 * 1024 * 1024


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
        self._idle_after = settings.sse_heartbeat_seconds or None
        """Streams say when they have been silent this long, for the SSE writer's heartbeat."""

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
        body: Body | None = None,
        requested: str | None = None,
        query: dict[str, str] | None = None,
    ) -> UpstreamReply:
        """Run a model on a JSON `payload`, or on a prepared `body` (raw bytes, multipart). The
        reply's kind follows the Content-Type Workers AI answered with: a JSON result, SSE events,
        or binary chunks, none of them read whole here except the JSON. `query` carries a model's
        inputs when its body is raw bytes (nova-3's options), as URL query parameters."""
        if body is None:
            body = json_body(payload)
        url = self.run_url(model) + (f"?{urlencode(query)}" if query else "")
        # Errors name the model as the client asked for it (an alias), not the @cf/ name behind it.
        response, elapsed_ms = self._send("POST", url, model=requested or model, body=body)
        media = media_type(response)
        if media == "text/event-stream":
            return UpstreamReply(media, elapsed_ms, events=stream_events(response, self._idle_after, self._timeout[1]),
                                 _response=response)
        if media == "application/json" or media.endswith("+json"):
            return UpstreamReply(media, elapsed_ms, result=read_json_result(response, MAX_JSON_REPLY_BYTES))
        declared = response.headers.get("Content-Length", "")
        length = int(declared) if declared.isdigit() else None
        return UpstreamReply(
            media or "application/octet-stream",
            elapsed_ms,
            chunks=stream_chunks(response, length),
            content_length=length,
            _response=response,
        )

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
                    self._prepare(method, url, kwargs.get("body")),
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
            max_retries = min(kwargs.get("max_retries", settings.upstream_max_retries), allowed_retries())
            if attempt >= max_retries or retry_in > settings.upstream_max_retry_wait_seconds:
                # A transient failure: the client may try again unless the gateway already has, so
                # the SDK's retries never multiply the gateway's (3 x 3 calls on a lasting 429).
                if "x-should-retry" not in error.headers:
                    error.headers["x-should-retry"] = "false" if attempt > 0 else "true"
                raise error
            attempt += 1
            log_event(log, "upstream_retry", level=logging.WARNING, attempt=attempt, wait_s=round(retry_in, 3),
                      reason=error.code)
            self._sleep(retry_in)

    def _prepare(self, method: str, url: str, body: Body | None) -> requests.PreparedRequest:
        """The request as the adapter sends it, built directly: `Session.request` would merge cookies,
        hooks, auth and environment settings on every call, a third of the client's CPU for nothing a
        fixed, token-authenticated upstream needs. Redirects are not followed: the API never sends
        one, and a misconfigured base URL is better named than re-posted somewhere else."""
        prepared = requests.PreparedRequest()
        prepared.method = method
        prepared.url = url
        prepared.headers = CaseInsensitiveDict(self._headers)
        if body is not None:
            prepared.headers["Content-Type"] = body.content_type
            prepared.headers["Content-Length"] = str(body.length)
            prepared.body = body.rewound()
        return prepared

    def _backoff(self, attempt: int) -> float:
        """Exponential backoff with full jitter, so retrying workers do not stampede together."""
        ceiling = self._settings.upstream_backoff_seconds * (2**attempt)
        return random.uniform(ceiling / 2, ceiling)
