"""The spec validation the end-to-end tests lean on works, and rejects what it must."""

from __future__ import annotations

import pytest

from tests.support.openai_spec import spec_problems, validator

pytestmark = pytest.mark.skipif(
    validator() is None, reason="../shared/specs/openai-openapi.yaml is absent: spec validation is left out"
)


def test_a_valid_error_body_passes() -> None:
    body = {"error": {"message": "m", "type": "invalid_request_error", "param": None, "code": None}}
    assert spec_problems("ErrorResponse", body) == []


def test_an_error_body_missing_a_required_key_fails() -> None:
    assert spec_problems("ErrorResponse", {"error": {"message": "m", "type": "t", "param": None}})
