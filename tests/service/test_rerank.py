"""/v1/rerank in-process: batches within the model's limit, merged best first, top_n, usage recorded once."""

from __future__ import annotations

import json
import threading
import time
from typing import Any

import pytest

from openai_compat.core.metering import Measurement
from openai_compat.rerank.from_workers import relevance
from tests.service.conftest import Gateway, envelope, failure
from tests.unit.factories import run_url

RERANKER = "@cf/baai/bge-reranker-base"


def logit_of(text: str) -> float:
    """Each document says its score: `doc <n>` scores n / 10 (so later documents rank higher)."""
    return int(text.split()[-1]) / 10


class RerankUpstream:
    def __init__(self, delay: float = 0.0) -> None:
        self.payloads: list[dict[str, Any]] = []
        self.in_flight = 0
        self.peak = 0
        self.delay = delay
        self._lock = threading.Lock()

    def __call__(self, request: Any) -> tuple[int, dict[str, str], str]:
        payload = json.loads(request.body)
        with self._lock:
            self.payloads.append(payload)
            self.in_flight += 1
            self.peak = max(self.peak, self.in_flight)
        try:
            time.sleep(self.delay)
            scored = [{"id": i, "score": logit_of(c["text"])} for i, c in enumerate(payload["contexts"])]
            scored.sort(key=lambda s: -s["score"])
            if "top_k" in payload:
                scored = scored[: payload["top_k"]]
            return 200, {}, json.dumps(envelope({"response": scored}))
        finally:
            with self._lock:
                self.in_flight -= 1


@pytest.fixture
def reranker(gateway: Gateway) -> RerankUpstream:
    upstream = RerankUpstream()
    gateway.upstream.add_callback("POST", run_url(RERANKER), callback=upstream, content_type="application/json")
    return upstream


def docs(count: int) -> list[str]:
    return [f"doc {n}" for n in range(count)]


def test_default_model_ranks_best_first(
    gateway: Gateway, reranker: RerankUpstream, measurements: list[Measurement]
) -> None:
    reply = gateway.post("/v1/rerank", {"query": "which?", "documents": ["doc 3", {"text": "doc 9"}, "doc -4"]})
    assert reply.status_code == 200, reply.get_json()
    body = reply.get_json()
    assert body["model"] == RERANKER and reply.headers["x-workers-ai-model"] == RERANKER
    assert body["results"] == [
        {"index": 1, "relevance_score": relevance(0.9)},
        {"index": 0, "relevance_score": relevance(0.3)},
        {"index": 2, "relevance_score": relevance(-0.4)},
    ]
    assert reranker.payloads == [
        {"query": "which?", "contexts": [{"text": "doc 3"}, {"text": "doc 9"}, {"text": "doc -4"}]}
    ]
    assert len(measurements) == 1 and measurements[0].usage.estimated
    assert body["usage"]["total_tokens"] == measurements[0].usage.prompt_tokens > 0


def test_large_lists_go_in_batches_of_100_and_merge(gateway: Gateway, reranker: RerankUpstream) -> None:
    body = gateway.post("/v1/rerank", {"query": "q", "documents": docs(250)}).get_json()
    assert sorted(len(p["contexts"]) for p in reranker.payloads) == [50, 100, 100]
    assert all("top_k" not in p for p in reranker.payloads)
    assert [r["index"] for r in body["results"]] == list(range(249, -1, -1))
    scores = [r["relevance_score"] for r in body["results"]]
    assert scores == sorted(scores, reverse=True)


def test_top_n_is_asked_of_each_batch_and_honoured(gateway: Gateway, reranker: RerankUpstream) -> None:
    body = gateway.post("/v1/rerank", {"query": "q", "documents": docs(250), "top_n": 5}).get_json()
    assert [r["index"] for r in body["results"]] == [249, 248, 247, 246, 245]
    assert sorted(p.get("top_k") for p in reranker.payloads) == [5, 5, 5]


