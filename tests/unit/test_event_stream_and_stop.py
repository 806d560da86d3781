"""SSE parsing and stop sequences: both must hold wherever the network splits the bytes."""

from __future__ import annotations

import pytest

from openai_compat.textgen.stop import StopMatcher, truncate_at_stop
from tests.unit.factories import iter_event_data

RAW = (
    "data: {\"response\":\"ü\"}\r\n\r\n"
    ": keep-alive\n\n"
    "event: message\ndata: line one\ndata: line two\n\n"
    "data:no-space\r\r"
    "data: [DONE]\n\n"
).encode()
EXPECTED = ['{"response":"ü"}', "line one\nline two", "no-space", "[DONE]"]


def test_whole_body() -> None:
    assert list(iter_event_data([RAW])) == EXPECTED


@pytest.mark.parametrize("cut", range(1, len(RAW)))
def test_every_two_way_split(cut: int) -> None:
    assert list(iter_event_data([RAW[:cut], RAW[cut:]])) == EXPECTED


def test_byte_by_byte() -> None:
    assert list(iter_event_data([RAW[i : i + 1] for i in range(len(RAW))])) == EXPECTED


def test_event_is_yielded_before_the_next_chunk_arrives() -> None:
    def chunks():
        yield b'data: {"a":1}\n\n'
        raise AssertionError("the parser read ahead instead of yielding the complete event")

    assert next(iter_event_data(chunks())) == '{"a":1}'


def test_truncate_at_earliest_stop() -> None:
    assert truncate_at_stop("one two three", ["three", "two"]) == ("one ", True)
    assert truncate_at_stop("one two", ["four"]) == ("one two", False)


def _stream(tokens: list[str], stops: list[str]) -> tuple[str, bool]:
    matcher = StopMatcher(stops)
    out = "".join(matcher.feed(t) for t in tokens)
    return out + matcher.flush(), matcher.stopped


def test_stop_split_across_tokens_is_caught() -> None:
    assert _stream(["Hello ", "wor", "ld and more"], ["world"]) == ("Hello ", True)


def test_false_prefix_is_released() -> None:
    assert _stream(["a wo", "nderful day"], ["world"]) == ("a wonderful day", False)


def test_held_prefix_is_flushed_at_end() -> None:
    assert _stream(["the end wor"], ["world"]) == ("the end wor", False)


def test_tokens_without_stop_pass_straight_through() -> None:
    matcher = StopMatcher(["###"])
    assert matcher.feed("plain ") == "plain "
    assert matcher.feed("text#") == "text"
