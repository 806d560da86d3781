"""OpenAI embeddings request -> Workers AI model inputs, one per batch. Pure functions: no I/O.

Everything a request can get wrong is refused here, before the first upstream call, so a request
either fails whole with a 400 naming the parameter or is sent in full.
"""

from __future__ import annotations

from typing import Any

from openai_compat.core.limits import check_count
from openai_compat.embeddings.profiles import EmbeddingModel
from openai_compat.errors import InvalidRequestError

MAX_INPUTS = 2048
"""OpenAI's own limit per request; the gateway splits it into upstream batches."""
MAX_BYTES_PER_TOKEN = 8
"""No tokenizer of these models averages more than 8 UTF-8 bytes per token on real text."""


def _is_token_id(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def input_texts(raw: Any) -> list[str]:
    """The inputs as a list of strings, or a 400 naming `input`."""
    if isinstance(raw, str):
        texts = [raw]
    elif isinstance(raw, list):
        if not raw:
            raise InvalidRequestError("'input' must not be an empty list.", param="input", code="invalid_value")
        if all(_is_token_id(v) for v in raw) or all(
            isinstance(v, list) and all(_is_token_id(t) for t in v) for v in raw
        ):
            raise InvalidRequestError(
                "Token-id arrays are not supported: Workers AI models use their own tokenizers, so "
                "OpenAI token ids mean nothing to them. Send 'input' as a string or a list of strings.",
                param="input",
                code="invalid_value",
            )
        if not all(isinstance(v, str) for v in raw):
            raise InvalidRequestError(
                "'input' must be a string or a list of strings.", param="input", code="invalid_type"
            )
        texts = raw
    else:
        raise InvalidRequestError("'input' must be a string or a list of strings.", param="input", code="invalid_type")
    check_count("input", len(texts), MAX_INPUTS)
    for index, text in enumerate(texts):
        if not text:
            where = "'input'" if isinstance(raw, str) else f"'input[{index}]'"
            raise InvalidRequestError(
                f"{where} is an empty string; every input must hold text.", param="input", code="invalid_value"
            )
    return texts


def fewest_tokens(text: str) -> int:
    """A lower bound on the token count: every tokenizer here splits on whitespace, and none packs
    more than MAX_BYTES_PER_TOKEN bytes into a token on average. Erring low means a text is only
    refused when it is certainly too long; the model truncates what slips past."""
    return max(len(text.split()), len(text.encode("utf-8")) // MAX_BYTES_PER_TOKEN)


def check_lengths(texts: list[str], spec: EmbeddingModel, model: str) -> None:
    """OpenAI's behaviour for over-long inputs: a 400 naming `input`, not a silently cut vector."""
    if spec.max_tokens is None:
        return
    for index, text in enumerate(texts):
        tokens = fewest_tokens(text)
        if tokens > spec.max_tokens:
            raise InvalidRequestError(
                f"input[{index}] is at least {tokens} tokens long, but `{model}` reads at most "
                f"{spec.max_tokens} tokens per input. Split the text into smaller pieces.",
                param="input",
                code="context_length_exceeded",
            )


def check_dimensions(dimensions: int | None, spec: EmbeddingModel, model: str) -> None:
    if dimensions is None or spec.allows_dimensions(dimensions):
        return
    if not spec.known:
        detail = "the gateway does not know whether it can be shortened, so 'dimensions' is not supported."
    elif not spec.shortening:
        detail = f"it only produces {spec.dimension}-dimensional vectors."
    elif isinstance(spec.shortening, range):
        detail = f"it supports 'dimensions' from {spec.shortening.start} to {spec.dimension}."
    else:
        sizes = sorted({*spec.shortening, spec.dimension or 0}, reverse=True)
        detail = f"it supports 'dimensions' of {', '.join(map(str, sizes))}."
    raise InvalidRequestError(
        f"The model `{model}` cannot produce {dimensions}-dimensional embeddings: {detail}",
        param="dimensions",
        code="unsupported_value",
    )


def batches(texts: list[str], size: int) -> list[list[str]]:
    return [texts[start : start + size] for start in range(0, len(texts), size)]


def batch_input(texts: list[str], spec: EmbeddingModel) -> dict[str, Any]:
    """The `{text: [...]}` shape every Workers AI embedding model accepts. For qwen3-embedding
    `text` means documents, embedded without a query instruction, as OpenAI's symmetric
    embeddings are; for bge-m3 it selects plain embeddings rather than ranking."""
    payload: dict[str, Any] = {"text": list(texts)}
    if spec.truncate_flag:
        payload["truncate_inputs"] = True
    return payload
