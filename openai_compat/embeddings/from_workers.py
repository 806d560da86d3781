"""Workers AI embedding results -> an OpenAI `CreateEmbeddingResponse`. Pure functions: no I/O.

Every vector goes through float32 once, for both encodings: OpenAI's floats are float32 values
too, and it makes `encoding_format=float` and the SDKs' default base64 decode to the same numbers.
A batch is converted, shortened and encoded as one numpy matrix, and float rows go to the JSON
encoder as numpy arrays (orjson writes them without a Python float per value): for 1,000 inputs of
1,024 dimensions that took about a third of the gateway's CPU per request one vector at a time.
"""

from __future__ import annotations

import base64
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

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


def batch_matrix(vectors: Sequence[Sequence[Any]], dimensions: int | None, model: str) -> np.ndarray:
    """One batch as float32 rows. Shortened to `dimensions` when asked the Matryoshka way OpenAI's
    `dimensions` works: the leading values, scaled back to unit length, so cosine and dot-product
    scores stay comparable."""
    try:
        matrix = np.asarray(vectors, dtype=None)
    except (TypeError, ValueError):
        matrix = np.asarray([])  # ragged: refused below
    if matrix.ndim != 2 or matrix.dtype.kind not in "fiu" or not np.isfinite(matrix).all():
        raise UpstreamError("Workers AI returned an embedding that is not a list of numbers.")
    matrix = matrix.astype(np.float64, copy=False)
    width = matrix.shape[1]
    if dimensions is not None and dimensions != width:
        if dimensions > width:
            raise InvalidRequestError(
                f"The model `{model}` produces {width}-dimensional embeddings; {dimensions} is too many.",
                param="dimensions",
                code="unsupported_value",
            )
        head = matrix[:, :dimensions]
        norms = np.hypot.reduce(head, axis=1)[:, None]  # no overflow on the way, as math.hypot
        matrix = np.divide(head, norms, out=head.copy(), where=norms > 0)
    with np.errstate(over="raise"):
        try:
            return matrix.astype("<f4")
        except FloatingPointError:
            raise UpstreamError("Workers AI returned an embedding that is not a list of numbers.") from None


def embedding_response(
    batches: Sequence[BatchResult],
    *,
    model: str,
    encoding_format: EncodingFormat,
    dimensions: int | None,
) -> dict[str, Any]:
    """The OpenAI body; `model` is the name the client asked for, as OpenAI clients expect. Float rows
    are float64 numpy arrays holding the float32 values (the JSON encoder writes them as numbers)."""
    data: list[dict[str, Any]] = []
    for batch in batches:
        matrix = batch_matrix(batch.vectors, dimensions, model)
        if encoding_format == "float":
            rows: Any = matrix.astype(np.float64)
        else:
            rows = [base64.b64encode(row.tobytes()).decode("ascii") for row in matrix]
        for row in rows:
            data.append({"object": "embedding", "index": len(data), "embedding": row})
    tokens = sum(b.prompt_tokens for b in batches)
    return {
        "object": "list",
        "data": data,
        "model": model,
        "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
    }
