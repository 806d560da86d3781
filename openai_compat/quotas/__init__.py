"""Named keys' limits and budgets, and usage per key: state kept in memory, or in Redis when
`REDIS_URL` is set, where every worker and instance shares it.

`Quotas.admit` runs before a request's first upstream call (rate limits, budgets); `Quotas.charge`
is the metering sink that adds each request's tokens, usage and cost afterwards. A Redis that stops
answering does not stop the gateway: requests are served without limits and each failure is
logged (`quota_store_unavailable`), while `/ready` reports it.
"""

from __future__ import annotations

import calendar
import logging
import math
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from limits.storage import MemoryStorage

from openai_compat.core.keys import Caller, KeyPolicy
from openai_compat.core.logs import log_event
from openai_compat.core.metering import Measurement
from openai_compat.errors import QuotaExceededError, RateLimitError
from openai_compat.quotas.ledger import MEASURES, Ledger, MemoryLedger, RedisLedger
from openai_compat.quotas.limiter import RateLimits, Refusal
from openai_compat.settings import Settings

if TYPE_CHECKING:
    import redis

log = logging.getLogger("openai_compat.quotas")
LIMITS_PREFIX = "openai_compat:limits"


def day_and_month(now: float) -> tuple[str, str]:
    """UTC periods budgets are counted in."""
    day = time.strftime("%Y-%m-%d", time.gmtime(now))
    return day, day[:7]


def seconds_to_next_day(now: float) -> float:
    return 86400 - now % 86400


def seconds_to_next_month(now: float) -> float:
    year, month = time.gmtime(now)[:2]
    year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return calendar.timegm((year, month, 1, 0, 0, 0)) - now


def usage_amounts(measurement: Measurement) -> dict[str, float]:
    usage, cost = measurement.usage, measurement.cost
    return {
        "requests": 1,
        "input_tokens": usage.prompt_tokens,
        "output_tokens": usage.completion_tokens,
        "images": usage.images,
        "audio_seconds": usage.audio_seconds,
        "characters": usage.characters,
        "cost_usd": cost.usd or 0.0,
        "unpriced_requests": 0 if cost.usd is not None else 1,
    }


@dataclass
class Quotas:
    policies: Mapping[str, KeyPolicy]
    limits: RateLimits
    ledger: Ledger
    client: redis.Redis | None = None
    clock: Callable[[], float] = time.time
    on_refusal: Callable[[str, str], None] | None = None
    """Told (key name, which limit) each time a request is refused: for metrics."""
    store_errors: tuple[type[BaseException], ...] = (OSError,)
    """What a store that stops answering raises (Redis's errors when it is Redis)."""

    @property
    def shared(self) -> bool:
        return self.ledger.shared

    def admit(self, caller: Caller | None) -> dict[str, str]:
        """Raise the 429 a limited key has earned, or return the `x-ratelimit-*` headers for its response."""
        policy = caller.policy if caller is not None else None
        if policy is None or not policy.limited:
            return {}
        try:
            self._check_budget(policy)
            headers, refusal = self.limits.admit(policy)
        except self.store_errors as exc:
            log_event(log, "quota_store_unavailable", level=logging.ERROR, key=policy.name, error=type(exc).__name__)
            return {}
        if refusal is not None:
            self._refused(policy.name, refusal.limit)
            raise _rate_limit_error(policy.name, refusal, headers)
        return headers

    def _check_budget(self, policy: KeyPolicy) -> None:
        if policy.budget_usd_per_day is None and policy.budget_usd_per_month is None:
            return
        now = self.clock()
        day, month = day_and_month(now)
        today, this_month = self.ledger.spent(policy.name, day, month)
        for budget, spent, period, wait in (
            (policy.budget_usd_per_day, today, "daily", seconds_to_next_day(now)),
            (policy.budget_usd_per_month, this_month, "monthly", seconds_to_next_month(now)),
        ):
            if budget is not None and spent >= budget:
                self._refused(policy.name, f"budget_{period}")
                resets = "at 00:00 UTC" if period == "daily" else "on the 1st of next month (UTC)"
                raise QuotaExceededError(
                    f"You exceeded the {period} budget of ${budget:g} for the key `{policy.name}` "
                    f"(${spent:.4f} spent). It resets {resets}.",
                    retry_after=math.ceil(wait),
                )

    def _refused(self, key: str, limit: str) -> None:
        log_event(log, "rate_limited", key=key, limit=limit)
        if self.on_refusal is not None:
            self.on_refusal(key, limit)

    def charge(self, measurement: Measurement) -> None:
        """The metering sink: the request's usage and cost to its key's totals, tokens to its minute."""
        key = measurement.key
        if key is None:
            return
        day, month = day_and_month(self.clock())
        try:
            self.ledger.add(day, month, key, measurement.model.upstream, usage_amounts(measurement))
            policy = self.policies.get(key)
            if policy is not None:
                self.limits.count_tokens(policy, measurement.usage.total_tokens)
        except self.store_errors as exc:
            log_event(log, "quota_store_unavailable", level=logging.ERROR, key=key, error=type(exc).__name__)

    def usage(self, days: Iterable[str]) -> dict[tuple[str, str], dict[str, float]]:
        return self.ledger.usage(days)

    def spent(self, key: str) -> tuple[float, float]:
        day, month = day_and_month(self.clock())
        return self.ledger.spent(key, day, month)

    def check(self) -> None:
        """Raise when the shared store cannot be reached (for `/ready`)."""
        if self.client is not None:
            self.client.ping()


def _rate_limit_error(key: str, refusal: Refusal, headers: dict[str, str]) -> RateLimitError:
    what = "requests" if refusal.limit == "requests" else "tokens"
    error = RateLimitError(
        f"Rate limit reached for the key `{key}` on {what} per minute: Limit {refusal.amount}. "
        f"Please try again in {max(refusal.retry_after, 0):.1f}s.",
        retry_after=math.ceil(refusal.retry_after),
        code="rate_limit_exceeded",
        limited=what,
    )
    error.headers.update(headers)
    return error


def redis_client(settings: Settings) -> redis.Redis:
    import redis  # only with REDIS_URL: 5 MB per worker otherwise spent for nothing

    assert settings.redis_url is not None
    url = settings.redis_url.get_secret_value()
    options: dict[str, object] = {
        "socket_timeout": settings.redis_timeout_seconds,
        "socket_connect_timeout": settings.redis_timeout_seconds,
        "health_check_interval": 30,
    }
    if url.startswith("rediss://") and not settings.redis_tls_verify:
        options["ssl_cert_reqs"] = None
    return redis.Redis.from_url(url, **options)  # type: ignore[arg-type]


def open_quotas(settings: Settings, policies: Mapping[str, KeyPolicy]) -> Quotas:
    if settings.redis_url is None:
        return Quotas(policies, RateLimits(MemoryStorage()), MemoryLedger())
    import redis
    from limits.storage import RedisStorage

    client = redis_client(settings)
    storage = RedisStorage(settings.redis_url.get_secret_value(), connection_pool=client.connection_pool,
                           key_prefix=LIMITS_PREFIX)
    return Quotas(policies, RateLimits(storage), RedisLedger(client), client=client,
                  store_errors=(redis.RedisError, OSError))


__all__ = ["MEASURES", "Quotas", "open_quotas"]
