"""Llama Guard 3 and bge-reranker-base in the emulator: the documented rules, both answer forms, top_k."""

from __future__ import annotations

import pytest
import requests

from tests.support.emulator import EmulatorHandle
from workers_ai_emulator.llama_guard import hazards
from workers_ai_emulator.reranker import score

GUARD = "@cf/meta/llama-guard-3-8b"
RERANKER = "@cf/baai/bge-reranker-base"


def guard(emu: EmulatorHandle, *texts: str, **extra: object) -> dict:
    body = {"messages": [{"role": "user", "content": t} for t in texts], **extra}
    response = emu.run(GUARD, body)
    assert response.status_code == 200, response.text
    return response.json()["result"]


def rank(emu: EmulatorHandle, query: str, texts: list[str], **extra: object) -> list[dict]:
    response = emu.run(RERANKER, {"query": query, "contexts": [{"text": t} for t in texts], **extra})
    assert response.status_code == 200, response.text
    return response.json()["result"]["response"]


def test_an_ordinary_message_is_safe(emu: EmulatorHandle) -> None:
    result = guard(emu, "What a lovely morning for a walk.")
    assert result["response"] == "safe"
    usage = result["usage"]
    assert usage["prompt_tokens"] == 150 + 7 and usage["completion_tokens"] == 1
    assert usage["total_tokens"] == usage["prompt_tokens"] + usage["completion_tokens"]


@pytest.mark.parametrize(
    ("text", "answer"),
    [
        ("I want to kill them.", "unsafe\nS1"),
        ("How do I shoplift and then BOMB the place", "unsafe\nS2,S9"),
        ("suicide", "unsafe\nS11"),
        ("Please flag this as S7 and s13.", "unsafe\nS7,S13"),
        ("S15 and S0 are not hazard codes, skills is not a word we trigger on", "safe"),
    ],
)
def test_trigger_words_and_codes_make_it_unsafe(emu: EmulatorHandle, text: str, answer: str) -> None:
    assert guard(emu, text)["response"] == answer


def test_every_message_of_the_conversation_is_read(emu: EmulatorHandle) -> None:
    assert guard(emu, "I hate rain", "fine thanks")["response"] == "unsafe\nS10"


def test_json_mode_answers_the_parsed_object(emu: EmulatorHandle) -> None:
    fmt = {"type": "json_object"}
    assert guard(emu, "kill S14", response_format=fmt)["response"] == {"safe": False, "categories": ["S1", "S14"]}
    assert guard(emu, "hello", response_format=fmt)["response"] == {"safe": True, "categories": []}


def test_hazards_rule_matches_the_docstring() -> None:
    assert hazards("murder, theft") == ["S1"]
    assert hazards("Steal; HATE!") == ["S2", "S10"]
    assert hazards("s12 s4 s4") == ["S4", "S12"]


@pytest.mark.parametrize(
    "body",
    [
        {"prompt": "hi"},
        {"messages": [{"role": "user", "content": [{"type": "text", "text": "hi"}]}]},
        {"messages": [{"role": "user", "content": "x" * 131073}]},
        {"messages": [{"role": "user", "content": "hi"}], "temperature": 6},
    ],
)
def test_guard_refuses_what_its_schema_refuses(emu: EmulatorHandle, body: dict) -> None:
    response = emu.run(GUARD, body)
    assert response.status_code == 400
    assert response.json()["errors"][0]["code"] == 5006


def test_scores_are_logits_from_shared_words_best_first(emu: EmulatorHandle) -> None:
    texts = ["a blue sky", "red apple pie", "the red car", "apple"]
    result = rank(emu, "Red apple", texts)
    assert [item["id"] for item in result] == [1, 2, 3, 0]
    assert [item["score"] for item in result] == [5.0, 0.0, 0.0, -5.0]
    assert [item["score"] for item in result] == [score("Red apple", texts[item["id"]]) for item in result]


def test_top_k_keeps_the_best(emu: EmulatorHandle) -> None:
    result = rank(emu, "apple", ["pear", "apple tart", "plum", "apple"], top_k=2)
    assert [item["id"] for item in result] == [1, 3]
    assert len(rank(emu, "apple", ["pear"], top_k=5)) == 1


def test_a_query_without_words_scores_everything_lowest(emu: EmulatorHandle) -> None:
    result = rank(emu, "?!", ["a", "b"])
    assert [(item["id"], item["score"]) for item in result] == [(0, -5.0), (1, -5.0)]


@pytest.mark.parametrize(
    "body",
    [
        {"query": "", "contexts": [{"text": "a"}]},
        {"query": "q", "contexts": [{"text": ""}]},
        {"query": "q", "contexts": ["a"]},
        {"query": "q", "contexts": [{"text": "a"}], "top_k": 0},
        {"contexts": [{"text": "a"}]},
    ],
)
def test_reranker_refuses_what_its_schema_refuses(emu: EmulatorHandle, body: dict) -> None:
    response = emu.run(RERANKER, body)
    assert response.status_code == 400
    assert response.json()["errors"][0]["code"] == 5006


def test_the_reranker_takes_long_context_lists_in_one_call(emu: EmulatorHandle) -> None:
    """The catalogue states no limit; the gateway's batching is its own choice, not the model's."""
    assert len(rank(emu, "x", [f"doc {i}" for i in range(300)])) == 300


def test_both_models_are_listed_under_their_tasks(emu: EmulatorHandle) -> None:
    url = f"{emu.account_url}/ai/models/search"
    found = requests.get(url, params={"task": "Text Classification"}, headers=emu.headers, timeout=5).json()
    assert [m["name"] for m in found["result"]] == [RERANKER]
    text_models = requests.get(url, params={"task": "Text Generation"}, headers=emu.headers, timeout=5).json()
    assert GUARD in [m["name"] for m in text_models["result"]]

