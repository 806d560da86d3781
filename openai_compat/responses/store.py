"""Stored responses in the storage layer (a local directory or R2), shared by every worker and instance.

One object per response holds what every later call needs in one read: the response as returned,
its input items (for `input_items`), and the whole conversation up to and including its output (so
`previous_response_id` rebuilds a chain of any length from a single read). A background run adds
its events in batches (for `?stream=true` from any instance), a lease it renews while it runs (a
worker that dies leaves a lease that expires, never `in_progress` for ever) and reads a cancel flag.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from openai_compat.responses.from_workers import closing_events, failed, is_terminal
from openai_compat.storage import ObjectNotFound, ObjectStore

LEASE_SECONDS = 30.0
FOLLOW_POLL_SECONDS = 0.25
TERMINAL_EVENTS = ("response.completed", "response.incomplete", "response.failed")
_ID = re.compile(r"^resp_[0-9a-f]{32}$")
LOST_WORKER = "The gateway worker running this background response stopped before it finished; create it again."


def _record_key(response_id: str) -> str:
    return f"responses/{response_id}.json"


def _events_prefix(response_id: str) -> str:
    return f"responses/{response_id}/events/"


def _cancel_key(response_id: str) -> str:
    return f"responses/{response_id}/cancel"


@dataclass
class Record:
    response: dict[str, Any]
    input_items: list[dict[str, Any]] = field(default_factory=list)
    context: list[dict[str, Any]] = field(default_factory=list)
    """The conversation items before this response's input (what `previous_response_id` brought)."""
    lease_until: float | None = None

    def as_json(self) -> dict[str, Any]:
        return {"response": self.response, "input_items": self.input_items, "context": self.context,
                "lease_until": self.lease_until}

    def conversation(self) -> list[dict[str, Any]]:
        """What a response chained onto this one continues: the context, this response's input, its output."""
        return [*self.context, *self.input_items, *self.response.get("output", [])]

    def current(self, now: float | None = None) -> dict[str, Any]:
        """The response as a reader should see it: a run whose lease ran out has failed."""
        if not is_terminal(self.response) and self.lease_until is not None and (now or time.time()) > self.lease_until:
            response = dict(self.response)
            failed(response, "server_error", LOST_WORKER)
            return response
        return self.response


class ResponseStore:
    def __init__(self, storage: ObjectStore) -> None:
        self._storage = storage

    @staticmethod
    def known_id(response_id: str) -> bool:
        return bool(_ID.match(response_id))

    def save(self, record: Record) -> None:
        self._storage.put_json(_record_key(record.response["id"]), record.as_json())

    def load(self, response_id: str) -> Record | None:
        if not self.known_id(response_id):
            return None
        try:
            raw = self._storage.get_json(_record_key(response_id))
        except ObjectNotFound:
            return None
        return Record(raw["response"], raw.get("input_items") or [], raw.get("context") or [], raw.get("lease_until"))

    def delete(self, response_id: str) -> bool:
        """Remove the response and everything stored beside it; whether it existed."""
        if self.load(response_id) is None:
            return False
        for info in list(self._storage.list(f"responses/{response_id}/")):
            self._storage.delete(info.key)
        self._storage.delete(_record_key(response_id))
        return True

    def append_events(self, response_id: str, events: list[dict[str, Any]]) -> None:
        if events:
            key = f"{_events_prefix(response_id)}{events[0]['sequence_number']:09d}.json"
            self._storage.put_json(key, events)

    def events_after(self, response_id: str, after: int, seen_batches: set[str] | None = None) -> list[dict[str, Any]]:
        """Stored events with a sequence number above `after`, in order. `seen_batches` (updated) lets a
        follower skip the batches it has already read."""
        events: list[dict[str, Any]] = []
        for info in self._storage.list(_events_prefix(response_id)):
            if seen_batches is not None and info.key in seen_batches:
                continue
            try:
                batch = self._storage.get_json(info.key)
            except ObjectNotFound:
                continue
            if seen_batches is not None:
                seen_batches.add(info.key)
            events += [e for e in batch if e.get("sequence_number", -1) > after]
        return sorted(events, key=lambda e: e["sequence_number"])

    def request_cancel(self, response_id: str) -> None:
        self._storage.put(_cancel_key(response_id), b"1", content_type="text/plain")

    def cancel_requested(self, response_id: str) -> bool:
        return self._storage.head(_cancel_key(response_id)) is not None

    def follow(self, response_id: str, after: int) -> Iterator[dict[str, Any]]:
        """A background response's stored events after `after`, then the new ones as its run writes
        them, until its terminal event; a run whose worker died ends with `error` and `response.failed`."""
        seen: set[str] = set()
        settle_until: float | None = None
        while True:
            for event in self.events_after(response_id, after, seen):
                after = event["sequence_number"]
                yield event
                if event["type"] in TERMINAL_EVENTS:
                    return
            record = self.load(response_id)
            if record is None:
                return  # deleted meanwhile
            current = record.current()
            if is_terminal(current):
                if current["status"] == "cancelled":
                    return
                # The run stores its record before its last batch of events: give that batch a moment.
                settle_until = settle_until or time.monotonic() + 2.0
                if time.monotonic() > settle_until:
                    yield from closing_events(current, after + 1)
                    return
            time.sleep(FOLLOW_POLL_SECONDS)
