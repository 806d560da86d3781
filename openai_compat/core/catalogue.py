"""The Workers AI catalogue, fetched from `/ai/models/search` and cached for a TTL.

One lock per process keeps a cold cache from sending a burst of identical catalogue calls; while
one thread refreshes, the others serve the stale copy; a failed fetch is remembered briefly (and
the last good copy kept) so an outage does not add a slow upstream call to every listing.
Families read it through `CatalogueEntry` (task, creation time, properties such as price), never
through the raw records.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from openai_compat.core.logs import log_event
from openai_compat.errors import APIError

log = logging.getLogger("openai_compat.models")
FAILURE_RETRY_SECONDS = 30.0


@dataclass(frozen=True)
class CatalogueEntry:
    name: str
    created: int
    task: str | None
    properties: Mapping[str, Any] = field(default_factory=dict)

    @property
    def author(self) -> str:
        parts = self.name.split("/")
        return parts[1] if len(parts) > 2 else "cloudflare"


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


def catalogue_entry(record: Mapping[str, Any]) -> CatalogueEntry | None:
    name = record.get("name")
    if not isinstance(name, str) or not name:
        return None
    task = record.get("task") or {}
    properties = {
        str(p["property_id"]): p.get("value")
        for p in record.get("properties") or []
        if isinstance(p, dict) and "property_id" in p
    }
    return CatalogueEntry(
        name=name,
        created=_created(record.get("created_at")),
        task=task.get("name") if isinstance(task, dict) else None,
        properties=properties,
    )


class ModelCatalogue:
    def __init__(
        self,
        fetch: Callable[[], list[dict[str, Any]]],
        ttl_seconds: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._fetch = fetch
        self._ttl = ttl_seconds
        self._clock = clock
        self._lock = threading.Lock()
        self._entries: dict[str, CatalogueEntry] | None = None
        self._expires = 0.0

    def entries(self) -> dict[str, CatalogueEntry] | None:
        """Every listed model by name; None when the catalogue has never been reachable."""
        if self._clock() < self._expires:
            return self._entries
        # With a stale copy in hand, readers never wait for a refresh another thread is doing.
        if not self._lock.acquire(blocking=self._entries is None):
            return self._entries
        try:
            if self._clock() < self._expires:
                return self._entries
            try:
                records = self._fetch()
            except APIError as exc:
                log_event(log, "catalogue_unavailable", level=logging.WARNING, error=exc.code)
                self._expires = self._clock() + min(self._ttl, FAILURE_RETRY_SECONDS)
                return self._entries  # the last good copy, if any
            entries = (catalogue_entry(r) for r in records)
            self._entries = {e.name: e for e in entries if e is not None}
            self._expires = self._clock() + self._ttl
            return self._entries
        finally:
            self._lock.release()

    def get(self, name: str) -> CatalogueEntry | None:
        return (self.entries() or {}).get(name)

    def task_of(self, name: str) -> str | None:
        entry = self.get(name)
        return entry.task if entry is not None else None
