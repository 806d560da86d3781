"""Named keys' limits and budgets on one process's memory: what `Quotas.admit` refuses and reports.

The Redis-shared behaviour (several instances, one set of counters) is in tests/service and tests/e2e.
"""

from __future__ import annotations

import calendar
import hashlib
import json
import logging

import pytest
import redis
from limits.storage import MemoryStorage

from harness.processes import free_port
from openai_compat.core.keys import UNNAMED, Caller, KeyPolicy, KeyRing, secret_hash
from openai_compat.core.metering import Cost, Measurement, Usage
from openai_compat.core.model_names import ResolvedModel
from openai_compat.errors import QuotaExceededError, RateLimitError
from openai_compat.quotas import Quotas, day_and_month, open_quotas, seconds_to_next_day, seconds_to_next_month
from openai_compat.quotas.ledger import MemoryLedger
from openai_compat.quotas.limiter import RateLimits, reset_text
from tests.unit.factories import make_settings

MODEL = ResolvedModel("gpt-4.1", "@cf/meta/llama-3.3-70b-instruct-fp8-fast")
NOON = calendar.timegm((2026, 3, 14, 12, 0, 0))


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def quotas(*policies: KeyPolicy, clock: Clock | None = None) -> Quotas:
    return Quotas({p.name: p for p in policies}, RateLimits(MemoryStorage()), MemoryLedger(),
                  clock=clock or Clock(NOON))


def spend(q: Quotas, key: str, usd: float | None, tokens: int = 0) -> None:
    q.charge(Measurement(MODEL, Usage(prompt_tokens=tokens), Cost(usd, None if usd is not None else "x"), key))


def test_a_key_within_its_requests_per_minute_gets_openai_headers() -> None:
    q = quotas(KeyPolicy("ci", requests_per_minute=2))
    first = q.admit(Caller("ci", q.policies["ci"]))
    second = q.admit(Caller("ci", q.policies["ci"]))
    assert first["x-ratelimit-limit-requests"] == "2"
    assert (first["x-ratelimit-remaining-requests"], second["x-ratelimit-remaining-requests"]) == ("1", "0")
    assert second["x-ratelimit-reset-requests"].endswith("s")


def test_the_request_over_the_limit_is_a_429_with_retry_after_and_the_headers() -> None:
    q = quotas(KeyPolicy("ci", requests_per_minute=2))
    caller = Caller("ci", q.policies["ci"])
    q.admit(caller)
    q.admit(caller)
    with pytest.raises(RateLimitError) as caught:
        q.admit(caller)
    error = caught.value
    assert error.status == 429 and error.code == "rate_limit_exceeded" and error.param is None
    assert "requests per minute" in error.message and "`ci`" in error.message
    assert 1 <= int(error.headers["Retry-After"]) <= 60
    assert error.headers["x-ratelimit-remaining-requests"] == "0"
    assert error.headers["x-ratelimit-limit-requests"] == "2"


def test_keys_have_their_own_windows() -> None:
    q = quotas(KeyPolicy("a", requests_per_minute=1), KeyPolicy("b", requests_per_minute=1))
    q.admit(Caller("a", q.policies["a"]))
    q.admit(Caller("b", q.policies["b"]))  # not refused: a's window is a's
    with pytest.raises(RateLimitError):
        q.admit(Caller("a", q.policies["a"]))


def test_tokens_per_minute_admit_until_the_minute_is_used_up() -> None:
    q = quotas(KeyPolicy("ci", tokens_per_minute=100))
    caller = Caller("ci", q.policies["ci"])
    assert q.admit(caller)["x-ratelimit-remaining-tokens"] == "100"
    spend(q, "ci", 0.0, tokens=60)
    assert q.admit(caller)["x-ratelimit-remaining-tokens"] == "40"
    spend(q, "ci", 0.0, tokens=60)  # a request's tokens count in full, even past the limit
    with pytest.raises(RateLimitError) as caught:
        q.admit(caller)
    assert "tokens per minute" in caught.value.message
    assert caught.value.headers["x-ratelimit-remaining-tokens"] == "0"
    assert caught.value.headers["x-ratelimit-limit-tokens"] == "100"


def test_a_request_refused_for_tokens_does_not_use_up_a_request() -> None:
    q = quotas(KeyPolicy("ci", requests_per_minute=2, tokens_per_minute=10))
    caller = Caller("ci", q.policies["ci"])
    q.admit(caller)
    spend(q, "ci", 0.0, tokens=10)
    with pytest.raises(RateLimitError):
        q.admit(caller)
    assert q.limits.admit(q.policies["ci"])[0]["x-ratelimit-remaining-requests"] == "1"


def test_a_spent_daily_budget_is_insufficient_quota_until_midnight_utc() -> None:
    clock = Clock(NOON)
    q = quotas(KeyPolicy("ci", budget_usd_per_day=0.05), clock=clock)
    caller = Caller("ci", q.policies["ci"])
    q.admit(caller)
    spend(q, "ci", 0.03)
    q.admit(caller)  # 0.03 of 0.05 spent: still admitted
    spend(q, "ci", 0.03)
    with pytest.raises(QuotaExceededError) as caught:
        q.admit(caller)
    error = caught.value
    assert error.status == 429 and error.code == "insufficient_quota" and error.error_type == "insufficient_quota"
    assert "daily budget" in error.message and "$0.05" in error.message and "`ci`" in error.message
    assert error.headers["x-should-retry"] == "false"
    assert int(error.headers["Retry-After"]) == 12 * 3600
    clock.now += 12 * 3600  # the next UTC day
    q.admit(caller)


