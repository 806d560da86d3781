"""`n > 1` on Workers AI, which generates one answer a call: several calls side by side.

Non-streamed calls run on a thread each; streamed ones are read on a thread each and merged
into one sequence of (choice index, item), so every choice's tokens pass through as they come.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

T = TypeVar("T")


def run_all(calls: list[Callable[[], T]], discard: Callable[[T], None] | None = None) -> list[T]:
    """Results in call order. If any call fails, the first failure is raised and the results of
    the calls that succeeded are handed to `discard` (to close their open streams)."""
    if len(calls) == 1:
        return [calls[0]()]
    with ThreadPoolExecutor(max_workers=len(calls), thread_name_prefix="fanout") as pool:
        futures = [pool.submit(call) for call in calls]
    failures = [f.exception() for f in futures if f.exception() is not None]
    if failures:
        if discard is not None:
            for future in futures:
                if future.exception() is None:
                    discard(future.result())
        raise failures[0]
    return [future.result() for future in futures]


_END = object()


def merge(streams: list[Iterator[T]]) -> Iterator[tuple[int, T]]:
    """Interleave several iterators as their items arrive; an error in any one is re-raised."""
    if len(streams) == 1:
        for item in streams[0]:
            yield 0, item
        return
    items: queue.Queue[tuple[int, object]] = queue.Queue()

    def pump(index: int, stream: Iterator[T]) -> None:
        try:
            for item in stream:
                items.put((index, item))
        except BaseException as exc:
            items.put((index, exc))
        finally:
            items.put((index, _END))

    for index, stream in enumerate(streams):
        threading.Thread(target=pump, args=(index, stream), name="fanout-stream", daemon=True).start()
    remaining = len(streams)
    while remaining:
        index, item = items.get()
        if item is _END:
            remaining -= 1
        elif isinstance(item, BaseException):
            raise item
        else:
            yield index, item  # type: ignore[misc]
