"""bge-reranker-base (``@cf/baai/bge-reranker-base``): raw relevance scores, derived from shared words.

Input ``{query, contexts: [{text}], top_k?}``; output ``{"response": [{"id", "score"}]}``, best score
first (ties: lower id first), cut to ``top_k`` when given. ``id`` is the index into ``contexts``.

The score rule, so tests can compute expected rankings: with ``words(t)`` the set of lower-cased
``[a-z0-9]+`` words of ``t``,
``score = 10 * |words(query) & words(text)| / |words(query)| - 5`` (``-5`` when the query has no
words). Like the real model's, scores are raw logits, not probabilities: from -5 (nothing shared)
to +5 (every query word present). The real model reports no usage, and neither does this one.
"""

from __future__ import annotations

import re
from typing import Any

NAME = "@cf/baai/bge-reranker-base"
_WORD = re.compile(r"[a-z0-9]+")

TASKS: dict[str, dict[str, str]] = {
    "Text Classification": {
        "id": "19606750-23ed-4371-aab2-c20349b53a60",
        "name": "Text Classification",
        "description": "Sentiment analysis or text classification is a common NLP task that classifies a text "
        "input into labels or classes.",
    }
}

# Restated from the catalogue file bge-reranker-base.json: no limit on the number of contexts.
SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "query": {"type": "string", "minLength": 1},
        "top_k": {"type": "integer", "minimum": 1},
        "contexts": {
            "type": "array",
            "items": {"type": "object", "properties": {"text": {"type": "string", "minLength": 1}}},
        },
    },
    "required": ["query", "contexts"],
}

# ModelSpec fields: registry.py builds the spec (importing it here would be a cycle); handlers.py
# answers with `ranking`.
SPECS: list[dict[str, Any]] = [
    {
        "name": NAME,
        "family": "reranker",
        "task": "Text Classification",
        "input_schema": SCHEMA,
        "description": "Different from embedding model, reranker uses question and document as input and directly "
        "output similarity instead of embedding. You can get a relevance score by inputting query and passage to "
        "the reranker. And the score can be mapped to a float value in [0,1] by sigmoid function.\n\n",
        "created_at": "2025-02-14 12:28:19.009",
        "catalogue_id": "145337e7-cec3-4ebb-8e78-16ddfc75e580",
    }
]


def _words(text: str) -> set[str]:
    return set(_WORD.findall(text.lower()))


def score(query: str, text: str) -> float:
    wanted = _words(query)
    if not wanted:
        return -5.0
    return 10 * len(wanted & _words(text)) / len(wanted) - 5


def ranking(body: dict[str, Any]) -> dict[str, Any]:
    """``result`` for a schema-valid body. A context without ``text`` (the schema allows it) scores
    as an empty text."""
    query = body["query"]
    scored = [
        {"id": index, "score": score(query, context.get("text", ""))}
        for index, context in enumerate(body["contexts"])
    ]
    scored.sort(key=lambda item: (-item["score"], item["id"]))
    top_k = body.get("top_k")
    return {"response": scored[:top_k] if isinstance(top_k, int) else scored}
