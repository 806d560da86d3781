"""Workers AI embedding results -> an OpenAI `CreateEmbeddingResponse`. Pure functions: no I/O.

Every vector goes through float32 once, for both encodings: OpenAI's floats are float32 values
too, and it makes `encoding_format=float` and the SDKs' default base64 decode to the same numbers.
"""

from __future__ import annotations

import base64
import math
import sys
from array import array
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from openai_compat.core.metering import estimate_tokens
from openai_compat.embeddings.protocol import EncodingFormat
from openai_compat.errors import InvalidRequestError, UpstreamError


@dataclass
class BatchResult:
    vectors: list[list[float]]
    prompt_tokens: int
    estimated: bool


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def read_batch(result: Any, texts: Sequence[str]) -> BatchResult:
    """Vectors of one upstream call, checked against the inputs sent. bge-m3 may answer
    `response` instead of `data`; an async `request_id` or a count mismatch is an upstream fault."""
    if not isinstance(result, dict):
        raise UpstreamError("Workers AI answered an embeddings call without a result object.")
    vectors = result.get("data", result.get("response"))
    if not isinstance(vectors, list) or not all(isinstance(v, list) and v for v in vectors):
        raise UpstreamError("Workers AI's embeddings result holds no list of vectors.")
    if len(vectors) != len(texts):
        raise UpstreamError(f"Workers AI returned {len(vectors)} embeddings for {len(texts)} inputs.")
    usage = result.get("usage")
    prompt = usage.get("prompt_tokens") if isinstance(usage, dict) else None
    if _number(prompt) and prompt >= 0:
        return BatchResult(vectors, int(prompt), estimated=False)
    return BatchResult(vectors, sum(estimate_tokens(t) for t in texts), estimated=True)


def shorten(vector: Sequence[float], dimensions: int) -> list[float]:
    """Matryoshka shortening: keep the leading dimensions and scale back to unit length, as
    OpenAI's `dimensions` does, so cosine and dot-product scores stay comparable."""
    head = list(vector[:dimensions])
    norm = math.hypot(*head)
    return [value / norm for value in head] if norm > 0 else head


def float32(vector: Sequence[Any]) -> array:
    try:
        return array("f", vector)
    except (TypeError, OverflowError):
        raise UpstreamError("Workers AI returned an embedding that is not a list of numbers.") from None


def encode(vector: array, encoding_format: EncodingFormat) -> list[float] | str:
    """Floats, or base64 of little-endian float32, the layout both SDKs decode."""
    if encoding_format == "float":
        return vector.tolist()
    if sys.byteorder == "big":
        vector = array("f", vector)
        vector.byteswap()
    return base64.b64encode(vector.tobytes()).decode("ascii")


def final_vector(raw: Sequence[Any], dimensions: int | None, model: str) -> array:
    if dimensions is not None and dimensions != len(raw):
        if dimensions > len(raw):
            raise InvalidRequestError(
                f"The model `{model}` produces {len(raw)}-dimensional embeddings; {dimensions} is too many.",
                param="dimensions",
                code="unsupported_value",
            )
        if not all(_number(v) for v in raw):
            raise UpstreamError("Workers AI returned an embedding that is not a list of numbers.")
        return float32(shorten(raw, dimensions))
    return float32(raw)


def embedding_response(
    batches: Sequence[BatchResult],
    *,
    model: str,
    encoding_format: EncodingFormat,
    dimensions: int | None,
) -> dict[str, Any]:
    """The OpenAI body; `model` is the name the client asked for, as OpenAI clients expect."""
    data = []
    for batch in batches:
        for raw in batch.vectors:
            vector = final_vector(raw, dimensions, model)
            data.append({"object": "embedding", "index": len(data), "embedding": encode(vector, encoding_format)})
    tokens = sum(b.prompt_tokens for b in batches)
    return {
        "object": "list",
        "data": data,
        "model": model,
        "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
    }
