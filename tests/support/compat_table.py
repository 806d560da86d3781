"""The README's compatibility table, written from what the conformance suite last saw.

    .venv/bin/python -m pytest tests/conformance          # runs the clients, writes .data/conformance/results.json
    .venv/bin/python -m tests.support.compat_table --write  # puts those results into README.md

Every row is one client, one endpoint, one feature, and what happened when the suite used it:
`pass`, `FAIL`, `xfail: <why>`, or for LangChain's standard suites the counts. Nobody types a row:
`tests/conformance/test_compat_table.py` fails when a row the run completed reads differently in the
README, and, after a run of the whole suite, when the README has rows the suite no longer has. A
partial run (`-k chat`) writes and compares only the rows it completed, and `--write` then merges
them into the table instead of replacing it.
"""

from __future__ import annotations

import json
import sys
from dataclasses import asdict, dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
RESULTS = ROOT / ".data" / "conformance" / "results.json"
START = ("<!-- compat-table:start (generated: `python -m tests.support.compat_table --write` "
         "after the conformance suite) -->")
END = "<!-- compat-table:end -->"
HEADER = ["| Client | Version | Endpoint | Feature | Result |", "|---|---|---|---|---|"]
CLIENT_ORDER = ["openai (Python)", "openai (npm)", "LangChain", "pydantic-ai"]
ENDPOINT_ORDER = ["/v1/models", "/v1/chat/completions", "/v1/completions", "/v1/embeddings", "/v1/responses",
                  "/v1/audio/transcriptions", "/v1/audio/translations", "/v1/audio/speech", "/v1/images/generations",
                  "/v1/images/edits", "/v1/images/variations", "/v1/moderations", "errors", "CORS"]

Key = tuple[str, str, str]


@dataclass(frozen=True)
class Row:
    client: str
    version: str
    endpoint: str
    feature: str
    result: str

    @property
    def key(self) -> Key:
        return (self.client, self.endpoint, self.feature)

    def line(self) -> str:
        cells = [self.client, self.version, self.endpoint, self.feature, self.result]
        return "| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |"


def _rank(order: list[str], value: str) -> int:
    return order.index(value) if value in order else len(order)


def _order(row: Row) -> tuple[int, int, str, str]:
    return (_rank(CLIENT_ORDER, row.client), _rank(ENDPOINT_ORDER, row.endpoint), row.endpoint, row.feature)


def render(rows: list[Row]) -> str:
    return "\n".join([START, *HEADER, *(r.line() for r in sorted(rows, key=_order)), END])


def readme_block(text: str) -> str | None:
    start, end = text.find(START), text.find(END)
    return text[start : end + len(END)] if start >= 0 and end > start else None


def parse(block: str) -> dict[Key, Row]:
    rows: dict[Key, Row] = {}
    for line in block.splitlines():
        if not line.startswith("| ") or line in HEADER:
            continue
        cells = [c.strip().replace("\\|", "|") for c in line.strip().strip("|").split(" | ")]
        if len(cells) == 5:
            row = Row(*cells)
            rows[row.key] = row
    return rows


def readme_rows() -> dict[Key, Row]:
    block = readme_block(README.read_text())
    return parse(block) if block else {}


def save_results(rows: list[Row], full: bool) -> None:
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps({"full": full, "rows": [asdict(r) for r in rows]}, indent=1, ensure_ascii=False))


def load_results() -> tuple[list[Row], bool]:
    data = json.loads(RESULTS.read_text())
    return [Row(**r) for r in data["rows"]], bool(data["full"])


def merged(current: dict[Key, Row], run: list[Row], full: bool) -> list[Row]:
    """A whole run replaces the table; a partial one replaces only the rows it completed."""
    if full:
        return list(run)
    out = dict(current)
    out.update({r.key: r for r in run})
    return list(out.values())


def write() -> None:
    if not RESULTS.exists():
        raise SystemExit(f"no results at {RESULTS}: run `.venv/bin/python -m pytest tests/conformance` first")
    text = README.read_text()
    block = readme_block(text)
    if block is None:
        raise SystemExit(f"README.md has no {START!r} ... {END!r} block")
    run, full = load_results()
    README.write_text(text.replace(block, render(merged(parse(block), run, full))))
    print(f"README.md: {len(run)} rows from a {'whole' if full else 'partial'} run written")


if __name__ == "__main__":
    if "--write" in sys.argv:
        write()
    else:
        rows, whole = load_results()
        print(render(rows))
