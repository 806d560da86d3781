"""The console in a real browser: headless Chromium against a gateway started as the Procfile does,
with the console on, an admin key and one named key (both for the module only: they are stopped before
the other tiers' tests run). Skipped, alone, where Chromium or its driver is
missing (scripts/test installs Debian's `chromium` and `chromium-driver`)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.browser import chromium, find_chromium, output_dir
from tests.support.emulator import EmulatorHandle
from tests.support.gateway import GatewayHandle, start_gateway

ADMIN_KEY = "sk-admin-console-0001"
BOT_KEY = "sk-console-bot-0001"
BOT = "console-bot"
NOT_OURS = ("Failed to load resource",)
"""Console lines the browser writes for any refused request (the wrong-key tests make some on purpose)."""


@pytest.fixture(scope="session")
def chromium_paths() -> tuple[str, str]:
    paths = find_chromium()
    if paths is None:
        pytest.skip("chromium or chromedriver not found: scripts/test installs Debian's chromium and chromium-driver")
    return paths


@pytest.fixture(scope="module")
def console_gateway(chromium_paths: tuple[str, str], emulator: EmulatorHandle) -> Iterator[GatewayHandle]:
    named = {BOT: {"secret_sha256": hashlib.sha256(BOT_KEY.encode()).hexdigest()}}
    with start_gateway(emulator, CONSOLE_ENABLED="true", ADMIN_API_KEY=ADMIN_KEY,
                       NAMED_API_KEYS=json.dumps(named)) as handle:
        yield handle


@pytest.fixture(scope="module")
def browser(chromium_paths: tuple[str, str], console_gateway: GatewayHandle) -> Iterator[Any]:
    """Set up after the gateway so it quits first: its kept-alive connections would hold the gateway's
    shutdown for the whole grace period."""
    with chromium(chromium_paths) as driver:
        yield driver


@pytest.fixture(scope="session")
def screenshots() -> Path:
    return output_dir()


@pytest.fixture(autouse=True)
def no_script_errors(browser: Any) -> Iterator[None]:
    """Every test ends with no script error and no Content-Security-Policy refusal in the browser's log."""
    browser.get_log("browser")  # drain what earlier tests left
    yield
    bad = [entry["message"] for entry in browser.get_log("browser")
           if entry["level"] in ("SEVERE", "WARNING") and not any(text in entry["message"] for text in NOT_OURS)]
    assert not bad, bad
