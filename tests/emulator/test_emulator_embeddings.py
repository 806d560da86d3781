"""Embedding models: native shapes, dimensions, batch limits, determinism."""

from __future__ import annotations

import math

import pytest

from tests.support.emulator import EmulatorHandle, start_emulator

# model -> (dimension, batch limit or None, output keys for a plain ``text`` input)
MODELS = {
    "@cf/baai/bge-small-en-v1.5": (384, 100, {"shape", "data", "pooling"}),
    "@cf/baai/bge-base-en-v1.5": (768, 100, {"shape", "data", "pooling"}),
    "@cf/baai/bge-large-en-v1.5": (1024, 100, {"shape", "data", "pooling"}),
    "@cf/baai/omni-bge-base-en-v1.5": (768, 100, {"shape", "data", "pooling"}),
    "@cf/baai/bge-m3": (1024, 100, {"shape", "data", "pooling"}),
    "@cf/google/embeddinggemma-300m": (768, 100, {"shape", "data"}),
    "@cf/pfnet/plamo-embedding-1b": (2048, None, {"data", "shape"}),
    "@cf/qwen/qwen3-embedding-0.6b": (1024, 32, {"data", "shape"}),
}


def embed(emu: EmulatorHandle, model: str, body: dict) -> dict:
    response = emu.run(model, body)
    assert response.status_code == 200, response.text
    return response.json()["result"]


def norm(vector: list[float]) -> float:
    return math.sqrt(sum(v * v for v in vector))


@pytest.mark.parametrize("model", list(MODELS))
def test_shape_dimension_and_unit_norm(emu: EmulatorHandle, model: str) -> None:
    dim, _, keys = MODELS[model]
    out = embed(emu, model, {"text": ["first text", "second text", "first text"]})
    assert set(out) == keys
    assert out["shape"] == [3, dim]
    first, second, again = out["data"]
    assert all(len(v) == dim for v in out["data"])
    assert all(abs(norm(v) - 1) < 1e-9 for v in out["data"])
    assert first == again and first != second
    single = embed(emu, model, {"text": "first text"})
    assert single["shape"] == [1, dim] and single["data"] == [first]


@pytest.mark.parametrize("model", [m for m, (_, limit, _) in MODELS.items() if limit])
def test_batch_limit(emu: EmulatorHandle, model: str) -> None:
    _, limit, _ = MODELS[model]
    assert emu.run(model, {"text": ["t"] * limit}).status_code == 200
    response = emu.run(model, {"text": ["t"] * (limit + 1)})
    assert response.status_code == 400
    assert response.json()["errors"][0]["code"] == 5006


def test_plamo_has_no_batch_limit(emu: EmulatorHandle) -> None:
    assert embed(emu, "@cf/pfnet/plamo-embedding-1b", {"text": ["t"] * 150})["shape"] == [150, 2048]


def test_vectors_are_stable_across_processes(emu: EmulatorHandle) -> None:
    body = {"text": "stable across restarts"}
    with start_emulator() as other:
        assert embed(emu, "@cf/baai/bge-small-en-v1.5", body) == embed(other, "@cf/baai/bge-small-en-v1.5", body)


def test_models_give_different_vectors(emu: EmulatorHandle) -> None:
    base = embed(emu, "@cf/baai/bge-base-en-v1.5", {"text": "same"})["data"]
    omni = embed(emu, "@cf/baai/omni-bge-base-en-v1.5", {"text": "same"})["data"]
    assert base != omni


def test_bge_pooling(emu: EmulatorHandle) -> None:
    assert embed(emu, "@cf/baai/bge-small-en-v1.5", {"text": "x"})["pooling"] == "mean"
    assert embed(emu, "@cf/baai/bge-small-en-v1.5", {"text": "x", "pooling": "cls"})["pooling"] == "cls"


def test_long_texts_are_truncated(emu: EmulatorHandle) -> None:
    words = " ".join(f"w{i}" for i in range(600))
    other_tail = " ".join(f"w{i}" for i in range(512)) + " different ending"
    out = embed(emu, "@cf/baai/bge-small-en-v1.5", {"text": [words, other_tail]})
    assert out["data"][0] == out["data"][1]  # only the first 512 tokens count


def test_bge_m3_modes(emu: EmulatorHandle) -> None:
    model = "@cf/baai/bge-m3"
    contexts = [{"text": "alpha"}, {"text": "beta"}, {"text": "gamma"}]
    vectors = embed(emu, model, {"contexts": contexts})
    assert set(vectors) == {"response", "shape", "pooling"} and vectors["shape"] == [3, 1024]
    plain = embed(emu, model, {"text": ["alpha", "beta", "gamma"]})
    assert plain["data"] == vectors["response"]
    ranked = embed(emu, model, {"query": "beta", "contexts": contexts})["response"]
    assert sorted(item["id"] for item in ranked) == [0, 1, 2]
    assert ranked[0] == {"id": 1, "score": pytest.approx(1.0)}
    assert [item["score"] for item in ranked] == sorted((item["score"] for item in ranked), reverse=True)


def test_qwen_queries_and_documents(emu: EmulatorHandle) -> None:
    model = "@cf/qwen/qwen3-embedding-0.6b"
    out = embed(emu, model, {"queries": ["q1", "q2"], "documents": "d1"})
    assert out["shape"] == [3, 1024]
    doc = embed(emu, model, {"text": "d1"})["data"][0]
    query_as_text = embed(emu, model, {"text": "q1"})["data"][0]
    assert out["data"][2] == doc  # documents are embedded as-is
    assert out["data"][0] != query_as_text  # queries carry the instruction
    custom = embed(emu, model, {"queries": "q1", "instruction": "Find code"})["data"][0]
    assert custom != out["data"][0]
    assert embed(emu, model, {}) == {"data": [], "shape": [0, 1024]}
