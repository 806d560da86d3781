"""Workers AI reranker answers -> one Cohere/Jina-shaped rerank response. Pure functions: no I/O.

Workers AI's scores are the cross-encoder's raw logits (any real number). Clients of this format
read `relevance_score` as a probability-like value in [0, 1] (Open WebUI compares it with a
relevance threshold), so each is passed through the logistic sigmoid, as the model's card says
to do. The sigmoid is monotonic: the order is exactly Workers AI's.
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from openai_compat.core.metering import estimate_tokens
from openai_compat.errors import UpstreamError


@dataclass(frozen=True)
class Scored:
    index: int
    """Index into the request's `documents`."""
    score: float
    """Workers AI's raw score."""


def relevance(score: float) -> float:
    """The logistic sigmoid, written to stay finite for any logit."""
    if score >= 0:
        return 1.0 / (1.0 + math.exp(-score))
    exp = math.exp(score)
    return exp / (1.0 + exp)


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def read_batch(result: Any, batch: range, top_k: int | None) -> list[Scored]:
    """The scores of one upstream call, with ids turned into request indices. Every document of the
    batch must be scored (or `top_k` of them when asked), each once: anything else is an upstream
    fault, never a silently shorter ranking."""
    items = result.get("response") if isinstance(result, dict) else None
    if not isinstance(items, list):
        raise UpstreamError("Workers AI's rerank result holds no list of scores.")
    expected = min(top_k, len(batch)) if top_k is not None else len(batch)
    seen: set[int] = set()
    scored: list[Scored] = []
    for item in items:
        ident = item.get("id") if isinstance(item, dict) else None
        score = item.get("score") if isinstance(item, dict) else None
        if not isinstance(ident, int) or isinstance(ident, bool) or not 0 <= ident < len(batch) or ident in seen:
            raise UpstreamError("Workers AI's rerank result names a document that was not sent, or one twice.")
        if not _number(score):
            raise UpstreamError("Workers AI's rerank result holds a score that is not a number.")
        seen.add(ident)
        scored.append(Scored(batch[ident], float(score)))
    if len(scored) != expected:
        raise UpstreamError(f"Workers AI scored {len(scored)} documents; {expected} were expected.")
    return scored


def usage_tokens(query: str, texts: Sequence[str]) -> int:
    """A cross-encoder reads the query with every document. Workers AI reports no usage for
    rerankers, so this is estimated (about four characters a token)."""
    query_tokens = estimate_tokens(query)
    return sum(query_tokens + estimate_tokens(text) for text in texts)


def rerank_response(
    batches: Sequence[Sequence[Scored]],
    *,
    documents: Sequence[Any],
    top_n: int | None,
    return_documents: bool,
    model: str,
    total_tokens: int,
) -> dict[str, Any]:
    """`{id, model, results, usage}`, best first (equal scores: the earlier document first), cut to
    `top_n`. `document` is `{"text": ...}` for a string and the object itself for an object, as
    Cohere v1 and Jina return them."""
    merged = sorted((s for batch in batches for s in batch), key=lambda s: (-s.score, s.index))
    if top_n is not None:
        merged = merged[:top_n]
    results = []
    for scored in merged:
        entry: dict[str, Any] = {"index": scored.index, "relevance_score": relevance(scored.score)}
        if return_documents:
            sent = documents[scored.index]
            entry["document"] = {"text": sent} if isinstance(sent, str) else sent
        results.append(entry)
    return {
        "id": str(uuid.uuid4()),
        "model": model,
        "results": results,
        "usage": {"total_tokens": total_tokens},
    }
