"""A worker's drain: open streams run on through the grace period, then end with an error event.

The upstream here is a blocking iterator that ends (as a real one does) when its connection is shut,
which is what the stream's `on_close` does.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator

import pytest

from openai_compat.core import sse
from openai_compat.core.shutdown import Drain


class Upstream:
    """Yields a token every `delay` seconds until closed; closing wakes a blocked read at once."""

    def __init__(self, delay: float = 0.05, tokens: int = 1000) -> None:
        self.delay, self.tokens = delay, tokens
        self.closed = threading.Event()

    def __iter__(self) -> Iterator[bytes]:
        for n in range(self.tokens):
            if self.closed.wait(self.delay):
                raise ConnectionError("connection shut")  # what a read on a shut socket does
            yield sse.data_event({"n": n})
        yield sse.DONE

    def close(self) -> None:
        self.closed.set()


@pytest.fixture
def drain(monkeypatch: pytest.MonkeyPatch) -> Drain:
    fresh = Drain()
    monkeypatch.setattr(sse, "DRAIN", fresh)
    return fresh


def read_all(stream: Iterator[bytes]) -> tuple[list[bytes], float]:
    started = time.monotonic()
    return list(stream), time.monotonic() - started


@pytest.mark.parametrize("heartbeat", [0.0, 5.0])
def test_a_stream_open_at_the_deadline_ends_with_a_shutdown_error(drain: Drain, heartbeat: float) -> None:
    upstream = Upstream()
    stream = sse.with_heartbeat(iter(upstream), heartbeat, upstream.close)
    first = next(stream)  # the stream is open and flowing
    drain.begin(0.3)
    rest, elapsed = read_all(stream)
    tokens = [chunk for chunk in rest if b'"n"' in chunk]
    assert first.startswith(b"data: {") and len(tokens) >= 3  # it kept flowing through the grace period
    assert elapsed == pytest.approx(0.3, abs=0.25)
    last = json.loads(rest[-1].removeprefix(b"data: "))
    assert last["error"]["code"] == "server_shutting_down" and last["error"]["type"] == "server_error"
    assert sse.DONE not in rest
    assert upstream.closed.is_set() and drain.open_streams == 0


def test_a_stream_that_finishes_within_the_grace_period_is_untouched(drain: Drain) -> None:
    upstream = Upstream(delay=0.01, tokens=5)
    stream = sse.with_heartbeat(iter(upstream), 5.0, upstream.close)
    drain.begin(2.0)
    chunks, elapsed = read_all(stream)
    assert chunks[-1] == sse.DONE and len(chunks) == 6 and elapsed < 1.5
    assert not any(b"server_shutting_down" in c for c in chunks)


def test_a_family_can_end_its_streams_with_its_own_event(drain: Drain) -> None:
    upstream = Upstream()
    own = sse.named_event("error", {"type": "error", "code": "server_shutting_down"})
    stream = sse.with_heartbeat(iter(upstream), 0, upstream.close, shutdown_event=lambda: own)
    next(stream)
    drain.begin(0.1)
    assert list(stream)[-1] == own


def test_a_stream_opened_after_the_deadline_ends_at_once(drain: Drain) -> None:
    drain.begin(0)
    time.sleep(0.05)
    upstream = Upstream()
    chunks, elapsed = read_all(sse.with_heartbeat(iter(upstream), 5.0, upstream.close))
    assert len(chunks) == 1 and b"server_shutting_down" in chunks[0] and elapsed < 1


def test_begin_runs_its_hooks_once_and_keeps_the_first_deadline() -> None:
    drain = Drain()
    calls: list[str] = []
    drain.on_begin(lambda: calls.append("idle connections closed"))
    assert not drain.draining
    drain.begin(30)
    deadline = drain.deadline
    drain.begin(1)  # SIGTERM again (Heroku signals every process of a dyno)
    assert drain.draining and drain.deadline == deadline and calls == ["idle connections closed"]
