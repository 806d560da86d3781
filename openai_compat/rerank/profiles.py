"""What the gateway must know about each Workers AI reranker that its reply cannot tell it.

bge-reranker-base's catalogue schema states no limit on the number of `contexts`; the gateway sends
at most 100 per call, the `maxItems` Workers AI sets for its bge embedding models (the reranker is a
bge-base cross-encoder, scoring each context as one sequence in a batch), so one call stays the size
of calls Workers AI is known to serve. A `@cf/...` name missing from the table is served with the same
defaults.
"""

from __future__ import annotations

from dataclasses import dataclass

from openai_compat.core.model_names import Task

RERANK = Task("Text Classification", suggestion="@cf/baai/bge-reranker-base")
DEFAULT_BATCH_LIMIT = 100


@dataclass(frozen=True)
class RerankModel:
    batch_limit: int = DEFAULT_BATCH_LIMIT


_MODELS: dict[str, RerankModel] = {
    "@cf/baai/bge-reranker-base": RerankModel(),
}


def rerank_model(name: str) -> RerankModel:
    return _MODELS.get(name, RerankModel())


def known_models() -> list[str]:
    return sorted(_MODELS)
