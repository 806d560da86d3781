"""`n > 1` on Workers AI, which generates one answer a call: several calls side by side.

Non-streamed calls run on a thread each; streamed ones are read on a thread each and merged
into one sequence of (choice index, item), so every choice's tokens pass through as they come.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait
from typing import TypeVar

from openai_compat.background import interleave

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


def merge(streams: list[Iterator[T]]) -> Iterator[tuple[int, T]]:
    """Interleave several iterators as their items arrive; an error in any one is re-raised."""
    if len(streams) == 1:
        for item in streams[0]:
            yield 0, item
        return
    for entry in interleave(streams):
        assert entry is not None  # no idle timeout was asked for
        yield entry
