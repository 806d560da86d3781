"""Iterators read on background threads (greenlets under gevent), their items handed over as they come.

Used where the consumer must not block on one blocking read: merging the streams of `n` choices,
and writing SSE heartbeats while the upstream is silent.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator
from typing import TypeVar

T = TypeVar("T")

_END = object()


class _Failure:
    def __init__(self, exc: BaseException) -> None:
        self.exc = exc


def interleave(streams: list[Iterator[T]], *, idle_after: float | None = None) -> Iterator[tuple[int, T] | None]:
    """Yield (index, item) from every stream as items arrive, and None whenever nothing has arrived
    for `idle_after` seconds. An error in any stream is re-raised here."""
    items: queue.Queue[tuple[int, object]] = queue.Queue()

    def pump(index: int, stream: Iterator[T]) -> None:
        try:
            for item in stream:
                items.put((index, item))
        except BaseException as exc:
            items.put((index, _Failure(exc)))
        finally:
            items.put((index, _END))

    for index, stream in enumerate(streams):
        threading.Thread(target=pump, args=(index, stream), name="background-reader", daemon=True).start()
    remaining = len(streams)
    while remaining:
        try:
            index, item = items.get(timeout=idle_after)
        except queue.Empty:
            yield None
            continue
        if item is _END:
            remaining -= 1
        elif isinstance(item, _Failure):
            raise item.exc
        else:
            yield index, item  # type: ignore[misc]
