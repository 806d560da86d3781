"""Several blocking iterators or calls at once, on threads (greenlets under gevent).

Used where the consumer must not block on one blocking read or call: `n` choices generated side by
side, embeddings batches, several images, and SSE heartbeats written while the upstream is silent.
Each call runs in a copy of the caller's context, so log lines written inside it still carry the
request id.
"""

from __future__ import annotations

import contextvars
import queue
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait
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
        context = contextvars.copy_context()
        threading.Thread(
            target=context.run, args=(pump, index, stream), name="background-reader", daemon=True
        ).start()
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


def merge(streams: list[Iterator[T]]) -> Iterator[tuple[int, T]]:
    """Interleave several iterators as their items arrive; an error in any one is re-raised."""
    if len(streams) == 1:
        for item in streams[0]:
            yield 0, item
        return
    for entry in interleave(streams):
        assert entry is not None  # no idle timeout was asked for
        yield entry


def run_all(
    calls: list[Callable[[], T]], *, limit: int | None = None, discard: Callable[[T], None] | None = None
) -> list[T]:
    """Results in call order, at most `limit` calls in flight (all at once by default).

    The first failure is raised; calls not yet started are cancelled, so a failed request stops
    spending upstream quota, and the results of calls that did succeed go to `discard` (to close
    streams they opened, or delete objects they stored).
    """
    if len(calls) == 1:
        return [calls[0]()]
    workers = min(limit or len(calls), len(calls))
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="fanout") as pool:
        futures = [pool.submit(contextvars.copy_context().run, call) for call in calls]
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
