"""Per-request limits every family enforces the same way: one wording, one error."""

from __future__ import annotations

from openai_compat.errors import InvalidRequestError


def check_count(param: str, count: int, limit: int, what: str = "items") -> None:
    """A list a client sent must not exceed `limit` entries: a 400 naming `param` otherwise."""
    if count > limit:
        raise InvalidRequestError(
            f"'{param}' holds {count} {what}; at most {limit} are allowed per request.",
            param=param,
            code="invalid_value",
        )
