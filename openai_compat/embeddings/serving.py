"""Embeddings: validate, resolve the model, send the inputs in batches, map back to one response."""

from __future__ import annotations

from collections.abc import Callable

from flask import Response, jsonify

from openai_compat.core.concurrency import run_all
from openai_compat.core.logs import add_upstream_ms, note
from openai_compat.core.metering import Usage
from openai_compat.core.model_names import MODEL_HEADER
from openai_compat.embeddings.from_workers import BatchResult, embedding_response, read_batch
from openai_compat.embeddings.profiles import EMBEDDINGS, embedding_model
from openai_compat.embeddings.protocol import EmbeddingRequest
from openai_compat.embeddings.to_workers import batch_input, batches, check_dimensions, check_lengths, input_texts
from openai_compat.web.services import ModelTarget, Services, open_model


def _batch_call(target: ModelTarget, group: list[str], spec_input: dict[str, object]) -> Callable[[], BatchResult]:
    def run() -> BatchResult:
        reply = target.run(spec_input)
        add_upstream_ms(reply.elapsed_ms)
        return read_batch(reply.result, group)

    return run


def create_embeddings(req: EmbeddingRequest, svc: Services) -> Response:
    texts = input_texts(req.input)
    target = open_model(svc, req.model, EMBEDDINGS)
    spec = embedding_model(target.upstream_name)
    check_dimensions(req.dimensions, spec, req.model)
    check_lengths(texts, spec, req.model)
    groups = batches(texts, spec.batch_limit)
    note(inputs=len(texts), batches=len(groups))
    # Bounded: for a client sending big requests back to back this sets the upstream call rate,
    # which must leave room in the account's per-minute limit for other traffic.
    results = run_all(
        [_batch_call(target, group, batch_input(group, spec)) for group in groups],
        limit=svc.settings.embeddings_max_concurrency,
    )
    body = embedding_response(
        results, model=req.model, encoding_format=req.encoding_format or "float", dimensions=req.dimensions
    )
    target.record(Usage(prompt_tokens=body["usage"]["prompt_tokens"], estimated=any(b.estimated for b in results)))
    response = jsonify(body)
    response.headers[MODEL_HEADER] = target.upstream_name
    return response
