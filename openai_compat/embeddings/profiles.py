"""What the gateway must know about each Workers AI embedding model that its reply cannot tell it.

Batch limits, token windows and `dimensions` support come from the Workers AI catalogue schemas
and the models' cards. A `@cf/...` name missing from this table is still served, in the
`{text: [...]}` shape every Workers AI embedding model accepts, with no length or `dimensions`
help: the upstream's own errors then tell the client what went wrong.
"""

from __future__ import annotations

from collections.abc import Container
from dataclasses import dataclass

from openai_compat.core.model_names import Task

EMBEDDINGS = Task("Text Embeddings", suggestion="@cf/qwen/qwen3-embedding-0.6b or @cf/baai/bge-m3")
DEFAULT_BATCH_LIMIT = 100
"""`maxItems` of every Workers AI embedding schema that states one, except qwen3-embedding's 32."""


@dataclass(frozen=True)
class EmbeddingModel:
    batch_limit: int = DEFAULT_BATCH_LIMIT
    dimension: int | None = None
    """Native vector length; None when the model is not in the table."""
    max_tokens: int | None = None
    """Token window per input; None when unknown (no gateway-side length check)."""
    shortening: Container[int] = frozenset()
    """`dimensions` values the model was trained to be cut to (Matryoshka), besides its native one."""
    truncate_flag: bool = False
    """bge-m3 errors on over-long inputs unless asked to truncate; the others truncate on their own."""
    known: bool = True

    def allows_dimensions(self, dimensions: int) -> bool:
        return dimensions == self.dimension or dimensions in self.shortening


def _bge(dimension: int) -> EmbeddingModel:
    return EmbeddingModel(dimension=dimension, max_tokens=512)


UNKNOWN = EmbeddingModel(known=False)

_MODELS: dict[str, EmbeddingModel] = {
    "@cf/baai/bge-small-en-v1.5": _bge(384),
    "@cf/baai/bge-base-en-v1.5": _bge(768),
    "@cf/baai/bge-large-en-v1.5": _bge(1024),
    "@cf/baai/omni-bge-base-en-v1.5": _bge(768),
    # The catalogue says context_window 60000, but the model's positions stop at 8192.
    "@cf/baai/bge-m3": EmbeddingModel(dimension=1024, max_tokens=8192, truncate_flag=True),
    # EmbeddingGemma's card: 2048-token input, Matryoshka outputs 768/512/256/128.
    "@cf/google/embeddinggemma-300m": EmbeddingModel(
        dimension=768, max_tokens=2048, shortening=frozenset({512, 256, 128})
    ),
    # No maxItems in the catalogue: 32 keeps a call to this 1B model the size Cloudflare allows
    # for the smaller qwen3-embedding. 2048-d and 4096 positions per the model card.
    "@cf/pfnet/plamo-embedding-1b": EmbeddingModel(batch_limit=32, dimension=2048, max_tokens=4096),
    # Qwen3-Embedding's card: Matryoshka, any output size from 32 to 1024.
    "@cf/qwen/qwen3-embedding-0.6b": EmbeddingModel(
        batch_limit=32, dimension=1024, max_tokens=8192, shortening=range(32, 1025)
    ),
}


def embedding_model(name: str) -> EmbeddingModel:
    """The table entry for a Workers AI model name, or UNKNOWN."""
    return _MODELS.get(name, UNKNOWN)


def known_models() -> list[str]:
    return sorted(_MODELS)
