"""Completions: validated request -> Workers AI call per choice -> text_completion or stream."""

from __future__ import annotations

import time
import uuid

from flask import Response, jsonify

from openai_compat.chat.serving import close_all
from openai_compat.completions.mapping import (
    CompletionChunkWriter,
    check_supported,
    completion_body,
    completion_input,
    prompts_of,
)
from openai_compat.completions.protocol import CompletionRequest
from openai_compat.model_names import MODEL_HEADER
from openai_compat.request_log import add_upstream_ms, note
from openai_compat.services import Services
from openai_compat.sse import sse_response
from openai_compat.textgen.choices import GenerationOptions, choice_generation, choice_stream
from openai_compat.textgen.events import choice_events
from openai_compat.textgen.fanout import run_all
from openai_compat.textgen.output import estimate_tokens
from openai_compat.textgen.profiles import profile_for
from openai_compat.upstream import UpstreamReply


def create_completion(req: CompletionRequest, svc: Services) -> Response:
    prompts = prompts_of(req)
    check_supported(req, len(prompts))
    resolved = svc.resolve(req.model)
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
    calls = [
        (lambda p=prompt: svc.upstream.run(
            resolved.upstream, completion_input(req, p, profile, max_tokens=max_tokens, stream=stream),
            requested=req.model,
        ))
        for prompt in choice_prompts
    ]
    replies = run_all(calls, discard=UpstreamReply.close)
    for reply in replies:
        add_upstream_ms(reply.elapsed_ms)
    echoes = list(choice_prompts) if req.echo else [""] * len(choice_prompts)
    completion_id = f"cmpl-{uuid.uuid4().hex}"
    created = int(time.time())
    headers = {MODEL_HEADER: resolved.upstream}
    if not stream:
        generations = [choice_generation(r, o) for r, o in zip(replies, options, strict=True)]
        response = jsonify(completion_body(
            completion_id=completion_id, created=created, model=req.model, generations=generations, echoes=echoes, n=n
        ))
        response.headers.update(headers)
        return response
    events = choice_events(
        [choice_stream(r, o) for r, o in zip(replies, options, strict=True)],
        CompletionChunkWriter(completion_id, created, req.model, echoes),
        include_usage=bool(req.stream_options and req.stream_options.include_usage),
        choices_per_prompt=n,
    )
    return sse_response(
        events, heartbeat_seconds=svc.settings.sse_heartbeat_seconds, on_close=close_all(replies), headers=headers
    )
