"""Fixtures for the emulator's own tests: one shared process, reset before each test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.emulator import EmulatorHandle, start_emulator


@pytest.fixture(scope="session")
def emulator_session() -> Iterator[EmulatorHandle]:
    with start_emulator() as handle:
        yield handle


@pytest.fixture
def emu(emulator_session: EmulatorHandle) -> Iterator[EmulatorHandle]:
    emulator_session.clear_faults()
    emulator_session.clear_requests()
    yield emulator_session
    emulator_session.clear_faults()
