"""The JSON codec: orjson's output where it can, the standard library's answer where orjson refuses."""

from __future__ import annotations

import json

import pytest

from openai_compat.core import jsonio


def test_bodies_keep_insertion_order_and_utf8() -> None:
    body = {"id": "chatcmpl-1", "object": "chat.completion", "content": "héllo 🌍"}
    encoded = jsonio.dumps(body)
    assert encoded == '{"id":"chatcmpl-1","object":"chat.completion","content":"héllo 🌍"}'.encode()
    assert jsonio.loads(encoded) == body


@pytest.mark.parametrize("value", ["broken \ud800 surrogate", 2**70])
def test_what_orjson_cannot_encode_is_still_valid_json(value: object) -> None:
    encoded = jsonio.dumps({"v": value})
    assert json.loads(encoded) == {"v": value}


def test_float32_values_print_as_python_does() -> None:
    values = [0.1, -0.006929283495992422, 1e-05, 3.4028234663852886e38]
    assert json.loads(jsonio.dumps(values)) == values


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (b'{"text": "\\ud800"}', {"text": "\ud800"}),  # lone surrogate escape from upstream
        ('{"k": "v"}'.encode("utf-16"), {"k": "v"}),
    ],
)
def test_what_orjson_cannot_decode_decodes_as_before(raw: bytes, expected: object) -> None:
    assert jsonio.loads(raw) == expected


@pytest.mark.parametrize(
    "raw",
    [
        b'{"result": {"tool_calls": [{"arguments": {"id": 123456789012345678901234}}]}}',
        b'{"order_id": -98765432109876543210}',
        b"12345678901234567890123",
        '{"id": 123456789012345678901234}',
    ],
)
def test_integers_past_64_bits_stay_exact(raw: bytes | str) -> None:
    assert jsonio.loads(raw) == json.loads(raw)


def test_long_fractions_still_take_the_fast_path() -> None:
    assert not jsonio._may_hold_a_long_integer(b"[0.0012345678918063641,-0.012345678918063641]")


def test_nan_from_upstream_decodes_as_before() -> None:
    value = jsonio.loads(b"[NaN]")[0]
    assert value != value


def test_deep_nesting_still_raises_recursion_error() -> None:
    with pytest.raises(RecursionError):
        jsonio.loads(b"[" * 100_000 + b"]" * 100_000)


@pytest.mark.parametrize("raw", [b"{", b"\xff\xfe{", b"", b"{'single': 1}"])
def test_broken_json_is_a_value_error(raw: bytes) -> None:
    with pytest.raises(ValueError):
        jsonio.loads(raw)
