"""Cloudflare error envelopes -> the gateway's errors, decided by Cloudflare's numeric codes.

Codes are documented (Workers AI errors page); message text is not, so it is only ever quoted
back to the client, never matched.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import math
from collections.abc import Mapping
from typing import Any

from openai_compat.errors import (
    APIError,
    InvalidRequestError,
    ModelNotFoundError,
    PayloadTooLargeError,
    PermissionDeniedError,
    QuotaExceededError,
    RateLimitError,
    ServiceUnavailableError,
    UpstreamError,
    UpstreamTimeoutError,
)

NO_SUCH_MODEL = 5007
INVALID_MODEL_ID = 3042
BAD_INPUT_CODES = {5006, 5004, 3003, 3039, 5005}
TOO_LARGE = 3006
TIMEOUT_CODES = {3007, 3008}
OUT_OF_CAPACITY = 3040
DAILY_ALLOCATION = 3036
CREDENTIAL_CODES = {10000, 9106, 9109, 10001}
ROUTING_CODES = {7003, 7000}
ACCESS_CODES = {5016, 5018, 3041, 5035, 3023}
CONTENT_POLICY = 3030
"""Not in Cloudflare's published table: what image models answer when their NSFW filter refuses a
prompt or an output ("AiError: Input prompt contains NSFW content.")."""
DEFAULT_CAPACITY_RETRY_SECONDS = 2


def parse_retry_after(value: str | None, now: dt.datetime | None = None) -> float | None:
    """Seconds from a Retry-After header (delta-seconds or HTTP-date), or None."""
    if not value:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        pass
    else:
        return max(0.0, seconds) if math.isfinite(seconds) else None
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    now = now or dt.datetime.now(dt.UTC)
    return max(0.0, (when - now).total_seconds())


def seconds_until_utc_midnight(now: dt.datetime | None = None) -> int:
    """Workers AI's free allocation resets daily at 00:00 UTC."""
    now = now or dt.datetime.now(dt.UTC)
    tomorrow = (now + dt.timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
    return max(1, int((tomorrow - now).total_seconds()))


def envelope_errors(body: Any) -> list[dict[str, Any]]:
    if isinstance(body, dict) and isinstance(body.get("errors"), list):
        return [e for e in body["errors"] if isinstance(e, dict)]
    return []


def _final(error: APIError) -> APIError:
    """Tell the SDKs (which retry 5xx) not to: only the operator can fix this one."""
    error.headers["x-should-retry"] = "false"
    return error


def map_upstream_error(
    status: int, body: Any, headers: Mapping[str, str], model: str | None = None
) -> APIError:
    """The error a client should see for a failed Workers AI call."""
    errors = envelope_errors(body)
    codes = {e.get("code") for e in errors}
    detail = "; ".join(str(e.get("message", "")) for e in errors if e.get("message")) or f"HTTP {status}"
    retry_after = parse_retry_after(headers.get("Retry-After"))

    if codes & {NO_SUCH_MODEL, INVALID_MODEL_ID}:
        return ModelNotFoundError(model or "unknown", detail="Workers AI does not serve it.")
    if CONTENT_POLICY in codes:
        return InvalidRequestError(
            f"Your request was rejected by Workers AI's safety system: {detail}",
            code="content_policy_violation",
        )
    if codes & BAD_INPUT_CODES:
        return InvalidRequestError(f"Workers AI rejected the request: {detail}", code="invalid_upstream_input")
    if TOO_LARGE in codes or status == 413:
        return PayloadTooLargeError(f"Workers AI rejected the request as too large: {detail}")
    if DAILY_ALLOCATION in codes:
        return QuotaExceededError(
            f"The Workers AI account has used up its daily allocation: {detail}",
            retry_after=int(retry_after or seconds_until_utc_midnight()),
        )
    if OUT_OF_CAPACITY in codes or status == 429:
        return RateLimitError(
            f"Workers AI is out of capacity or rate limiting this account: {detail}",
            retry_after=int(retry_after or DEFAULT_CAPACITY_RETRY_SECONDS),
        )
    if codes & CREDENTIAL_CODES or status == 401:
        return _final(UpstreamError(
            "Workers AI rejected the gateway's Cloudflare credentials; the gateway operator must "
            f"check CLOUDFLARE_API_TOKEN and CLOUDFLARE_ACCOUNT_ID ({detail}).",
            code="upstream_authentication_failed",
        ))
    if codes & ROUTING_CODES:
        return _final(UpstreamError(
            f"Workers AI could not route the request; check CLOUDFLARE_ACCOUNT_ID ({detail}).",
            code="upstream_routing_failed",
        ))
    if codes & ACCESS_CODES or status == 403:
        return PermissionDeniedError(f"Workers AI refused access to this model: {detail}")
    if codes & TIMEOUT_CODES or status in (408, 504):
        return UpstreamTimeoutError(f"Workers AI timed out: {detail}")
    if 400 <= status < 500:
        return InvalidRequestError(f"Workers AI rejected the request: {detail}", code="invalid_upstream_input")
    if status == 503:
        # Unavailable, not broken: passed on as such (with its Retry-After), which the SDKs retry.
        error = ServiceUnavailableError(f"Workers AI is unavailable: {detail}", code="upstream_unavailable")
        if retry_after is not None:
            error.headers["Retry-After"] = str(max(1, math.ceil(retry_after)))
        return error
    return UpstreamError(f"Workers AI failed: {detail}")
