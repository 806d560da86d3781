"""`n > 1` on Workers AI, which generates one answer a call: several calls side by side.

Non-streamed calls run on a thread each; streamed ones are read on a thread each and merged
into one sequence of (choice index, item), so every choice's tokens pass through as they come.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait
from typing import TypeVar

T = TypeVar("T")


def run_all(
    calls: list[Callable[[], T]], *, limit: int | None = None, discard: Callable[[T], None] | None = None
) -> list[T]:
    """Results in call order, at most `limit` calls in flight (all at once by default).

    The first failure is raised; calls not yet started are cancelled, so a failed request stops
    spending upstream quota, and the results of calls that did succeed go to `discard` (to close
    streams they opened).
    """
    if len(calls) == 1:
        return [calls[0]()]
    workers = min(limit or len(calls), len(calls))
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="fanout") as pool:
        futures = [pool.submit(call) for call in calls]
        wait(futures, return_when=FIRST_EXCEPTION)
        failed = next((f for f in futures if f.done() and not f.cancelled() and f.exception()), None)
        if failed is not None:
            pool.shutdown(wait=True, cancel_futures=True)
    if failed is None:
        return [future.result() for future in futures]
    if discard is not None:
        for future in futures:
            if future.done() and not future.cancelled() and future.exception() is None:
                discard(future.result())
    raise failed.exception()  # type: ignore[misc]


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
