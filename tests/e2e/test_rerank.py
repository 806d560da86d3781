"""Rerank end to end: plain HTTP and LangChain's CohereRerank -> gunicorn-served gateway -> emulated reranker.

The emulator's score rule (workers_ai_emulator/reranker.py): a logit of 10 * (share of the query's words
found in the document) - 5; the gateway's `relevance_score` is its sigmoid.
"""

from __future__ import annotations

import math
from typing import Any

import pytest
import requests

from tests.support.emulator import EmulatorHandle
from tests.support.gateway import GatewayHandle
from workers_ai_emulator.reranker import score

RERANKER = "@cf/baai/bge-reranker-base"
DOCUMENTS = [
    "Paris is the capital of France.",
    "The Eiffel Tower is in Paris.",
    "Bananas are yellow.",
    "France borders Spain.",
]
QUERY = "capital of France"


def post(gateway: GatewayHandle, body: dict[str, Any], path: str = "/v1/rerank") -> requests.Response:
    return requests.post(
        f"{gateway.url}{path}", json=body, headers={"Authorization": f"Bearer {gateway.api_key}"}, timeout=30
    )


def sigmoid(value: float) -> float:
    return 1 / (1 + math.exp(-value))


def expected_ranking(query: str, documents: list[str]) -> list[tuple[int, float]]:
    scored = [(index, score(query, text)) for index, text in enumerate(documents)]
    return [(index, sigmoid(logit)) for index, logit in sorted(scored, key=lambda s: (-s[1], s[0]))]


def assert_ranking(results: list[dict[str, Any]], expected: list[tuple[int, float]]) -> None:
    assert [r["index"] for r in results] == [index for index, _ in expected]
    assert [r["relevance_score"] for r in results] == pytest.approx([value for _, value in expected])


def rerank_calls(emulator: EmulatorHandle) -> list[dict[str, Any]]:
    return [r for r in emulator.requests() if r["path"].endswith(f"/ai/run/{RERANKER}")]


def test_documents_ranked_best_first_with_sigmoid_scores(gateway: GatewayHandle, upstream: EmulatorHandle) -> None:
    response = post(gateway, {"model": RERANKER, "query": QUERY, "documents": DOCUMENTS})
    assert response.status_code == 200, response.text
    assert response.headers["x-workers-ai-model"] == RERANKER
    body = response.json()
    assert set(body) == {"id", "model", "results", "usage"} and body["model"] == RERANKER and body["id"]
    assert_ranking(body["results"], expected_ranking(QUERY, DOCUMENTS))
    assert [r["index"] for r in body["results"]] == [0, 3, 1, 2]
    assert all(set(r) == {"index", "relevance_score"} for r in body["results"])
    assert all(0 < r["relevance_score"] < 1 for r in body["results"])
    assert body["usage"]["total_tokens"] > 0
    [call] = rerank_calls(upstream)
    assert call["json"] == {"query": QUERY, "contexts": [{"text": t} for t in DOCUMENTS]}


def test_open_webui_style_request_with_top_n(gateway: GatewayHandle) -> None:
    """Open WebUI's external reranker: {model, query, documents (strings), top_n}, reading index and score."""
    body = post(gateway, {"model": "rerank-english-v3.0", "query": QUERY, "documents": DOCUMENTS, "top_n": 2}).json()
    assert body["model"] == "rerank-english-v3.0"
    assert [r["index"] for r in body["results"]] == [0, 3]


def test_object_documents_and_return_documents(gateway: GatewayHandle) -> None:
    documents = [{"text": DOCUMENTS[2], "id": "banana"}, DOCUMENTS[0]]
    body = post(gateway, {"query": QUERY, "documents": documents, "return_documents": True}, path="/rerank").json()
    assert [r["document"] for r in body["results"]] == [{"text": DOCUMENTS[0]}, documents[0]]


def test_large_lists_are_batched_and_merged(gateway: GatewayHandle, upstream: EmulatorHandle) -> None:
    documents = [f"note {n} about cats" if n % 7 else f"note {n} about the capital of France" for n in range(230)]
    body = post(gateway, {"query": QUERY, "documents": documents, "top_n": 40}).json()
    calls = rerank_calls(upstream)
    assert sorted(len(c["json"]["contexts"]) for c in calls) == [30, 100, 100]
    # Each full batch is asked for its best 40 only; the batch of 30 has fewer than that to give.
    assert sorted(c["json"].get("top_k", 0) for c in calls) == [0, 40, 40]
    assert_ranking(body["results"], expected_ranking(QUERY, documents)[:40])
    assert {r["index"] for r in body["results"][:33]} == set(range(0, 230, 7))


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ({"query": "", "documents": ["a"]}, "query"),
        ({"documents": ["a"]}, "query"),
        ({"query": "q", "documents": []}, "documents"),
        ({"query": "q"}, "documents"),
        ({"query": "q", "documents": [{"title": "no text"}]}, "documents[0].text"),
        ({"query": "q", "documents": ["a"], "top_n": -1}, "top_n"),
        ({"query": "q", "documents": ["a"], "model": "@cf/baai/bge-m3"}, "model"),
    ],
)
def test_bad_requests_are_400_naming_the_field(
    gateway: GatewayHandle, upstream: EmulatorHandle, body: dict[str, Any], param: str
) -> None:
    response = post(gateway, body)
    assert response.status_code == 400, response.text
    assert response.json()["error"]["param"] == param
    assert rerank_calls(upstream) == []


def test_an_upstream_failure_fails_the_request(gateway: GatewayHandle, upstream: EmulatorHandle) -> None:
    upstream.set_faults(fail_status=429, fail_code=3040, fail_times=50)
    response = post(gateway, {"query": "q", "documents": [f"d {n}" for n in range(150)]})
    assert response.status_code == 429 and response.json()["error"]["code"] == "rate_limit_exceeded"


def test_langchain_cohere_rerank(gateway: GatewayHandle, upstream: EmulatorHandle) -> None:
    """LangChain's CohereRerank, unchanged: Cohere's v2 SDK posts to {base_url}/v2/rerank."""
    from langchain_cohere import CohereRerank
    from langchain_core.documents import Document

    reranker = CohereRerank(base_url=gateway.url, cohere_api_key=gateway.api_key, model="rerank-english-v3.0", top_n=3)
    ranked = reranker.rerank(DOCUMENTS, QUERY)
    assert_ranking(ranked, expected_ranking(QUERY, DOCUMENTS)[:3])

    compressed = reranker.compress_documents([Document(page_content=t) for t in DOCUMENTS], QUERY)
    assert [d.page_content for d in compressed] == [DOCUMENTS[0], DOCUMENTS[3], DOCUMENTS[1]]
    assert compressed[0].metadata["relevance_score"] == pytest.approx(sigmoid(5.0))
    assert {c["path"].rsplit("/ai/run/", 1)[-1] for c in rerank_calls(upstream)} == {RERANKER}


def test_langchain_cohere_rerank_with_a_v1_base_url(gateway: GatewayHandle) -> None:
    """Many set one base URL ending in /v1 for every client: Cohere then posts to /v1/v2/rerank."""
    from langchain_cohere import CohereRerank

    reranker = CohereRerank(base_url=gateway.base_url, cohere_api_key=gateway.api_key, model=RERANKER, top_n=1)
    assert [r["index"] for r in reranker.rerank(DOCUMENTS, QUERY)] == [0]
