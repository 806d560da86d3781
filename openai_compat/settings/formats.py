"""How settings are written where text is all there is (a PaaS dashboard, one environment variable):
comma-separated lists, `name=model` pairs, JSON tables, and the shape of one named key."""

from __future__ import annotations

import json
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


def split_csv(value: Any) -> Any:
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    return value


def parse_aliases(text: str) -> dict[str, str]:
    """Accept `a=@cf/x,b=@cf/y` (easy in a PaaS dashboard) or a JSON object."""
    text = text.strip()
    if not text:
        return {}
    if text.startswith("{"):
        loaded = json.loads(text)
        if not isinstance(loaded, dict):
            raise ValueError("expected a JSON object")
        return {str(k): str(v) for k, v in loaded.items()}
    aliases: dict[str, str] = {}
    for pair in text.split(","):
        name, sep, target = pair.partition("=")
        if not sep or not name.strip() or not target.strip():
            raise ValueError(f"expected name=model pairs, got {pair.strip()!r}")
        aliases[name.strip()] = target.strip()
    return aliases


class NamedKey(BaseModel):
    """One named client key: the SHA-256 of its secret and what it may do."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    secret_sha256: str = Field(pattern=r"^[0-9a-fA-F]{64}$")
    models: list[str] | None = None
    requests_per_minute: int | None = Field(default=None, ge=1)
    tokens_per_minute: int | None = Field(default=None, ge=1)
    budget_usd_per_day: float | None = Field(default=None, ge=0)
    budget_usd_per_month: float | None = Field(default=None, ge=0)


def merged_table(from_file: Any, from_env: str) -> dict[str, Any]:
    """The file's table with the environment's JSON object merged over it, entry by entry."""
    table = dict(from_file or {})
    if from_env.strip():
        try:
            loaded = json.loads(from_env)
        except json.JSONDecodeError as exc:
            raise ValueError(f"not JSON ({exc})") from None
        if not isinstance(loaded, dict):
            raise ValueError("expected a JSON object")
        table.update(loaded)
    return table
