"""The Workers AI catalogue, fetched from `/ai/models/search` and cached for a TTL.

One lock per process keeps a cold cache from sending a burst of identical catalogue calls; while
one thread refreshes, the others serve the stale copy; a failed fetch is remembered briefly (and
the last good copy kept) so an outage does not add a slow upstream call to every listing, and
the aliases are served regardless.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

from openai_compat.errors import APIError
from openai_compat.models.protocol import Model

log = logging.getLogger("openai_compat.models")
FAILURE_RETRY_SECONDS = 30.0


def _created(value: Any) -> int:
    if not isinstance(value, str) or not value:
        return 0
    try:
        parsed = dt.datetime.fromisoformat(value.replace(" ", "T"))
    except ValueError:
        return 0
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=dt.UTC)
    return int(parsed.timestamp())


def catalogue_model(record: Mapping[str, Any]) -> Model | None:
    """An OpenAI `Model` for one catalogue record; the task helps users pick the right endpoint."""
    name = record.get("name")
    if not isinstance(name, str) or not name:
        return None
    parts = name.split("/")
    task = record.get("task") or {}
    return Model(
        id=name,
        created=_created(record.get("created_at")),
        owned_by=parts[1] if len(parts) > 2 else "cloudflare",
        task=task.get("name") if isinstance(task, dict) else None,
    )


class ModelCatalogue:
    def __init__(
        self,
        fetch: Callable[[], list[dict[str, Any]]],
        aliases: Mapping[str, str],
        ttl_seconds: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._fetch = fetch
        self._aliases = dict(aliases)
        self._ttl = ttl_seconds
        self._clock = clock
        self._lock = threading.Lock()
        self._models: dict[str, Model] | None = None
        self._expires = 0.0

    def _catalogue(self) -> dict[str, Model] | None:
        if self._clock() < self._expires:
            return self._models
        # With a stale copy in hand, readers never wait for a refresh another thread is doing.
        if not self._lock.acquire(blocking=self._models is None):
            return self._models
        try:
            if self._clock() < self._expires:
                return self._models
            try:
                records = self._fetch()
            except APIError as exc:
                log.warning(json.dumps({"event": "catalogue_unavailable", "error": exc.code}))
                self._expires = self._clock() + min(self._ttl, FAILURE_RETRY_SECONDS)
                return self._models  # the last good copy, if any
            models = (catalogue_model(r) for r in records)
            self._models = {m.id: m for m in models if m is not None}
            self._expires = self._clock() + self._ttl
            return self._models
        finally:
            self._lock.release()

    def _alias_model(self, alias: str, target: str, catalogue: dict[str, Model] | None) -> Model:
        backing = (catalogue or {}).get(target)
        return Model(
            id=alias,
            created=backing.created if backing else 0,
            owned_by="openai-compat",
            workers_ai_model=target,
        )

    def list(self) -> list[Model]:
        catalogue = self._catalogue()
        models = [self._alias_model(a, t, catalogue) for a, t in self._aliases.items()]
        models.extend(m for m in (catalogue or {}).values() if m.id not in self._aliases)
        return models

    def get(self, model_id: str) -> Model | None:
        catalogue = self._catalogue()
        if model_id in self._aliases:
            return self._alias_model(model_id, self._aliases[model_id], catalogue)
        return (catalogue or {}).get(model_id)
