"""Moderations' pure mappings: inputs to Llama Guard conversations, verdicts to OpenAI's categories."""

from __future__ import annotations

import re
from typing import Any

import pytest

from openai_compat.errors import InvalidRequestError, UpstreamError
from openai_compat.moderations.from_workers import (
    CATEGORIES,
    HAZARDS,
    moderation_response,
    moderation_result,
    read_verdict,
)
from openai_compat.moderations.profiles import GuardModel, guard_model
from openai_compat.moderations.to_workers import MAX_INPUTS, guard_input, input_texts
from tests.support.openai_spec import assert_valid
from tests.support.settings_table import README

GUARD = GuardModel()


def refused(raw: Any, profile: GuardModel = GUARD) -> InvalidRequestError:
    with pytest.raises(InvalidRequestError) as caught:
        input_texts(raw, profile)
    return caught.value


# --- inputs ---------------------------------------------------------------------------------------


def test_a_string_is_one_input_and_a_list_one_each() -> None:
    assert input_texts("hello", GUARD) == ["hello"]
    assert input_texts(["a", "", "c"], GUARD) == ["a", "", "c"]


def test_a_list_of_parts_is_one_input_of_its_texts() -> None:
    parts = [{"type": "text", "text": "first"}, {"type": "text", "text": "second"}]
    assert input_texts(parts, GUARD) == ["first\nsecond"]


def test_an_image_part_is_refused_by_its_index() -> None:
    error = refused([{"type": "text", "text": "x"}, {"type": "image_url", "image_url": {"url": "data:,"}}])
    assert error.param == "input[1]" and "image" in error.message


@pytest.mark.parametrize(
    ("raw", "param"),
    [
        ([], "input"),
        (5, "input"),
        (None, "input"),
        (["a", {"type": "text", "text": "b"}], "input"),
        ([{"type": "text", "text": 5}], "input[0].text"),
        ([{"type": "audio"}], "input[0].type"),
        ([{"text": "no type"}], "input[0]"),
        ([[1, 2]], "input[0]"),
    ],
)
def test_bad_inputs_name_the_item(raw: Any, param: str) -> None:
    assert refused(raw).param == param


def test_too_many_inputs() -> None:
    assert input_texts(["x"] * MAX_INPUTS, GUARD) == ["x"] * MAX_INPUTS
    assert "at most" in refused(["x"] * (MAX_INPUTS + 1)).message


def test_over_long_inputs_name_the_item() -> None:
    small = GuardModel(max_chars=10)
    assert input_texts(["x" * 10], small) == ["x" * 10]
    error = refused(["ok", "x" * 11], small)
    assert error.param == "input[1]" and error.code == "context_length_exceeded"
    assert refused("x" * 11, small).param == "input"


def test_each_input_is_one_user_message_at_temperature_zero() -> None:
    payload = guard_input("is this fine?")
    assert payload["messages"] == [{"role": "user", "content": "is this fine?"}]
    assert payload["temperature"] == 0 and 0 < payload["max_tokens"] <= 256


def test_only_llama_guard_models_moderate() -> None:
    assert guard_model("@cf/meta/llama-guard-3-8b") is not None
    assert guard_model("@cf/meta/llama-guard-4-12b") is not None
    assert guard_model("@cf/meta/llama-3.3-70b-instruct-fp8-fast") is None
    assert guard_model("@cf/llama-guard-fans/chat-model") is None


# --- verdicts -------------------------------------------------------------------------------------


USAGE = {"prompt_tokens": 160, "completion_tokens": 3, "total_tokens": 163}


