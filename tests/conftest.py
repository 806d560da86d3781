"""Shared fixtures: one emulator and one gunicorn-served gateway for the session's e2e tests."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from harness import processes  # noqa: E402
from tests.support.emulator import EmulatorHandle, running, start_emulator  # noqa: E402
from tests.support.gateway import GatewayHandle, start_gateway  # noqa: E402


@pytest.fixture(scope="session")
def emulator() -> Iterator[EmulatorHandle]:
    with start_emulator() as handle:
        yield handle


@pytest.fixture(scope="session")
def gateway(emulator: EmulatorHandle) -> Iterator[GatewayHandle]:
    with start_gateway(emulator) as handle:
        yield handle


@pytest.fixture(scope="module")
def heartbeat_gateway(emulator: EmulatorHandle) -> Iterator[GatewayHandle]:
    """A gateway that sends a heartbeat after 0.2 s of upstream silence, for the streaming families' tests."""
    with start_gateway(emulator, SSE_HEARTBEAT_SECONDS="0.2") as handle:
        yield handle


@pytest.fixture
def upstream(emulator: EmulatorHandle) -> Iterator[EmulatorHandle]:
    """The emulator with faults and its request log cleared before and after the test."""
    emulator.clear_faults()
    emulator.clear_requests()
    yield emulator
    emulator.clear_faults()


@pytest.fixture(scope="session")
def redis_server() -> Iterator[processes.Service]:
    """One real Redis (Debian's redis-server, installed by scripts/test) on a free loopback port."""
    with running(processes.start_redis, "redis") as service:
        yield service


@pytest.fixture
def redis_url(redis_server: processes.Service) -> str:
    """The session's Redis, emptied for this test."""
    import redis

    client = redis.Redis.from_url(redis_server.url)
    client.flushdb()
    client.close()
    return redis_server.url
