"""Validate response bodies against OpenAI's official OpenAPI spec from ../shared.

Where ../shared is absent the validation alone is left out: `assert_valid` returns and the calling
test's own assertions still run. `tests/unit/test_spec_validation.py` is the one test that skips
then, so a run without the spec says so once instead of silently passing.
"""

from __future__ import annotations

import importlib.util
from functools import cache
from types import ModuleType
from typing import Any

from tests.support.emulator import shared_dir


@cache
def validator() -> ModuleType | None:
    shared = shared_dir()
    path = shared / "tools" / "validate_against_spec.py" if shared else None
    if path is None or not path.exists() or not (shared / "specs" / "openai-openapi.yaml").exists():
        return None
    spec = importlib.util.spec_from_file_location("validate_against_spec", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def spec_errors(schema: str, payload: Any) -> list[Any] | None:
    """jsonschema's errors for `payload` (with their paths and instances), or None without the spec."""
    module = validator()
    return None if module is None else list(module.errors(schema, payload))


def spec_problems(schema: str, payload: Any) -> list[str] | None:
    """The spec's complaints about `payload`, or None where the spec is not available."""
    errors = spec_errors(schema, payload)
    if errors is None:
        return None
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message[:200]}" for e in errors]


def assert_valid(schema: str, payload: Any) -> None:
    problems = spec_problems(schema, payload)
    assert not problems, f"{schema} violations: {problems}"


@cache
def event_schemas(union: str) -> dict[str, str]:
    """Event type -> the schema of that one event, from a union like `ResponseStreamEvent`."""
    module = validator()
    if module is None:
        return {}
    # The same call as validate_against_spec.validator_for makes, so its one-entry cache holds the spec.
    schemas = module.load_spec(True)["components"]["schemas"]
    found: dict[str, str] = {}
    for option in schemas[union].get("anyOf") or schemas[union].get("oneOf") or []:
        name = option["$ref"].rsplit("/", 1)[-1]
        kinds = schemas[name].get("properties", {}).get("type", {}).get("enum") or []
        for kind in kinds:
            if kind is not None:
                found[kind] = name
    return found


def assert_valid_event(union: str, event: dict[str, Any]) -> None:
    """Validate one streamed event against the schema of its own `type`, so a violation is named
    precisely (the union's own error only says that no alternative fits)."""
    schemas = event_schemas(union)
    if not schemas:
        return
    assert event.get("type") in schemas, f"{event.get('type')!r} is not an event of {union}"
    assert_valid(schemas[event["type"]], event)
