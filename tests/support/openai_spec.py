"""Validate response bodies against OpenAI's official OpenAPI spec from ../shared (skip if absent)."""

from __future__ import annotations

import importlib.util
from functools import cache
from types import ModuleType
from typing import Any

import pytest

from tests.support.emulator import shared_dir


@cache
def _validator() -> ModuleType | None:
    shared = shared_dir()
    path = shared / "tools" / "validate_against_spec.py" if shared else None
    if path is None or not path.exists() or not (shared / "specs" / "openai-openapi.yaml").exists():
        return None
    spec = importlib.util.spec_from_file_location("validate_against_spec", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def assert_valid(schema: str, payload: Any) -> None:
    module = _validator()
    if module is None:
        pytest.skip("../shared/specs/openai-openapi.yaml is not available")
    problems = [f"{'/'.join(map(str, e.absolute_path))}: {e.message[:200]}" for e in module.errors(schema, payload)]
    assert not problems, f"{schema} violations: {problems}"
