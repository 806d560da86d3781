"""Rerank's pure mappings: documents to batches, Workers AI scores back to one ranking."""

from __future__ import annotations

import math
from typing import Any

import pytest

from openai_compat.errors import InvalidRequestError, UpstreamError
from openai_compat.rerank.from_workers import Scored, read_batch, relevance, rerank_response, usage_tokens
from openai_compat.rerank.to_workers import MAX_DOCUMENTS, batch_input, batches, document_texts, query_text


def refused(call: Any, raw: Any) -> InvalidRequestError:
    with pytest.raises(InvalidRequestError) as caught:
        call(raw)
    return caught.value


# --- requests -------------------------------------------------------------------------------------


def test_strings_and_text_objects_may_be_mixed() -> None:
    assert document_texts(["a", {"text": "b", "title": "t"}, "c"]) == ["a", "b", "c"]


@pytest.mark.parametrize(
    ("raw", "param"),
    [
        (None, "documents"),
        ([], "documents"),
        ("one document", "documents"),
        (["a", ""], "documents[1]"),
        (["a", {"text": ""}], "documents[1].text"),
        (["a", {"title": "no text"}], "documents[1].text"),
        ([{"text": 5}], "documents[0].text"),
        (["a", 5], "documents[1]"),
        ([None], "documents[0]"),
    ],
)
def test_bad_documents_name_the_item(raw: Any, param: str) -> None:
    assert refused(document_texts, raw).param == param


def test_too_many_documents() -> None:
    assert len(document_texts(["d"] * MAX_DOCUMENTS)) == MAX_DOCUMENTS
    assert refused(document_texts, ["d"] * (MAX_DOCUMENTS + 1)).param == "documents"


@pytest.mark.parametrize("raw", [None, "", "   ", 5, ["q"]])
def test_bad_queries_name_query(raw: Any) -> None:
    assert refused(query_text, raw).param == "query"


def test_batches_cover_every_document_once_in_order() -> None:
    groups = batches(250, 100)
    assert [(g.start, g.stop) for g in groups] == [(0, 100), (100, 200), (200, 250)]
    assert batches(100, 100) == [range(0, 100)]


def test_batch_input_asks_each_batch_for_its_best_top_n_only() -> None:
    texts = ["a", "b", "c"]
    assert batch_input("q", texts, None) == {"query": "q", "contexts": [{"text": "a"}, {"text": "b"}, {"text": "c"}]}
    assert batch_input("q", texts, 2)["top_k"] == 2
    assert "top_k" not in batch_input("q", texts, 3)
    assert "top_k" not in batch_input("q", texts, 10)


# --- replies --------------------------------------------------------------------------------------


def test_ids_become_request_indices() -> None:
    result = {"response": [{"id": 1, "score": 2.5}, {"id": 0, "score": -1}]}
    assert read_batch(result, range(100, 102), None) == [Scored(101, 2.5), Scored(100, -1.0)]


@pytest.mark.parametrize(
    "result",
    [
        None,
        {"response": "nope"},
        {"response": [{"id": 0, "score": 1}]},
        {"response": [{"id": 0, "score": 1}, {"id": 0, "score": 1}]},
        {"response": [{"id": 0, "score": 1}, {"id": 2, "score": 1}]},
        {"response": [{"id": 0, "score": 1}, {"id": True, "score": 1}]},
        {"response": [{"id": 0, "score": 1}, {"id": 1, "score": "high"}]},
        {"response": [{"id": 0, "score": 1}, {"id": 1}]},
    ],
)
def test_a_ranking_that_does_not_fit_the_batch_is_an_upstream_fault(result: Any) -> None:
    with pytest.raises(UpstreamError):
        read_batch(result, range(2), None)


def test_with_top_k_only_that_many_are_expected() -> None:
    result = {"response": [{"id": 3, "score": 1.0}]}
    assert read_batch(result, range(4), 1) == [Scored(3, 1.0)]
    with pytest.raises(UpstreamError):
        read_batch({"response": []}, range(4), 1)


@pytest.mark.parametrize("logit", [-1000.0, -5.0, -0.3, 0.0, 0.3, 5.0, 1000.0])
def test_relevance_is_the_sigmoid_and_stays_in_range(logit: float) -> None:
    value = relevance(logit)
    assert 0.0 <= value <= 1.0
    if abs(logit) < 50:
        assert value == pytest.approx(1 / (1 + math.exp(-logit)))
    assert relevance(-logit) == pytest.approx(1 - value)


def test_batches_merge_best_first_and_top_n_cuts() -> None:
    first = [Scored(1, 3.0), Scored(0, -2.0)]
    second = [Scored(2, 4.0), Scored(3, 3.0)]
    docs = ["zero", {"text": "one", "url": "u"}, "two", "three"]
    body = rerank_response([first, second], documents=docs, top_n=3, return_documents=True, model="m", total_tokens=9)
    assert [r["index"] for r in body["results"]] == [2, 1, 3]  # equal scores: the earlier document first
    assert [r["document"] for r in body["results"]] == [{"text": "two"}, {"text": "one", "url": "u"}, {"text": "three"}]
    scores = [r["relevance_score"] for r in body["results"]]
    assert scores == sorted(scores, reverse=True) and scores[0] == pytest.approx(relevance(4.0))
    assert body["model"] == "m" and body["usage"] == {"total_tokens": 9} and body["id"]


def test_without_return_documents_no_document_and_all_results() -> None:
    body = rerank_response(
        [[Scored(0, 1.0), Scored(1, 2.0)]], documents=["a", "b"], top_n=None, return_documents=False, model="m",
        total_tokens=1,
    )
    assert body["results"] == [
        {"index": 1, "relevance_score": relevance(2.0)},
        {"index": 0, "relevance_score": relevance(1.0)},
    ]


def test_usage_counts_the_query_with_every_document() -> None:
    assert usage_tokens("q" * 8, ["d" * 4, "d" * 12]) == (2 + 1) + (2 + 3)
