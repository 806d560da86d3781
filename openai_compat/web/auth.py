"""Bearer-key authentication for every route except the few marked public."""

from __future__ import annotations

import hmac
from collections.abc import Callable
from typing import TypeVar

from flask import Flask, current_app, request

from openai_compat.errors import AuthenticationError

View = TypeVar("View", bound=Callable[..., object])


def public(view: View) -> View:
    """Mark a view as reachable without a key (health checks, later signed image URLs)."""
    view.is_public = True  # type: ignore[attr-defined]
    return view


def _key_is_valid(presented: bytes, keys: tuple[bytes, ...]) -> bool:
    # Compare against every key so timing does not reveal which (or whether an early) key matched.
    matched = False
    for key in keys:
        matched |= hmac.compare_digest(presented, key)
    return matched


def init_auth(app: Flask, keys: tuple[bytes, ...], enabled: bool) -> None:
    @app.before_request
    def _authenticate() -> None:
        if not enabled or request.method == "OPTIONS":
            return
        view = current_app.view_functions.get(request.endpoint or "")
        if view is None or getattr(view, "is_public", False):
            return  # unknown routes fall through to the 404 handler
        header = request.headers.get("Authorization", "")
        scheme, _, token = header.partition(" ")
        if not header:
            missing = AuthenticationError(
                "You didn't provide an API key. You need to provide your API key in an "
                "Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY)."
            )
            missing.code = None  # OpenAI's body for a missing key has no code; a wrong key's is invalid_api_key
            raise missing
        if scheme.lower() != "bearer" or not _key_is_valid(token.strip().encode(), keys):
            raise AuthenticationError("Incorrect API key provided.")
