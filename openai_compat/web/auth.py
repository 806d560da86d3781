"""Bearer-key authentication for every route except the few marked public, and who the caller is.

Client routes accept the gateway's keys (plain `GATEWAY_API_KEYS` and named keys); the caller found
goes into `core.keys.current_caller` and onto the access-log line by name, never the secret.
`/admin/...` routes accept only `ADMIN_API_KEY`; `/metrics` accepts any client key unless
`METRICS_API_KEY` is set, which is then the only one besides the admin key (the operator's view, the
console's usage page, reads both with that one key).
"""

from __future__ import annotations

import hmac
from collections.abc import Callable
from typing import TypeVar

from flask import Flask, current_app, request

from openai_compat.core import keys
from openai_compat.core.keys import ANONYMOUS, Caller, KeyPolicy, KeyRing
from openai_compat.core.logs import note
from openai_compat.errors import AuthenticationError, PermissionDeniedError
from openai_compat.settings import Settings

View = TypeVar("View", bound=Callable[..., object])
_ANONYMOUS = Caller(ANONYMOUS)


def public(view: View) -> View:
    """Mark a view as reachable without a key (health checks, later signed image URLs)."""
    view.is_public = True  # type: ignore[attr-defined]
    return view


def admin_only(view: View) -> View:
    """Mark a view as reachable with `ADMIN_API_KEY` only."""
    view.access = "admin"  # type: ignore[attr-defined]
    return view


def metrics_reader(view: View) -> View:
    """Mark a view as reachable with `METRICS_API_KEY` when it is set, else with any client key."""
    view.access = "metrics"  # type: ignore[attr-defined]
    return view


def _allowed(models: list[str] | None, aliases: dict[str, str]) -> frozenset[str] | None:
    """The names a key may use: allowing an alias allows the Workers AI model behind it, by either name."""
    if models is None:
        return None
    return frozenset(models) | {aliases[name] for name in models if name in aliases}


def key_policies(settings: Settings) -> dict[str, KeyPolicy]:
    return {
        name: KeyPolicy(
            name=name,
            models=_allowed(key.models, settings.model_aliases),
            requests_per_minute=key.requests_per_minute,
            tokens_per_minute=key.tokens_per_minute,
            budget_usd_per_day=key.budget_usd_per_day,
            budget_usd_per_month=key.budget_usd_per_month,
        )
        for name, key in settings.named_api_keys.items()
    }


def key_ring(settings: Settings, policies: dict[str, KeyPolicy]) -> KeyRing:
    hashes = {key.secret_sha256: name for name, key in settings.named_api_keys.items()}
    return KeyRing(settings.api_keys, policies, hashes)


def _same(presented: str, expected: str) -> bool:
    return hmac.compare_digest(presented.encode(), expected.encode())


def _bearer_token() -> str:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if not header:
        missing = AuthenticationError(
            "You didn't provide an API key. You need to provide your API key in an "
            "Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY)."
        )
        missing.code = None  # OpenAI's body for a missing key has no code; a wrong key's is invalid_api_key
        raise missing
    if scheme.lower() != "bearer":
        raise AuthenticationError("Incorrect API key provided.")
    return token.strip()


def _is_admin_key(admin_key: str | None) -> bool:
    """Whether the request carries the admin key; never raises, so other keys go on to their own checks."""
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    return admin_key is not None and scheme.lower() == "bearer" and _same(token.strip(), admin_key)


def init_auth(app: Flask, ring: KeyRing, settings: Settings) -> None:
    admin_key = settings.admin_api_key.get_secret_value() if settings.admin_api_key else None
    metrics_key = settings.metrics_api_key.get_secret_value() if settings.metrics_api_key else None

    @app.before_request
    def _authenticate() -> None:
        keys.current_caller.set(None)
        if request.method == "OPTIONS":
            return
        view = current_app.view_functions.get(request.endpoint or "")
        if view is None or getattr(view, "is_public", False):
            return  # unknown routes fall through to the 404 handler
        access = getattr(view, "access", "client")
        if access == "admin":
            if admin_key is None:
                raise PermissionDeniedError("The admin endpoints are off: set ADMIN_API_KEY to use them.")
            if not _same(_bearer_token(), admin_key):
                raise AuthenticationError("Incorrect API key provided.")
            return
        if access == "metrics" and _is_admin_key(admin_key):
            return
        if access == "metrics" and metrics_key is not None:
            if not _same(_bearer_token(), metrics_key):
                raise AuthenticationError("Incorrect API key provided.")
            return
        if not ring.enabled:
            caller: Caller | None = _ANONYMOUS
        else:
            caller = ring.identify(_bearer_token())
            if caller is None:
                raise AuthenticationError("Incorrect API key provided.")
        keys.current_caller.set(caller)
        note(key=caller.name)
