"""Rerank: validate, resolve the model, score the documents in batches (bounded), merge best first."""

from __future__ import annotations

from collections.abc import Callable

from flask import Response, jsonify

from openai_compat.core.concurrency import run_all
from openai_compat.core.logs import add_upstream_ms, note
from openai_compat.core.metering import Usage
from openai_compat.core.model_names import MODEL_HEADER
from openai_compat.rerank.from_workers import Scored, read_batch, rerank_response, usage_tokens
from openai_compat.rerank.profiles import RERANK, rerank_model
from openai_compat.rerank.protocol import RerankRequest
from openai_compat.rerank.to_workers import batch_input, batches, document_texts, query_text
from openai_compat.web.services import ModelTarget, Services, open_model


def _batch_call(target: ModelTarget, batch: range, payload: dict[str, object]) -> Callable[[], list[Scored]]:
    def run() -> list[Scored]:
        reply = target.run(payload)
        add_upstream_ms(reply.elapsed_ms)
        top_k = payload.get("top_k")
        return read_batch(reply.result, batch, top_k if isinstance(top_k, int) else None)

    return run


def create_rerank(req: RerankRequest, svc: Services) -> Response:
    query = query_text(req.query)
    texts = document_texts(req.documents)
    model = req.model or svc.settings.rerank_default_model
    target = open_model(svc, model, RERANK)
    spec = rerank_model(target.upstream_name)
    groups = batches(len(texts), spec.batch_limit)
    note(documents=len(texts), batches=len(groups))
    # Bounded, like embeddings: a client sending big requests back to back sets the upstream call
    # rate, which must leave room in the account's per-minute limit for other traffic.
    scored = run_all(
        [
            _batch_call(target, group, batch_input(query, [texts[i] for i in group], req.top_n))
            for group in groups
        ],
        limit=svc.settings.rerank_max_concurrency,
    )
    tokens = usage_tokens(query, texts)
    target.record(Usage(prompt_tokens=tokens, estimated=True))
    body = rerank_response(
        scored,
        documents=req.documents,
        top_n=req.top_n,
        return_documents=bool(req.return_documents),
        model=model,
        total_tokens=tokens,
    )
    response = jsonify(body)
    response.headers[MODEL_HEADER] = target.upstream_name
    return response
