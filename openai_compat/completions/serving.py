"""Completions: validated request -> Workers AI call per choice -> text_completion or stream."""

from __future__ import annotations

import time
import uuid

from flask import Response

from openai_compat.completions.mapping import (
    CompletionChunkWriter,
    check_supported,
    completion_body,
    completion_input,
    prompts_of,
)
from openai_compat.completions.protocol import CompletionRequest
from openai_compat.request_log import note
from openai_compat.services import Services
from openai_compat.textgen.choices import GenerationOptions
from openai_compat.textgen.output import estimate_tokens
from openai_compat.textgen.profiles import SUGGESTED_TEXT_MODEL, TEXT_GENERATION_TASK, profile_for
from openai_compat.textgen.respond import open_replies, respond


def create_completion(req: CompletionRequest, svc: Services) -> Response:
    prompts = prompts_of(req)
    check_supported(req, len(prompts))
    resolved = svc.resolve(req.model)
    svc.require_task(resolved, TEXT_GENERATION_TASK, SUGGESTED_TEXT_MODEL)
    profile = profile_for(resolved.upstream)
    note(model=req.model, workers_ai_model=resolved.upstream, stream=bool(req.stream))
    n = req.n or 1
    max_tokens = req.max_tokens or svc.settings.default_max_tokens
    stream = bool(req.stream)
    # OpenAI orders choices prompt by prompt, n for each.
    choice_prompts = [prompt for prompt in prompts for _ in range(n)]
    options = [
        GenerationOptions(
            stops=req.stop_list(),
            native_stop=profile.native_stop,
            max_tokens=max_tokens,
            parallel_tool_calls=False,
            prompt_estimate=estimate_tokens(prompt),
        )
        for prompt in choice_prompts
    ]
    payloads = [completion_input(req, p, profile, max_tokens=max_tokens, stream=stream) for p in choice_prompts]
    replies = open_replies(svc, resolved, payloads)
    echoes = list(choice_prompts) if req.echo else [""] * len(choice_prompts)
    completion_id = f"cmpl-{uuid.uuid4().hex}"
    created = int(time.time())
    return respond(
        svc,
        resolved,
        replies,
        options,
        stream=stream,
        build_body=lambda generations: completion_body(
            completion_id=completion_id, created=created, model=req.model, generations=generations, echoes=echoes, n=n
        ),
        formatter=CompletionChunkWriter(completion_id, created, req.model, echoes),
        include_usage=bool(req.stream_options and req.stream_options.include_usage),
        choices_per_prompt=n,
    )
