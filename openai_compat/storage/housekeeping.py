"""Removing what should not stay in the store: objects of a failed request, and expired images.

A request that fails after some of its objects were written deletes them at once. When the store is
down at that moment (the usual reason the request failed), the keys are kept here and retried in the
background with growing pauses, so an outage does not leave orphans behind once the store is back.
The local backend also removes objects past their retention on a timer; R2 does that itself with a
lifecycle rule on the bucket (see the README).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterable

from openai_compat.core.logs import log_event
from openai_compat.storage.base import ObjectStore, StorageError

log = logging.getLogger("openai_compat.storage")

FIRST_RETRY_SECONDS = 1.0
MAX_RETRY_SECONDS = 60.0
GIVE_UP_AFTER_SECONDS = 3600.0
SWEEP_EVERY_SECONDS = 3600.0


class Housekeeper:
    def __init__(
        self,
        store: ObjectStore,
        *,
        sweep_prefix: str | None = None,
        retention_seconds: float = 0.0,
        first_retry_seconds: float = FIRST_RETRY_SECONDS,
    ) -> None:
        self._store = store
        self._sweep_prefix = sweep_prefix
        self._retention_seconds = retention_seconds
        self._first_retry = first_retry_seconds
        self._pending: dict[str, tuple[float, float]] = {}  # key -> (first failure, next attempt)
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self._last_sweep = 0.0

    def discard(self, keys: Iterable[str]) -> None:
        """Delete now; what cannot be deleted now is retried in the background."""
        failed = []
        for key in keys:
            try:
                self._store.delete(key)
            except StorageError:
                failed.append(key)
        if failed:
            now = time.monotonic()
            with self._lock:
                for key in failed:
                    self._pending.setdefault(key, (now, now + self._first_retry))
            log_event(log, "storage_delete_deferred", level=logging.WARNING, objects=len(failed))
            self._ensure_thread()

    def pending(self) -> int:
        with self._lock:
            return len(self._pending)

    def start_sweeping(self) -> None:
        """Remove expired objects now and every hour, where the backend can (`sweep`)."""
        if self._sweep_prefix and self._retention_seconds > 0 and hasattr(self._store, "sweep"):
            self._ensure_thread()

    def _ensure_thread(self) -> None:
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="storage-housekeeping", daemon=True)
                self._thread.start()
        self._wake.set()

    def _run(self) -> None:
        while True:
            self._retry_due()
            self._sweep_if_due()
            with self._lock:
                waits = [due - time.monotonic() for _, due in self._pending.values()]
            sweeping = self._sweep_prefix and self._retention_seconds > 0 and hasattr(self._store, "sweep")
            if not waits and not sweeping:
                with self._lock:
                    self._thread = None
                return
            timeout = max(0.05, min(waits)) if waits else SWEEP_EVERY_SECONDS
            self._wake.wait(min(timeout, SWEEP_EVERY_SECONDS))
            self._wake.clear()

    def _retry_due(self) -> None:
        now = time.monotonic()
        with self._lock:
            due = [key for key, (_, at) in self._pending.items() if at <= now]
        for key in due:
            try:
                self._store.delete(key)
            except StorageError:
                with self._lock:
                    first, at = self._pending[key]
                    if now - first > GIVE_UP_AFTER_SECONDS:
                        del self._pending[key]
                        log_event(log, "storage_delete_abandoned", level=logging.ERROR,
                                  detail="left for the retention rule")
                    else:
                        pause = min(MAX_RETRY_SECONDS, max(self._first_retry, (at - first) * 2))
                        self._pending[key] = (first, now + pause)
            else:
                with self._lock:
                    self._pending.pop(key, None)
                log_event(log, "storage_delete_retried", objects=1)

    def _sweep_if_due(self) -> None:
        sweep = getattr(self._store, "sweep", None)
        if sweep is None or not self._sweep_prefix or self._retention_seconds <= 0:
            return
        if time.monotonic() - self._last_sweep < SWEEP_EVERY_SECONDS and self._last_sweep:
            return
        self._last_sweep = time.monotonic()
        try:
            removed = sweep(self._sweep_prefix, self._retention_seconds)
        except (StorageError, OSError) as exc:
            log_event(log, "storage_sweep_failed", level=logging.WARNING, reason=type(exc).__name__)
            return
        if removed:
            log_event(log, "storage_sweep", removed=removed, prefix=self._sweep_prefix)
