"""Completions: validate, resolve the model, map each prompt, call Workers AI per choice, map back."""

from __future__ import annotations

import time
import uuid

from flask import Response

from openai_compat.completions.from_workers import CompletionChunkWriter, completion_body
from openai_compat.completions.protocol import CompletionRequest
from openai_compat.completions.to_workers import check_supported, prompts_of, text_request
from openai_compat.core.logs import note
from openai_compat.textgen.choices import generation_options
from openai_compat.textgen.profiles import TEXT_GENERATION, profile_for
from openai_compat.textgen.serving import open_replies, respond
from openai_compat.textgen.to_workers import workers_input
from openai_compat.web.services import Services, open_model


def create_completion(req: CompletionRequest, svc: Services) -> Response:
    prompts = prompts_of(req)
    check_supported(req, len(prompts))
    target = open_model(svc, req.model, TEXT_GENERATION)
    profile = profile_for(target.upstream_name)
    note(stream=bool(req.stream))
    n = req.n or 1
    max_tokens = req.max_tokens or svc.settings.default_max_tokens
    # OpenAI orders choices prompt by prompt, n for each.
    requests = [text_request(req, prompt, max_tokens=max_tokens) for prompt in prompts for _ in range(n)]
    replies = open_replies(target, [workers_input(r, profile) for r in requests])
    echoes = [r.prompt or "" for r in requests] if req.echo else [""] * len(requests)
    completion_id = f"cmpl-{uuid.uuid4().hex}"
    created = int(time.time())
    return respond(
        target,
        replies,
        [generation_options(r, profile) for r in requests],
        stream=bool(req.stream),
        build_body=lambda generations: completion_body(
            completion_id=completion_id, created=created, model=req.model, generations=generations, echoes=echoes, n=n
        ),
        formatter=CompletionChunkWriter(completion_id, created, req.model, echoes),
        include_usage=bool(req.stream_options and req.stream_options.include_usage),
        choices_per_prompt=n,
    )