@pytest.mark.parametrize(
    ("response", "safe", "hazards"),
    [
        ("safe", True, ()),
        ("\n\nsafe", True, ()),
        ("unsafe\nS1", False, ("S1",)),
        ("\n\nunsafe\nS1,S10", False, ("S1", "S10")),
        ("unsafe\nS2, s9\n", False, ("S2", "S9")),
        ("unsafe", False, ()),
        ({"safe": True, "categories": []}, True, ()),
        ({"safe": False, "categories": ["S11", "S12"]}, False, ("S11", "S12")),
        ({"safe": False, "categories": ["S3", "S3"]}, False, ("S3",)),
    ],
)
def test_verdicts_in_both_forms(response: Any, safe: bool, hazards: tuple[str, ...]) -> None:
    verdict = read_verdict({"response": response, "usage": USAGE}, "text", "m")
    assert (verdict.safe, verdict.hazards) == (safe, hazards)
    assert (verdict.prompt_tokens, verdict.completion_tokens, verdict.estimated) == (160, 3, False)


@pytest.mark.parametrize(
    "result",
    [{"response": "I am happy to help!"}, {"response": ""}, {"response": {"categories": []}}, {}, None, []],
)
def test_anything_but_a_verdict_is_an_upstream_fault(result: Any) -> None:
    with pytest.raises(UpstreamError):
        read_verdict(result, "text", "m")


def test_usage_is_estimated_when_not_reported() -> None:
    verdict = read_verdict({"response": "safe"}, "x" * 40, "m")
    assert (verdict.prompt_tokens, verdict.completion_tokens, verdict.estimated) == (10, 1, True)


def flags(response: Any) -> dict[str, Any]:
    return moderation_result(read_verdict({"response": response, "usage": USAGE}, "t", "m"))


def test_a_safe_verdict_flags_nothing() -> None:
    result = flags("safe")
    assert result["flagged"] is False
    assert set(result["categories"]) == set(CATEGORIES) and not any(result["categories"].values())
    assert set(result["category_scores"].values()) == {0.0}
    assert result["category_applied_input_types"] == {c: ["text"] for c in CATEGORIES}


def test_an_unsafe_verdict_sets_its_categories_to_one() -> None:
    result = flags("unsafe\nS1,S10")
    assert result["flagged"] is True
    expected = {"violence", "illicit", "illicit/violent", "hate"}
    assert {c for c, on in result["categories"].items() if on} == expected
    assert {c for c, score in result["category_scores"].items() if score == 1.0} == expected
    assert {score for c, score in result["category_scores"].items() if c not in expected} == {0.0}


@pytest.mark.parametrize("response", ["unsafe\nS6", "unsafe\nS13", "unsafe", "unsafe\nS15"])
def test_unsafe_without_an_openai_counterpart_is_still_flagged(response: str) -> None:
    result = flags(response)
    assert result["flagged"] is True and not any(result["categories"].values())


def test_every_hazard_is_mapped_onto_real_openai_categories() -> None:
    assert sorted(HAZARDS, key=lambda code: int(code[1:])) == [f"S{n}" for n in range(1, 15)]
    assert all(set(h.categories) <= set(CATEGORIES) for h in HAZARDS.values())


def test_the_response_validates_against_openais_schema() -> None:
    verdicts = [
        read_verdict({"response": r, "usage": USAGE}, "t", "m") for r in ("safe", "unsafe\nS4", "unsafe\nS7")
    ]
    body = moderation_response(verdicts, model="omni-moderation-latest")
    assert body["id"].startswith("modr-") and body["model"] == "omni-moderation-latest"
    assert [r["flagged"] for r in body["results"]] == [False, True, True]
    assert_valid("CreateModerationResponse", body)


# --- the README's table is this mapping ----------------------------------------------------------


def readme_mapping() -> dict[str, tuple[str, set[str]]]:
    text = README.read_text()
    block = text.split("<!-- moderation-map:start -->")[1].split("<!-- moderation-map:end -->")[0]
    rows: dict[str, tuple[str, set[str]]] = {}
    for line in block.strip().splitlines()[2:]:
        hazard, categories = (cell.strip() for cell in line.strip("|").split("|"))
        code, _, name = hazard.partition(" ")
        rows[code] = (name, set(re.findall(r"`([^`]+)`", categories)) - {"flagged"})
    return rows


def test_the_readme_table_is_the_code() -> None:
    expected = {code: (h.name, set(h.categories)) for code, h in HAZARDS.items()}
    assert readme_mapping() == expected
