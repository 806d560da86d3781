"""/v1/embeddings in-process: batching across the model's limit, float and base64 encodings."""

from __future__ import annotations

import base64
import json
import threading
from array import array
from typing import Any

import pytest

from tests.service.conftest import Gateway, envelope, failure
from tests.unit.factories import run_url

QWEN = "@cf/qwen/qwen3-embedding-0.6b"
BGE_M3 = "@cf/baai/bge-m3"


def vector_for(text: str) -> list[float]:
    """A vector that says which input it belongs to (exactly representable in float32)."""
    number = int(text.removeprefix("text "))
    return [float(number), 0.5, -2.0]


class EmbeddingUpstream:
    """Answers each batch with one vector per text and records the batch sizes."""

    def __init__(self, tokens_per_text: int | None = 3) -> None:
        self.batches: list[list[str]] = []
        self.tokens_per_text = tokens_per_text
        self._lock = threading.Lock()

    def __call__(self, request: Any) -> tuple[int, dict[str, str], str]:
        payload = json.loads(request.body)
        texts = payload["text"]
        with self._lock:
            self.batches.append(texts)
        result: dict[str, Any] = {"shape": [len(texts), 3], "data": [vector_for(t) for t in texts]}
        if self.tokens_per_text is not None:
            result["usage"] = {"prompt_tokens": self.tokens_per_text * len(texts)}
        return 200, {}, json.dumps(envelope(result))


@pytest.fixture
def embedder(gateway: Gateway) -> EmbeddingUpstream:
    upstream = EmbeddingUpstream()
    gateway.upstream.add_callback("POST", run_url(QWEN), callback=upstream, content_type="application/json")
    return upstream


def test_float_embeddings_in_input_order(gateway: Gateway, embedder: EmbeddingUpstream) -> None:
    texts = [f"text {i}" for i in range(3)]
    reply = gateway.post("/v1/embeddings", {"model": QWEN, "input": texts, "encoding_format": "float"})
    assert reply.status_code == 200, reply.get_json()
    body = reply.get_json()
    assert body["object"] == "list" and body["model"] == QWEN
    assert [d["index"] for d in body["data"]] == [0, 1, 2]
    assert all(d["object"] == "embedding" for d in body["data"])
    assert [d["embedding"] for d in body["data"]] == [vector_for(t) for t in texts]
    assert body["usage"] == {"prompt_tokens": 9, "total_tokens": 9}
    assert reply.headers["x-workers-ai-model"] == QWEN


def test_base64_decodes_to_the_float_answer(gateway: Gateway, embedder: EmbeddingUpstream) -> None:
    texts = ["text 7", "text 8"]
    body = gateway.post("/v1/embeddings", {"model": QWEN, "input": texts, "encoding_format": "base64"}).get_json()
    for item, text in zip(body["data"], texts, strict=True):
        assert isinstance(item["embedding"], str)
        decoded = array("f")
        decoded.frombytes(base64.b64decode(item["embedding"]))  # little-endian float32, as the SDKs decode
        assert decoded.tolist() == vector_for(text)


def test_default_encoding_is_float(gateway: Gateway, embedder: EmbeddingUpstream) -> None:
    body = gateway.post("/v1/embeddings", {"model": QWEN, "input": "text 1"}).get_json()
    assert body["data"][0]["embedding"] == vector_for("text 1")


def test_inputs_beyond_the_batch_limit_are_split_and_reassembled(
    gateway: Gateway, embedder: EmbeddingUpstream
) -> None:
    texts = [f"text {i}" for i in range(70)]  # qwen3-embedding takes at most 32 per call
    body = gateway.post("/v1/embeddings", {"model": QWEN, "input": texts}).get_json()
    assert sorted(len(b) for b in embedder.batches) == [6, 32, 32]
    assert sorted(t for b in embedder.batches for t in b) == sorted(texts)
    assert [d["index"] for d in body["data"]] == list(range(70))
    assert [d["embedding"][0] for d in body["data"]] == [float(i) for i in range(70)]
    assert body["usage"]["prompt_tokens"] == 3 * 70


def test_missing_upstream_usage_is_estimated(gateway: Gateway) -> None:
    upstream = EmbeddingUpstream(tokens_per_text=None)
    gateway.upstream.add_callback("POST", run_url(QWEN), callback=upstream, content_type="application/json")
    body = gateway.post("/v1/embeddings", {"model": QWEN, "input": ["text 1", "text 2"]}).get_json()
    assert body["usage"]["prompt_tokens"] > 0
    assert body["usage"]["total_tokens"] == body["usage"]["prompt_tokens"]


def test_a_failing_batch_fails_the_request_with_its_status(gateway: Gateway) -> None:
    calls = {"n": 0}
    lock = threading.Lock()

    def answer(request: Any) -> tuple[int, dict[str, str], str]:
        texts = json.loads(request.body)["text"]
        with lock:
            calls["n"] += 1
        if "text 40" in texts:
            return 400, {}, json.dumps(failure(5006, "bad input"))
        return 200, {}, json.dumps(envelope({"data": [vector_for(t) for t in texts]}))

    gateway.upstream.add_callback("POST", run_url(QWEN), callback=answer, content_type="application/json")
    reply = gateway.post("/v1/embeddings", {"model": QWEN, "input": [f"text {i}" for i in range(70)]})
    assert reply.status_code == 400
    assert reply.get_json()["error"]["code"] == "invalid_upstream_input"


def test_bge_m3_is_asked_to_truncate(gateway: Gateway) -> None:
    gateway.upstream.post(run_url(BGE_M3), json=envelope({"data": [[0.25, 0.5]]}))
    assert gateway.post("/v1/embeddings", {"model": BGE_M3, "input": "text 1"}).status_code == 200
    assert json.loads(gateway.runs(BGE_M3)[0].request.body) == {"text": ["text 1"], "truncate_inputs": True}


def test_empty_input_is_refused_before_any_upstream_call(gateway: Gateway) -> None:
    reply = gateway.post("/v1/embeddings", {"model": QWEN, "input": []})
    assert reply.status_code == 400 and reply.get_json()["error"]["param"] == "input"
    assert gateway.runs() == []


def test_unsupported_dimensions_are_refused(gateway: Gateway) -> None:
    reply = gateway.post("/v1/embeddings", {"model": BGE_M3, "input": "x", "dimensions": 256})
    assert reply.status_code == 400 and reply.get_json()["error"]["param"] == "dimensions"
    assert gateway.runs() == []


@pytest.mark.parametrize(
    "catalogue_records", [[{"name": "@cf/meta/llama-3.3-70b-instruct-fp8-fast", "task": {"name": "Text Generation"}}]]
)
def test_a_text_generation_model_is_refused_for_embeddings(gateway: Gateway) -> None:
    reply = gateway.post("/v1/embeddings", {"model": "@cf/meta/llama-3.3-70b-instruct-fp8-fast", "input": "x"})
    assert reply.status_code == 400
    assert reply.get_json()["error"]["param"] == "model"
    assert gateway.runs() == []
