"""The emulator's own tests use the session's emulator, reset around each test (see tests/conftest.py)."""

from __future__ import annotations

import pytest

from tests.support.emulator import EmulatorHandle


@pytest.fixture
def emu(upstream: EmulatorHandle) -> EmulatorHandle:
    return upstream
