"""Streams wait for their upstream's next bytes (to send heartbeats while it is silent) without
losing the bytes a read already took in: a real HTTP server on loopback, read as the client reads it."""

from __future__ import annotations

import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from openai_compat.core.sse import QUIET
from openai_compat.net.readiness import Readiness
from openai_compat.upstream.reply import UpstreamStreamError, stream_events

HEAD = b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n"


def chunk(data: bytes) -> bytes:
    return b"%x\r\n%s\r\n" % (len(data), data)


@pytest.fixture
def server() -> Iterator[tuple[str, list[tuple[float, bytes]]]]:
    """Serves one chunked reply written as the test's script says: (pause in seconds, bytes) steps."""
    script: list[tuple[float, bytes]] = []
    listener = socket.create_server(("127.0.0.1", 0))

    def serve() -> None:
        conn, _ = listener.accept()
        with conn:
            conn.recv(65536)
            conn.sendall(HEAD)
            for pause, data in script:
                time.sleep(pause)
                conn.sendall(data)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{listener.getsockname()[1]}/", script
    listener.close()
    thread.join(timeout=5)


def test_silence_is_reported_and_bytes_already_buffered_are_not_waited_for(server) -> None:
    url, script = server
    # Two events in one segment: the first read takes both in, the second must not wait for the socket.
    script += [(0, chunk(b'data: {"n": 1}\n\n') + chunk(b'data: {"n": 2}\n\n')), (0.6, chunk(b'data: {"n": 3}\n\n')),
               (0, chunk(b"data: [DONE]\n\n") + b"0\r\n\r\n")]
    response = requests.get(url, stream=True, timeout=5)
    seen: list[object] = []
    started = time.monotonic()
    times: list[float] = []
    for event in stream_events(response, idle_after=0.2):
        seen.append(event if event is QUIET else event["n"])
        times.append(time.monotonic() - started)
    assert seen[:2] == [1, 2]
    assert times[1] < 0.15  # the buffered event came at once, not after a wait
    assert seen.count(QUIET) >= 2 and seen[-1] == 3 and seen.index(3) > 2


def test_a_stream_cut_while_waiting_is_an_error(server) -> None:
    url, script = server
    script += [(0, chunk(b'data: {"n": 1}\n\n')), (0.3, b"")]  # then the server closes mid-body
    response = requests.get(url, stream=True, timeout=5)
    with pytest.raises(UpstreamStreamError):
        list(stream_events(response, idle_after=0.1))


def test_readiness_needs_a_real_socket() -> None:
    """A reply that is not read from a socket (a test double) is read without waits."""
    response = requests.Response()
    response.raw = None
    assert Readiness.of(response) is None


def test_an_upstream_silent_past_the_read_timeout_ends_the_stream(server) -> None:
    """Heartbeats must not keep a dead upstream's stream open for ever."""
    url, script = server
    script += [(0, chunk(b'data: {"n": 1}\n\n')), (3, b"")]
    response = requests.get(url, stream=True, timeout=5)
    seen: list[object] = []
    started = time.monotonic()
    with pytest.raises(UpstreamStreamError, match=r"sent nothing for 0\.6 s"):
        for event in stream_events(response, idle_after=0.2, read_timeout=0.6):
            seen.append(event)
    assert 0.5 < time.monotonic() - started < 1.5
    assert seen[0] == {"n": 1} and 2 <= seen.count(QUIET) <= 3


GEVENT_SILENCES = """
from gevent import monkey; monkey.patch_all()
import socket, time, gevent
from openai_compat.net.readiness import _gevent_wait
a, b = socket.socketpair()
wait, close = _gevent_wait(a.fileno())
def feed():
    for _ in range(30):
        gevent.sleep(0.02); b.send(b"x")
gevent.spawn(feed)
got = 0
while got < 30:
    if wait(0.25):
        a.recv(100); got += 1
for _ in range(3):
    started = time.monotonic(); assert not wait(0.25); print(round(time.monotonic() - started, 3))
b.send(b"y"); assert wait(0.25)
close()
"""


def test_under_gevent_every_silence_waits_the_whole_interval() -> None:
    """The gevent path (gunicorn's default workers): after many short waits and after a silence, the
    next silence still lasts the whole interval, so a silent upstream gets a heartbeat per interval,
    not a flood of them (a libev timer restarted with `start()` fired at once once it had fired)."""
    result = subprocess.run([sys.executable, "-c", GEVENT_SILENCES], capture_output=True, text=True, timeout=20,
                            cwd=Path(__file__).resolve().parents[2])
    assert result.returncode == 0, result.stderr[-2000:]
    waits = [float(line) for line in result.stdout.split()]
    assert len(waits) == 3 and all(0.22 <= w < 0.6 for w in waits), waits
