"""`core.metering`: the one hook every family reports usage to, and what a `Usage` reports."""

from __future__ import annotations

import json
import logging

import pytest

from openai_compat.core.metering import Measurement, Meter, Usage, estimate_tokens, tokens_for_characters
from openai_compat.core.model_names import ResolvedModel

MODEL = ResolvedModel("gpt-4o-mini", "@cf/meta/llama-3.3-70b-instruct-fp8-fast")


class Sink:
    def __init__(self) -> None:
        self.seen: list[Measurement] = []
        self.__name__ = "recording_sink"

    def __call__(self, measurement: Measurement) -> None:
        self.seen.append(measurement)


def test_record_calls_every_sink_once_with_model_and_usage() -> None:
    first, second = Sink(), Sink()
    meter = Meter([first])
    meter.add_sink(second)
    usage = Usage(prompt_tokens=10, completion_tokens=5)
    meter.record(MODEL, usage)
    for sink in (first, second):
        assert len(sink.seen) == 1
        assert sink.seen[0].model == MODEL and sink.seen[0].usage is usage


class Capture(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


@pytest.fixture
def metering_log() -> Capture:
    capture = Capture()
    logger = logging.getLogger("openai_compat.metering")
    logger.addHandler(capture)
    previous = logger.level
    logger.setLevel(logging.INFO)
    yield capture
    logger.removeHandler(capture)
    logger.setLevel(previous)


def test_a_failing_sink_neither_raises_nor_stops_the_others(metering_log: Capture) -> None:
    def broken_sink(measurement: Measurement) -> None:
        raise RuntimeError("metrics backend down: token=secret")

    after = Sink()
    meter = Meter([broken_sink, after])
    meter.record(MODEL, Usage(prompt_tokens=1))  # must not raise
    assert len(after.seen) == 1
    [line] = [json.loads(x) for x in metering_log.lines]
    assert line["event"] == "metering_sink_failed" and line["sink"] == "broken_sink"
    assert "secret" not in metering_log.lines[0]


def test_a_meter_without_sinks_records_nothing_and_does_not_fail() -> None:
    Meter().record(MODEL, Usage(prompt_tokens=3))


def test_usage_fields_of_nothing_is_empty() -> None:
    assert Usage().fields() == {}


def test_usage_fields_report_tokens_as_a_pair() -> None:
    assert Usage(prompt_tokens=7).fields() == {"prompt_tokens": 7, "completion_tokens": 0}
    assert Usage(completion_tokens=3).fields() == {"prompt_tokens": 0, "completion_tokens": 3}
    assert Usage(prompt_tokens=7, completion_tokens=3).total_tokens == 10


def test_usage_fields_flag_estimates_and_other_units() -> None:
    usage = Usage(prompt_tokens=4, completion_tokens=2, estimated=True, images=2, audio_seconds=1.23456, characters=80)
    assert usage.fields() == {
        "prompt_tokens": 4,
        "completion_tokens": 2,
        "usage_estimated": True,
        "images": 2,
        "audio_seconds": 1.235,
        "characters": 80,
    }


def test_usage_fields_leave_out_zero_units() -> None:
    assert Usage(images=1).fields() == {"images": 1}
    assert Usage(audio_seconds=0.0, characters=0, images=0, estimated=True).fields() == {"usage_estimated": True}


@pytest.mark.parametrize(("chars", "tokens"), [(0, 0), (1, 1), (4, 1), (5, 2), (400, 100)])
def test_token_estimate_is_about_four_characters_a_token(chars: int, tokens: int) -> None:
    assert tokens_for_characters(chars) == tokens
    assert estimate_tokens("x" * chars) == tokens
