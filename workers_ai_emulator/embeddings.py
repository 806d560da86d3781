"""Deterministic embeddings and each embedding model's native output shape.

A vector is ``dim`` gaussians drawn from a PRNG seeded with
``sha256(model + "\\0" + text)``, normalised to unit length: the same text
gives the same vector in any process, different texts give (practically)
orthogonal ones, and tests can recompute expected vectors with
:func:`vector`. Texts longer than the model's ``max_input_tokens`` (counted
as ``\\S+`` words) are silently truncated first, as the real models do, so
texts that agree on their first N words share a vector.
"""

from __future__ import annotations

import base64
import hashlib
import math
import random
import struct
from functools import lru_cache
from typing import Any

from .registry import ModelSpec
from .textgen import count_words, tokenize

QWEN_DEFAULT_INSTRUCTION = "Given a web search query, retrieve relevant passages that answer the query"


@lru_cache(maxsize=4096)
def vector(model: str, text: str, dim: int) -> tuple[float, ...]:
    digest = hashlib.sha256((model + "\0" + text).encode("utf-8")).digest()
    rng = random.Random(int.from_bytes(digest, "big"))
    values = [rng.gauss(0.0, 1.0) for _ in range(dim)]
    norm = math.sqrt(sum(v * v for v in values)) or 1.0
    return tuple(v / norm for v in values)


def truncate(text: str, max_tokens: int) -> str:
    pieces = tokenize(text)
    return "".join(pieces[:max_tokens]) if len(pieces) > max_tokens else text


def embed(spec: ModelSpec, texts: list[str]) -> list[list[float]]:
    return [list(vector(spec.name, truncate(t, spec.max_input_tokens), spec.dimension)) for t in texts]


def _as_list(value: Any) -> list[str]:
    if value is None:
        return []
    return [value] if isinstance(value, str) else list(value)


def _rank(spec: ModelSpec, query: str, contexts: list[str]) -> list[dict[str, Any]]:
    """bge-m3 query mode: cosine similarity of unit vectors, best first."""
    query_vec = embed(spec, [query])[0]
    scored = [
        {"id": i, "score": sum(a * b for a, b in zip(query_vec, vec, strict=True))}
        for i, vec in enumerate(embed(spec, contexts))
    ]
    return sorted(scored, key=lambda item: item["score"], reverse=True)


def native_result(spec: ModelSpec, body: dict[str, Any]) -> dict[str, Any]:
    """``result`` for ``/ai/run`` on an embedding model (body already schema-valid)."""
    style = spec.embedding_style
    if style == "m3":
        if "contexts" in body:
            contexts = [c.get("text", "") if isinstance(c, dict) else "" for c in body["contexts"]]
            if isinstance(body.get("query"), str):
                return {"response": _rank(spec, body["query"], contexts)}
            data = embed(spec, contexts)
            return {"response": data, "shape": [len(data), spec.dimension], "pooling": "cls"}
        data = embed(spec, _as_list(body.get("text")))
        return {"shape": [len(data), spec.dimension], "data": data, "pooling": "cls"}
    if style == "qwen":
        instruction = body.get("instruction") or QWEN_DEFAULT_INSTRUCTION
        texts = [f"Instruct: {instruction}\nQuery: {q}" for q in _as_list(body.get("queries"))]
        texts += _as_list(body.get("documents")) + _as_list(body.get("text"))
        data = embed(spec, texts)
        return {"data": data, "shape": [len(data), spec.dimension]}
    data = embed(spec, _as_list(body.get("text")))
    shape = [len(data), spec.dimension]
    if style == "bge":
        return {"shape": shape, "data": data, "pooling": body.get("pooling", "mean")}
    if style == "plamo":
        return {"data": data, "shape": shape}
    return {"shape": shape, "data": data}


def openai_inputs(value: Any) -> list[str] | None:
    """OpenAI ``input``: a string, strings, one token array or token arrays (tokens become text)."""
    if isinstance(value, str):
        return [value]
    if not isinstance(value, list) or not value:
        return None
    if all(isinstance(v, int) and not isinstance(v, bool) for v in value):
        return [" ".join(map(str, value))]
    out: list[str] = []
    for item in value:
        if isinstance(item, str):
            out.append(item)
        elif isinstance(item, list) and all(isinstance(v, int) and not isinstance(v, bool) for v in item):
            out.append(" ".join(map(str, item)))
        else:
            return None
    return out


def openai_result(spec: ModelSpec, texts: list[str], encoding_format: str | None) -> dict[str, Any]:
    """An OpenAI ``CreateEmbeddingResponse``, floats or little-endian float32 base64."""
    data = []
    for index, vec in enumerate(embed(spec, texts)):
        embedding: Any = vec
        if encoding_format == "base64":
            embedding = base64.b64encode(struct.pack(f"<{len(vec)}f", *vec)).decode("ascii")
        data.append({"object": "embedding", "index": index, "embedding": embedding})
    tokens = sum(count_words(t) for t in texts)
    return {
        "object": "list",
        "data": data,
        "model": spec.name,
        "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
    }
