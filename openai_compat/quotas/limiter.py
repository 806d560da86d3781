"""Requests and tokens per minute for named keys, on the `limits` library's windows and storage.

Requests use a moving window (exact: the last 60 s, never two windows' worth at a boundary). Tokens
are known only when a request ends, so they use a fixed window that the usage is added to
afterwards, whatever it comes to: a request is admitted while the key's minute has tokens left,
as OpenAI does for a request whose size it cannot know in advance. The responses carry OpenAI's
`x-ratelimit-*` headers.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass

from limits import RateLimitItem, RateLimitItemPerMinute
from limits.storage import Storage
from limits.strategies import FixedWindowRateLimiter, MovingWindowRateLimiter

from openai_compat.core.keys import KeyPolicy

NAMESPACE = "openai_compat"


def reset_text(seconds: float) -> str:
    """A duration as OpenAI writes `x-ratelimit-reset-*`: `20ms`, `1s`, `6m0s`, `1m30.5s`."""
    seconds = max(0.0, seconds)
    if seconds < 1:
        return f"{math.ceil(seconds * 1000)}ms"
    minutes, rest = divmod(round(seconds, 3), 60)
    rest_text = f"{rest:.3f}".rstrip("0").rstrip(".")
    return f"{int(minutes)}m{rest_text}s" if minutes else f"{rest_text}s"


@dataclass(frozen=True)
class Refusal:
    """A limit that refused the request: which one, and when it frees up."""

    limit: str
    """`requests` or `tokens`."""
    amount: int
    retry_after: float


class RateLimits:
    def __init__(self, storage: Storage, clock: Callable[[], float] = time.time) -> None:
        self._storage = storage
        self._requests = MovingWindowRateLimiter(storage)
        self._tokens = FixedWindowRateLimiter(storage)
        self._clock = clock

    @staticmethod
    def _item(amount: int) -> RateLimitItem:
        return RateLimitItemPerMinute(amount, namespace=NAMESPACE)

    def admit(self, policy: KeyPolicy) -> tuple[dict[str, str], Refusal | None]:
        """Take one request from the key's minute (unless a limit refuses it); the headers either way."""
        headers: dict[str, str] = {}
        refusal: Refusal | None = None
        now = self._clock()
        if policy.tokens_per_minute is not None:
            item = self._item(policy.tokens_per_minute)
            allowed = self._tokens.test(item, policy.name, "tokens")
            reset, remaining = self._tokens.get_window_stats(item, policy.name, "tokens")
            # An unused window has no expiry yet: it would reset a full minute after its first use.
            wait = min(reset - now, 60.0) if remaining < item.amount else 60.0
            headers |= {"x-ratelimit-limit-tokens": str(item.amount), "x-ratelimit-remaining-tokens": str(remaining),
                        "x-ratelimit-reset-tokens": reset_text(wait)}
            if not allowed:
                refusal = Refusal("tokens", item.amount, wait)
        if policy.requests_per_minute is not None:
            item = self._item(policy.requests_per_minute)
            allowed = refusal is None and self._requests.hit(item, policy.name, "requests")
            reset, remaining = self._requests.get_window_stats(item, policy.name, "requests")
            wait = min(reset - now, 60.0) if remaining < item.amount else 0.0
            headers |= {"x-ratelimit-limit-requests": str(item.amount),
                        "x-ratelimit-remaining-requests": str(max(0, remaining)),
                        "x-ratelimit-reset-requests": reset_text(wait)}
            if not allowed and refusal is None:
                refusal = Refusal("requests", item.amount, wait)
        return headers, refusal

    def count_tokens(self, policy: KeyPolicy, tokens: int) -> None:
        if policy.tokens_per_minute is not None and tokens > 0:
            self._tokens.hit(self._item(policy.tokens_per_minute), policy.name, "tokens", cost=tokens)

    def check(self) -> bool:
        return bool(self._storage.check())
