"""The conformance suite's world: one emulator (with the suite's script) and one gunicorn gateway for the
session, clients whose every response is checked against OpenAI's spec, and the compatibility table's
bookkeeping (see `recorder.py` and `tests/support/compat_table.py`).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx2
import openai
import pytest

from tests.conformance.recorder import TABLE_TEST, Recorder, conformance_files
from tests.conformance.script import SCRIPT
from tests.conformance.wire import AsyncSpecTransport, SpecCheck, SpecTransport
from tests.support import compat_table
from tests.support.emulator import EmulatorHandle, start_emulator
from tests.support.gateway import GatewayHandle, start_gateway

HERE = Path(__file__).resolve().parent
RECORDER = pytest.StashKey[Recorder]()


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "compat(client, endpoint, feature, suite=False): a row of the README's "
                                       "compatibility table this test feeds")
    recorder = config.stash[RECORDER] = Recorder()
    config.pluginmanager.register(recorder, "conformance-recorder")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """The README comparison runs after every conformance test of the session, wherever it was collected."""
    last = [item for item in items if item.path.name == TABLE_TEST and item.path.parent == HERE]
    for item in last:
        items.remove(item)
    items.extend(last)


def pytest_sessionfinish(session: pytest.Session) -> None:
    recorder = session.config.stash.get(RECORDER, None)
    rows = recorder.rows() if recorder else []
    if rows:
        compat_table.save_results(rows, recorder.complete(conformance_files()))


@pytest.fixture(scope="session")
def recorder(pytestconfig: pytest.Config) -> Recorder:
    return pytestconfig.stash[RECORDER]


# ---- the servers ----------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def emulator() -> Iterator[EmulatorHandle]:
    with start_emulator() as handle:
        handle.set_script(SCRIPT["rules"])
        yield handle


@pytest.fixture(scope="session")
def gateway(emulator: EmulatorHandle) -> Iterator[GatewayHandle]:
    with start_gateway(emulator) as handle:
        yield handle


# ---- clients whose every response is checked -------------------------------------------------------


CALL_REPORT = pytest.StashKey[pytest.TestReport]()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> pytest.TestReport:
    report = yield
    if report.when == "call":
        item.stash[CALL_REPORT] = report
    return report


@pytest.fixture
def spec(request: pytest.FixtureRequest) -> Iterator[SpecCheck]:
    """What this test's clients received; the test fails on any body or event that breaks OpenAI's spec,
    and a test of one feature that passed without a response going through the check fails too."""
    check = SpecCheck()
    yield check
    assert not check.problems, "responses that break OpenAI's spec:\n" + "\n".join(check.problems)
    marker = request.node.get_closest_marker("compat")
    report = request.node.stash.get(CALL_REPORT, None)
    if marker and not marker.kwargs.get("suite") and report is not None and report.passed:
        assert check.validated or check.unvalidated, "no response passed through the spec check"


@pytest.fixture
def http_client(spec: SpecCheck) -> Iterator[httpx2.Client]:
    with httpx2.Client(transport=SpecTransport(spec), timeout=60) as client:
        yield client


@pytest.fixture
async def async_http_client(spec: SpecCheck) -> AsyncIterator[httpx2.AsyncClient]:
    """One per test, opened and closed on the test's own event loop (pytest-asyncio gives each test one)."""
    async with httpx2.AsyncClient(transport=AsyncSpecTransport(spec), timeout=60) as client:
        yield client


@pytest.fixture
def client(gateway: GatewayHandle, http_client: httpx2.Client) -> openai.OpenAI:
    return gateway.client(http_client=http_client)
