"""Per-key accounting: usage by key, model and UTC day, and spend by key per day and month.

Two backends with one interface: memory (one worker process's own figures) and Redis (every worker
and instance adds to the same counters, so budgets hold across all of them and `GET /admin/usage`
sees everything). These are running totals, not rate windows: the rate limits themselves are the
`limits` library's (see `limiter`).
"""

from __future__ import annotations

import threading
from collections import defaultdict
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    import redis

MEASURES = ("requests", "input_tokens", "output_tokens", "images", "audio_seconds", "characters", "cost_usd",
            "unpriced_requests")
"""What `GET /admin/usage` reports for each key and model."""
USAGE_RETENTION_SECONDS = 400 * 86400
"""How long a day's usage is kept in Redis: a year and a month of history for the admin endpoint."""
PREFIX = "openai_compat"


class Ledger(Protocol):
    shared: bool
    """True when every worker and instance sees the same figures."""

    def add(self, day: str, month: str, key: str, model: str, amounts: Mapping[str, float]) -> None:
        """Add one request's amounts; `cost_usd` also goes to the key's spend of that day and month."""

    def spent(self, key: str, day: str, month: str) -> tuple[float, float]:
        """The key's spend (USD) on that UTC day and in that month."""

    def usage(self, days: Iterable[str]) -> dict[tuple[str, str], dict[str, float]]:
        """Totals over the days, by (key, model)."""


class MemoryLedger:
    shared = False

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._usage: dict[tuple[str, str, str], dict[str, float]] = defaultdict(lambda: dict.fromkeys(MEASURES, 0.0))
        self._spend: dict[tuple[str, str], float] = defaultdict(float)

    def add(self, day: str, month: str, key: str, model: str, amounts: Mapping[str, float]) -> None:
        with self._lock:
            row = self._usage[(day, key, model)]
            for measure, amount in amounts.items():
                row[measure] += amount
            cost = amounts.get("cost_usd", 0.0)
            if cost:
                self._spend[(key, day)] += cost
                self._spend[(key, month)] += cost

    def spent(self, key: str, day: str, month: str) -> tuple[float, float]:
        with self._lock:
            return self._spend.get((key, day), 0.0), self._spend.get((key, month), 0.0)

    def usage(self, days: Iterable[str]) -> dict[tuple[str, str], dict[str, float]]:
        wanted = set(days)
        totals: dict[tuple[str, str], dict[str, float]] = {}
        with self._lock:
            for (day, key, model), row in self._usage.items():
                if day in wanted:
                    total = totals.setdefault((key, model), dict.fromkeys(MEASURES, 0.0))
                    for measure, amount in row.items():
                        total[measure] += amount
        return totals


class RedisLedger:
    """Usage in one hash per UTC day (`{key}|{model}|{measure}` fields), spend in one float counter per
    key and period: one pipelined round trip per request, two reads per admission."""

    shared = True

    def __init__(self, client: redis.Redis) -> None:
        self._redis = client

    @staticmethod
    def _usage_key(day: str) -> str:
        return f"{PREFIX}:usage:{day}"

    @staticmethod
    def _spend_key(key: str, period: str) -> str:
        return f"{PREFIX}:spend:{key}:{period}"

    def add(self, day: str, month: str, key: str, model: str, amounts: Mapping[str, float]) -> None:
        pipe = self._redis.pipeline(transaction=False)
        usage_key = self._usage_key(day)
        for measure, amount in amounts.items():
            if amount:
                pipe.hincrbyfloat(usage_key, f"{key}|{model}|{measure}", amount)
        pipe.expire(usage_key, USAGE_RETENTION_SECONDS)
        cost = amounts.get("cost_usd", 0.0)
        if cost:
            for period, ttl in ((day, 2 * 86400), (month, 32 * 86400)):
                pipe.incrbyfloat(self._spend_key(key, period), cost)
                pipe.expire(self._spend_key(key, period), ttl)
        pipe.execute()

    def spent(self, key: str, day: str, month: str) -> tuple[float, float]:
        today, this_month = self._redis.mget([self._spend_key(key, day), self._spend_key(key, month)])
        return float(today or 0), float(this_month or 0)

    def usage(self, days: Iterable[str]) -> dict[tuple[str, str], dict[str, float]]:
        pipe = self._redis.pipeline(transaction=False)
        for day in days:
            pipe.hgetall(self._usage_key(day))
        totals: dict[tuple[str, str], dict[str, float]] = {}
        for found in pipe.execute():
            for field, value in found.items():
                key, model, measure = field.decode().rsplit("|", 2)
                if measure in MEASURES:
                    total = totals.setdefault((key, model), dict.fromkeys(MEASURES, 0.0))
                    total[measure] += float(value)
        return totals