def test_top_n_beyond_the_documents_returns_them_all(gateway: Gateway, reranker: RerankUpstream) -> None:
    body = gateway.post("/rerank", {"query": "q", "documents": docs(3), "top_n": 10}).get_json()
    assert len(body["results"]) == 3 and "top_k" not in reranker.payloads[0]


def test_return_documents(gateway: Gateway, reranker: RerankUpstream) -> None:
    documents = ["doc 1", {"text": "doc 2", "source": "wiki"}]
    body = gateway.post("/v2/rerank", {"query": "q", "documents": documents, "return_documents": True}).get_json()
    assert [r["document"] for r in body["results"]] == [{"text": "doc 2", "source": "wiki"}, {"text": "doc 1"}]


@pytest.mark.parametrize("settings_overrides", [{"rerank_max_concurrency": 2}])
def test_batches_go_with_bounded_concurrency(gateway: Gateway) -> None:
    upstream = RerankUpstream(delay=0.1)
    gateway.upstream.add_callback("POST", run_url(RERANKER), callback=upstream, content_type="application/json")
    assert gateway.post("/v1/rerank", {"query": "q", "documents": docs(500)}).status_code == 200
    assert len(upstream.payloads) == 5 and upstream.peak == 2


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ({"documents": ["a"]}, "query"),
        ({"query": "", "documents": ["a"]}, "query"),
        ({"query": "q"}, "documents"),
        ({"query": "q", "documents": []}, "documents"),
        ({"query": "q", "documents": ["a", ""]}, "documents[1]"),
        ({"query": "q", "documents": ["a"], "top_n": 0}, "top_n"),
        ({"query": "q", "documents": ["a"], "top_n": "3"}, "top_n"),
        ({"query": "q", "documents": ["a"], "model": "no-such-alias"}, "model"),
    ],
)
def test_bad_requests_are_refused_before_any_upstream_call(gateway: Gateway, body: dict, param: str) -> None:
    reply = gateway.post("/v1/rerank", body)
    assert reply.status_code in (400, 404) and reply.get_json()["error"]["param"] == param
    assert gateway.runs() == []


@pytest.mark.parametrize("catalogue_records", [[{"name": "@cf/baai/bge-m3", "task": {"name": "Text Embeddings"}}]])
def test_a_model_of_another_task_is_refused(gateway: Gateway) -> None:
    reply = gateway.post("/v1/rerank", {"model": "@cf/baai/bge-m3", "query": "q", "documents": ["a"]})
    assert reply.status_code == 400 and reply.get_json()["error"]["param"] == "model"


@pytest.mark.parametrize("settings_overrides", [{"model_aliases": {"rerank-english-v3.0": RERANKER}}])
def test_an_alias_is_echoed(gateway: Gateway, reranker: RerankUpstream) -> None:
    body = gateway.post("/v1/rerank", {"model": "rerank-english-v3.0", "query": "q", "documents": ["doc 1"]})
    assert body.get_json()["model"] == "rerank-english-v3.0"


def test_a_failing_batch_fails_the_request(gateway: Gateway) -> None:
    def answer(request: Any) -> tuple[int, dict[str, str], str]:
        contexts = json.loads(request.body)["contexts"]
        if contexts[0]["text"] == "doc 100":
            return 429, {}, json.dumps(failure(3040, "No more data centers to forward the request to"))
        return 200, {}, json.dumps(envelope({"response": [{"id": i, "score": 0} for i in range(len(contexts))]}))

    gateway.upstream.add_callback("POST", run_url(RERANKER), callback=answer, content_type="application/json")
    reply = gateway.post("/v1/rerank", {"query": "q", "documents": docs(150)})
    assert reply.status_code == 429 and reply.get_json()["error"]["code"] == "rate_limit_exceeded"


def test_a_short_ranking_is_a_502(gateway: Gateway) -> None:
    gateway.upstream.post(run_url(RERANKER), json=envelope({"response": [{"id": 0, "score": 1.0}]}))
    reply = gateway.post("/v1/rerank", {"query": "q", "documents": ["a", "b"]})
    assert reply.status_code == 502
