"""Embeddings: validated request -> batched Workers AI calls -> one OpenAI response."""

from __future__ import annotations

from collections.abc import Callable

from flask import Response, jsonify

from openai_compat.embeddings.from_workers import BatchResult, embedding_response, read_batch
from openai_compat.embeddings.models import EMBEDDINGS_TASK, embedding_model
from openai_compat.embeddings.protocol import EmbeddingRequest
from openai_compat.embeddings.to_workers import (
    batch_input,
    batches,
    check_dimensions,
    check_lengths,
    input_texts,
)
from openai_compat.model_names import MODEL_HEADER
from openai_compat.request_log import add_upstream_ms, note
from openai_compat.services import Services
from openai_compat.textgen.fanout import run_all


def create_embeddings(req: EmbeddingRequest, svc: Services) -> Response:
    texts = input_texts(req.input)
    resolved = svc.resolve(req.model)
    note(model=req.model, workers_ai_model=resolved.upstream)
    spec = embedding_model(resolved.upstream)
    if not spec.known:
        svc.require_task(resolved, EMBEDDINGS_TASK, "@cf/qwen/qwen3-embedding-0.6b or @cf/baai/bge-m3")
    check_dimensions(req.dimensions, spec, req.model)
    check_lengths(texts, spec, req.model)
    groups = batches(texts, spec.batch_limit)
    note(inputs=len(texts), batches=len(groups))

    def call(group: list[str]) -> Callable[[], tuple[BatchResult, float]]:
        def run() -> tuple[BatchResult, float]:
            reply = svc.upstream.run(resolved.upstream, batch_input(group, spec), requested=req.model)
            return read_batch(reply.result, group), reply.elapsed_ms

        return run

    # Bounded: for a client sending big requests back to back this sets the upstream call rate,
    # which must leave room in the account's per-minute limit for other traffic.
    results = run_all([call(group) for group in groups], limit=svc.settings.embeddings_max_concurrency)
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
