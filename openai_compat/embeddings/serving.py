"""Embeddings: validated request -> batched Workers AI calls -> one OpenAI response."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait
from typing import TypeVar

from flask import Response, jsonify

from openai_compat.embeddings.from_workers import BatchResult, embedding_response, read_batch
from openai_compat.embeddings.models import EMBEDDINGS_TASK, EmbeddingModel, embedding_model
from openai_compat.embeddings.protocol import EmbeddingRequest
from openai_compat.embeddings.to_workers import (
    batch_input,
    batches,
    check_dimensions,
    check_lengths,
    input_texts,
)
from openai_compat.errors import InvalidRequestError
from openai_compat.request_log import add_upstream_ms, note
from openai_compat.services import Services

MODEL_HEADER = "x-workers-ai-model"
MAX_CONCURRENT_BATCHES = 4
"""Enough to hide per-call latency on a 2048-input request without one client's request taking
a large share of the account's rate limit (3000 embedding requests a minute) or the pool."""

T = TypeVar("T")


def run_bounded(calls: list[Callable[[], T]], limit: int) -> list[T]:
    """Results in call order, at most `limit` calls in flight. The first failure is raised and the
    calls not yet started are cancelled, so a failed request stops spending upstream quota."""
    if len(calls) == 1:
        return [calls[0]()]
    with ThreadPoolExecutor(max_workers=min(limit, len(calls)), thread_name_prefix="embeddings") as pool:
        futures = [pool.submit(call) for call in calls]
        wait(futures, return_when=FIRST_EXCEPTION)
        failed = next((f for f in futures if f.done() and not f.cancelled() and f.exception()), None)
        if failed is not None:
            pool.shutdown(wait=True, cancel_futures=True)
            raise failed.exception()  # type: ignore[misc]
    return [future.result() for future in futures]


def _check_is_embedding_model(upstream: str, spec: EmbeddingModel, svc: Services, requested: str) -> None:
    """Models outside the table are looked up in the (cached) catalogue: a chat model's name gets
    a 400 naming `model` instead of whatever a text model says about a `text` field."""
    if spec.known:
        return
    listed = svc.catalogue.get(upstream)
    task = (listed.model_extra or {}).get("task") if listed is not None else None
    if task and task != EMBEDDINGS_TASK:
        raise InvalidRequestError(
            f"The model `{requested}` is not an embedding model (Workers AI task: {task}). Use an embedding "
            "model such as @cf/qwen/qwen3-embedding-0.6b or @cf/baai/bge-m3.",
            param="model",
            code="invalid_model",
        )


def create_embeddings(req: EmbeddingRequest, svc: Services) -> Response:
    texts = input_texts(req.input)
    resolved = svc.resolve(req.model)
    spec = embedding_model(resolved.upstream)
    _check_is_embedding_model(resolved.upstream, spec, svc, req.model)
    check_dimensions(req.dimensions, spec, req.model)
    check_lengths(texts, spec, req.model)
    groups = batches(texts, spec.batch_limit)
    note(model=req.model, workers_ai_model=resolved.upstream, inputs=len(texts), batches=len(groups))

    def call(group: list[str]) -> Callable[[], tuple[BatchResult, float]]:
        def run() -> tuple[BatchResult, float]:
            reply = svc.upstream.run(resolved.upstream, batch_input(group, spec))
            return read_batch(reply.result, group), reply.elapsed_ms

        return run

    results = run_bounded([call(group) for group in groups], MAX_CONCURRENT_BATCHES)
    for _, elapsed_ms in results:
        add_upstream_ms(elapsed_ms)
    body = embedding_response(
        [batch for batch, _ in results],
        model=req.model,
        encoding_format=req.encoding_format or "float",
        dimensions=req.dimensions,
    )
    note(usage_estimated=any(batch.estimated for batch, _ in results))
    response = jsonify(body)
    response.headers[MODEL_HEADER] = resolved.upstream
    return response
