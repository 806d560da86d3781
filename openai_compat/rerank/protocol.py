"""Wire model of a rerank request, as Cohere (v1 and v2) and Jina define it and Open WebUI, LangChain
and LlamaIndex send it.

`query` and `documents` are typed loosely on purpose: their checks live in `to_workers`, whose errors
name the exact item (`documents[3].text`) and say what is expected.
"""

from __future__ import annotations

from typing import Annotated, Any, ClassVar

from pydantic import Field

from openai_compat.core.wire import WireModel


class RerankRequest(WireModel):
    IGNORED: ClassVar[frozenset[str]] = frozenset(
        {"max_tokens_per_doc", "max_chunks_per_doc", "rank_fields", "priority"}
    )

    query: Any = None
    documents: Any = None
    model: str | None = Field(default=None, min_length=1)
    """None: the `RERANK_DEFAULT_MODEL` setting (Cohere and Jina require a model; Open WebUI sends one)."""
    top_n: Annotated[int, Field(strict=True, ge=1)] | None = None
    return_documents: bool | None = None
    """Cohere's default (false); Jina's is true."""
    max_tokens_per_doc: int | None = None
    """Cohere v2 (the SDK sends null); Workers AI rerankers truncate on their own."""
    max_chunks_per_doc: int | None = None
    rank_fields: list[str] | None = None
    """Cohere v1, for object documents: only their `text` is ranked."""
    priority: int | None = None