def test_a_monthly_budget_spans_the_days_of_the_month() -> None:
    clock = Clock(NOON)
    q = quotas(KeyPolicy("ci", budget_usd_per_month=1.0), clock=clock)
    caller = Caller("ci", q.policies["ci"])
    spend(q, "ci", 0.6)
    clock.now += 86400
    spend(q, "ci", 0.6)
    with pytest.raises(QuotaExceededError, match="monthly budget"):
        q.admit(caller)
    clock.now = calendar.timegm((2026, 4, 1, 0, 0, 1))
    q.admit(caller)


def test_unknown_costs_do_not_count_toward_budgets_but_are_counted_as_unpriced() -> None:
    q = quotas(KeyPolicy("ci", budget_usd_per_day=0.01))
    spend(q, "ci", None)
    q.admit(Caller("ci", q.policies["ci"]))
    day, _ = day_and_month(NOON)
    row = q.usage([day])[("ci", MODEL.upstream)]
    assert row["unpriced_requests"] == 1 and row["cost_usd"] == 0


def test_unlimited_and_plain_keys_are_never_refused_and_get_no_headers() -> None:
    q = quotas(KeyPolicy("free"))
    for _ in range(5):
        assert q.admit(Caller("free", q.policies["free"])) == {}
        assert q.admit(Caller(UNNAMED)) == {}
        assert q.admit(None) == {}


def test_usage_is_totalled_per_key_and_model_and_day() -> None:
    clock = Clock(NOON)
    q = quotas(clock=clock)
    q.charge(Measurement(MODEL, Usage(prompt_tokens=10, completion_tokens=5), Cost(0.001), "a"))
    q.charge(Measurement(MODEL, Usage(prompt_tokens=1, completion_tokens=1), Cost(0.002), "a"))
    q.charge(Measurement(ResolvedModel("whisper-1", "@cf/openai/whisper"), Usage(audio_seconds=30.5), Cost(0.0002),
                         "b"))
    clock.now += 86400
    q.charge(Measurement(MODEL, Usage(prompt_tokens=100), Cost(0.01), "a"))
    first_day, _ = day_and_month(NOON)
    usage = q.usage([first_day])
    assert usage[("a", MODEL.upstream)]["requests"] == 2
    assert usage[("a", MODEL.upstream)]["input_tokens"] == 11
    assert usage[("a", MODEL.upstream)]["output_tokens"] == 6
    assert usage[("a", MODEL.upstream)]["cost_usd"] == pytest.approx(0.003)
    assert usage[("b", "@cf/openai/whisper")]["audio_seconds"] == pytest.approx(30.5)
    both = q.usage([first_day, day_and_month(clock.now)[0]])
    assert both[("a", MODEL.upstream)]["requests"] == 3


def test_a_redis_that_does_not_answer_admits_and_logs() -> None:
    url = f"redis://127.0.0.1:{free_port()}/0"  # nothing listens there
    policy = KeyPolicy("ci", requests_per_minute=1, budget_usd_per_day=1)
    q = open_quotas(make_settings(redis_url=url, redis_timeout_seconds=0.5), {"ci": policy})
    lines: list[str] = []
    handler = logging.Handler()
    handler.emit = lambda record: lines.append(record.getMessage())  # type: ignore[method-assign]
    logging.getLogger("openai_compat.quotas").addHandler(handler)
    try:
        assert q.admit(Caller("ci", policy)) == {}
        spend(q, "ci", 0.5)  # must not raise either
    finally:
        logging.getLogger("openai_compat.quotas").removeHandler(handler)
    events = [json.loads(line)["event"] for line in lines]
    assert events.count("quota_store_unavailable") == 2
    with pytest.raises(redis.ConnectionError):
        q.check()  # what /ready reports


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(0.02, "20ms"), (0.0004, "1ms"), (1, "1s"), (59.9831, "59.983s"), (60, "1m0s"), (90.5, "1m30.5s")],
)
def test_reset_durations_are_written_as_openai_writes_them(seconds: float, text: str) -> None:
    assert reset_text(seconds) == text


def test_periods_are_utc_days_and_months() -> None:
    new_year_eve = calendar.timegm((2026, 12, 31, 23, 0, 0))
    assert day_and_month(new_year_eve) == ("2026-12-31", "2026-12")
    assert seconds_to_next_day(new_year_eve) == 3600
    assert seconds_to_next_month(new_year_eve) == 3600


def test_named_keys_are_found_by_the_hash_of_their_secret_and_plain_keys_stay_unnamed() -> None:
    policy = KeyPolicy("ci", requests_per_minute=5)
    ring = KeyRing([b"sk-plain"], {"ci": policy}, {secret_hash("sk-named"): "ci"})
    assert secret_hash("sk-named") == hashlib.sha256(b"sk-named").hexdigest()
    assert ring.identify("sk-named") == Caller("ci", policy)
    assert ring.identify("sk-plain") == Caller(UNNAMED)
    assert ring.identify("sk-other") is None
    assert ring.identify(secret_hash("sk-named")) is None  # the hash itself is not a key
