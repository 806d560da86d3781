"""A rerank request -> Workers AI reranker inputs, one per batch of documents. Pure functions: no I/O.

Everything a request can get wrong is refused here, before the first upstream call, so a request
fails whole with a 400 naming the field or is sent in full.
"""

from __future__ import annotations

from typing import Any

from openai_compat.core.limits import check_count
from openai_compat.errors import InvalidRequestError

MAX_DOCUMENTS = 1000
"""Cohere's recommended maximum per request; more is split across requests by the client."""


def query_text(raw: Any) -> str:
    if raw is None:
        raise InvalidRequestError(
            "Missing required parameter: 'query'.", param="query", code="missing_required_parameter"
        )
    if not isinstance(raw, str):
        raise InvalidRequestError("'query' must be a string.", param="query", code="invalid_type")
    if not raw.strip():
        raise InvalidRequestError("'query' must not be empty.", param="query", code="invalid_value")
    return raw


def _document_text(item: Any, index: int) -> str:
    where = f"documents[{index}]"
    if isinstance(item, dict):
        text = item.get("text")
        if text is None:
            raise InvalidRequestError(
                f"'{where}' is an object without 'text': document objects must hold their text in 'text'.",
                param=f"{where}.text",
                code="missing_required_parameter",
            )
        if not isinstance(text, str):
            raise InvalidRequestError(f"'{where}.text' must be a string.", param=f"{where}.text", code="invalid_type")
        where = f"{where}.text"
    elif isinstance(item, str):
        text = item
    else:
        raise InvalidRequestError(
            f"'{where}' must be a string or an object with 'text'.", param=where, code="invalid_type"
        )
    if not text:
        raise InvalidRequestError(
            f"'{where}' is an empty string; every document must hold text.", param=where, code="invalid_value"
        )
    return text


def document_texts(raw: Any) -> list[str]:
    """The documents' texts in request order; strings and `{"text": ...}` objects may be mixed."""
    if raw is None:
        raise InvalidRequestError(
            "Missing required parameter: 'documents'.", param="documents", code="missing_required_parameter"
        )
    if not isinstance(raw, list):
        raise InvalidRequestError(
            "'documents' must be a list of strings or of objects with 'text'.", param="documents", code="invalid_type"
        )
    if not raw:
        raise InvalidRequestError("'documents' must not be an empty list.", param="documents", code="invalid_value")
    check_count("documents", len(raw), MAX_DOCUMENTS)
    return [_document_text(item, index) for index, item in enumerate(raw)]


def batches(count: int, size: int) -> list[range]:
    """Index ranges of consecutive documents, each at most `size` long."""
    return [range(start, min(start + size, count)) for start in range(0, count, size)]


def batch_input(query: str, texts: list[str], top_n: int | None) -> dict[str, Any]:
    """`{query, contexts: [{text}], top_k?}`. With `top_n`, each batch needs to return only its own
    best `top_n`: the request's best `top_n` are among them."""
    payload: dict[str, Any] = {"query": query, "contexts": [{"text": text} for text in texts]}
    if top_n is not None and top_n < len(texts):
        payload["top_k"] = top_n
    return payload
