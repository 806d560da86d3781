"""What each `@pytest.mark.compat(client, endpoint, feature)` test did, gathered into table rows.

A row is complete when every test that feeds it ran to an outcome in this session; only complete rows
are written to the results file and compared with the README. A test skipped for a missing optional
input (no Node.js) leaves its row incomplete rather than claiming anything. Rows marked `suite=True`
(LangChain's standard test classes) count their tests instead: passed, expected failures with their
reasons, and the standard tests the suite skips itself (features the class does not claim, its benchmark).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib.metadata import version
from pathlib import Path

import pytest

from tests.support.compat_table import Key, Row

HERE = Path(__file__).resolve().parent
NODE_DIR = HERE / "node"
TABLE_TEST = "test_compat_table.py"


def conformance_files() -> set[str]:
    """The suite's test files, all of which a run must cover before it may remove rows from the table."""
    return {p.name for p in HERE.glob("test_*.py") if p.name != TABLE_TEST}


def _node_version() -> str:
    installed = NODE_DIR / "node_modules" / "openai" / "package.json"
    path = installed if installed.exists() else NODE_DIR / "package.json"
    data = json.loads(path.read_text())
    return data["version"] if path == installed else data["dependencies"]["openai"]


CLIENT_VERSIONS: dict[str, Callable[[], str]] = {
    "openai (Python)": lambda: version("openai"),
    "openai (npm)": _node_version,
    "LangChain": lambda: (f"langchain-openai {version('langchain-openai')}, "
                          f"langchain-tests {version('langchain-tests')}"),
    "pydantic-ai": lambda: f"pydantic-ai-slim {version('pydantic-ai-slim')}",
}


@dataclass
class Outcome:
    name: str
    kind: str = ""  # passed | failed | xfailed | skipped
    reason: str = ""


@dataclass(eq=False)  # a pytest plugin: pluggy keeps its plugins in sets
class Recorder:
    expected: dict[str, tuple[Key, bool]] = field(default_factory=dict)  # nodeid -> (row key, suite)
    outcomes: dict[str, Outcome] = field(default_factory=dict)
    files_run: set[str] = field(default_factory=set)
    deselected: bool = False

    # ---- pytest hooks (the recorder is registered as a plugin by the conformance conftest) ----

    def pytest_deselected(self, items: list[pytest.Item]) -> None:
        if any(item.get_closest_marker("compat") for item in items):
            self.deselected = True

    def pytest_collection_finish(self, session: pytest.Session) -> None:
        for item in session.items:
            self.expect(item)

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        self.report(report)

    # ---- bookkeeping ----

    def expect(self, item: pytest.Item) -> None:
        marker = item.get_closest_marker("compat")
        if marker is None:
            return
        client, endpoint, feature = marker.args
        if client not in CLIENT_VERSIONS:
            raise pytest.UsageError(f"{item.nodeid}: unknown client {client!r} in its compat marker")
        self.expected[item.nodeid] = ((client, endpoint, feature), bool(marker.kwargs.get("suite")))
        self.files_run.add(item.path.name)

    def report(self, report: pytest.TestReport) -> None:
        if report.nodeid not in self.expected:
            return
        name = report.nodeid.split("::")[-1]
        current = self.outcomes.get(report.nodeid)
        if report.failed:
            self.outcomes[report.nodeid] = Outcome(name, "failed")
        elif current is not None and current.kind == "failed":
            return
        elif hasattr(report, "wasxfail"):
            self.outcomes[report.nodeid] = Outcome(name, "xfailed", str(report.wasxfail))
        elif report.skipped:
            reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
            self.outcomes[report.nodeid] = Outcome(name, "skipped", reason.removeprefix("Skipped: "))
        elif report.when == "call" and report.passed:
            self.outcomes[report.nodeid] = Outcome(name, "passed")

    def rows(self) -> list[Row]:
        grouped: dict[Key, tuple[bool, list[Outcome | None]]] = {}
        for nodeid, (key, suite) in self.expected.items():
            grouped.setdefault(key, (suite, []))[1].append(self.outcomes.get(nodeid))
        rows = []
        for key, (suite, outcomes) in grouped.items():
            result = _suite_result(outcomes) if suite else _feature_result(outcomes)
            if result is not None:
                rows.append(Row(key[0], CLIENT_VERSIONS[key[0]](), key[1], key[2], result))
        return rows

    def complete(self, all_files: set[str]) -> bool:
        """Did this run cover every conformance test? Only then may it remove rows from the table."""
        rows = {key for key, _ in self.expected.values()}
        return (not self.deselected and self.files_run >= all_files
                and len(self.rows()) == len(rows))


def _feature_result(outcomes: list[Outcome | None]) -> str | None:
    if any(o is None or o.kind == "skipped" for o in outcomes):
        return None  # not run here, or skipped for a missing optional input: no claim either way
    if any(o.kind == "failed" for o in outcomes):  # type: ignore[union-attr]
        return "FAIL"
    reasons = sorted({o.reason for o in outcomes if o and o.kind == "xfailed"})
    return "xfail: " + "; ".join(reasons) if reasons else "pass"


def _suite_result(outcomes: list[Outcome | None]) -> str | None:
    if any(o is None for o in outcomes):
        return None
    done = [o for o in outcomes if o is not None]
    passed = sum(o.kind == "passed" for o in done)
    failed = sorted(o.name for o in done if o.kind == "failed")
    xfailed = sorted((o.name, o.reason) for o in done if o.kind == "xfailed")
    skipped = sorted({o.name.split("[")[0] for o in done if o.kind == "skipped"})
    parts = [f"{passed} passed"]
    if failed:
        parts.append(f"{len(failed)} FAILED ({', '.join(failed)})")
    if xfailed:
        parts.append(f"{len(xfailed)} xfail (" + "; ".join(f"`{n}`: {r}" for n, r in xfailed) + ")")
    if skipped:
        count = sum(o.kind == "skipped" for o in done)
        parts.append(f"{count} skipped by the suite ({', '.join(f'`{n}`' for n in skipped)})")
    return ", ".join(parts)
