"""Moderations: validate, resolve the guard model, one upstream call per input (bounded), one response."""

from __future__ import annotations

from collections.abc import Callable

from flask import Response, jsonify

from openai_compat.core.concurrency import run_all
from openai_compat.core.logs import add_upstream_ms, note
from openai_compat.core.metering import Usage
from openai_compat.core.model_names import MODEL_HEADER
from openai_compat.errors import InvalidRequestError
from openai_compat.moderations.from_workers import Verdict, moderation_response, read_verdict
from openai_compat.moderations.profiles import MODERATION, guard_model, known_models
from openai_compat.moderations.protocol import ModerationRequest
from openai_compat.moderations.to_workers import guard_input, input_texts
from openai_compat.web.services import ModelTarget, Services, open_model


def _verdict_call(target: ModelTarget, text: str) -> Callable[[], Verdict]:
    def run() -> Verdict:
        reply = target.run(guard_input(text))
        add_upstream_ms(reply.elapsed_ms)
        return read_verdict(reply.result, text, target.resolved.requested)

    return run


def create_moderation(req: ModerationRequest, svc: Services) -> Response:
    model = req.model or svc.settings.moderation_default_model
    target = open_model(svc, model, MODERATION)
    profile = guard_model(target.upstream_name)
    if profile is None:
        raise InvalidRequestError(
            f"The model `{model}` is not a moderation model: moderations need a Llama Guard model, "
            f"such as {', '.join(known_models())}.",
            param="model",
            code="invalid_model",
        )
    texts = input_texts(req.input, profile)
    note(inputs=len(texts))
    # Bounded: each input is a call to an 8B model, and a big request must leave room in the
    # account's per-minute limit for other traffic.
    verdicts = run_all([_verdict_call(target, text) for text in texts], limit=svc.settings.moderation_max_concurrency)
    target.record(
        Usage(
            prompt_tokens=sum(v.prompt_tokens for v in verdicts),
            completion_tokens=sum(v.completion_tokens for v in verdicts),
            estimated=any(v.estimated for v in verdicts),
        )
    )
    response = jsonify(moderation_response(verdicts, model=model))
    response.headers[MODEL_HEADER] = target.upstream_name
    return response
