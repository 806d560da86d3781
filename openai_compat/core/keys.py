"""Who is calling: the client keys the gateway accepts, and the caller of the request being served.

Two kinds of key live side by side. Plain keys (`GATEWAY_API_KEYS`, environment only) are unnamed
and unlimited, as they always were. Named keys are declared by name with the SHA-256 of their
secret (so the settings file never holds a secret), and may carry allowed models, rate limits and
spend budgets. The caller travels in a context variable, like the request id, so the metering
sinks, the log line and the limits read it without being handed it.
"""

from __future__ import annotations

import contextvars
import hashlib
import hmac
import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

UNNAMED = "unnamed"
"""The name plain `GATEWAY_API_KEYS` keys are counted under (in logs, metrics and usage)."""
ANONYMOUS = "anonymous"
"""The name requests are counted under when authentication is off (`ALLOW_UNAUTHENTICATED`)."""


@dataclass(frozen=True)
class KeyPolicy:
    name: str
    models: frozenset[str] | None = None
    """Model names or aliases this key may use; None for any."""
    requests_per_minute: int | None = None
    tokens_per_minute: int | None = None
    budget_usd_per_day: float | None = None
    budget_usd_per_month: float | None = None

    @property
    def limited(self) -> bool:
        return any(
            value is not None
            for value in (self.requests_per_minute, self.tokens_per_minute, self.budget_usd_per_day,
                          self.budget_usd_per_month)
        )

    def allows(self, *names: str) -> bool:
        return self.models is None or any(name in self.models for name in names)


@dataclass(frozen=True)
class Caller:
    name: str
    policy: KeyPolicy | None = None
    """None for plain keys and anonymous callers: no limits, every model."""


current_caller: contextvars.ContextVar[Caller | None] = contextvars.ContextVar("current_caller", default=None)


def caller_name() -> str | None:
    caller = current_caller.get()
    return caller.name if caller is not None else None


def secret_hash(secret: str) -> str:
    """What `settings.toml` holds for a named key. Keys are long random strings, so a plain SHA-256
    cannot be reversed by guessing (a password would need a slow hash; a generated key does not)."""
    return hashlib.sha256(secret.encode()).hexdigest()


def new_secret() -> str:
    return "sk-" + secrets.token_hex(32)


class KeyRing:
    def __init__(self, plain: Iterable[bytes], named: Mapping[str, KeyPolicy], hashes: Mapping[str, str]) -> None:
        """`hashes` maps each named key's SHA-256 (hex) to its name."""
        self._plain = tuple(plain)
        self._by_hash = {digest.lower(): named[name] for digest, name in hashes.items()}
        self._unnamed = Caller(UNNAMED)

    @property
    def enabled(self) -> bool:
        return bool(self._plain or self._by_hash)

    def identify(self, token: str) -> Caller | None:
        """The caller a presented key belongs to, or None for an unknown key."""
        if self._by_hash:
            policy = self._by_hash.get(secret_hash(token))
            if policy is not None:
                return Caller(policy.name, policy)
        # Compare against every plain key so timing does not reveal which (or whether an early) one matched.
        presented = token.encode()
        matched = False
        for key in self._plain:
            matched |= hmac.compare_digest(presented, key)
        return self._unnamed if matched else None
