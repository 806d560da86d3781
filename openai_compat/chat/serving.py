"""Chat Completions: validate, resolve the model, fetch images, map, call Workers AI, map back."""

from __future__ import annotations

import time
import uuid

from flask import Response

from openai_compat.chat.from_workers import ChunkWriter, completion_body
from openai_compat.chat.protocol import ChatCompletionRequest
from openai_compat.chat.to_workers import check_request, image_urls, text_request
from openai_compat.core.logs import note
from openai_compat.textgen.choices import generation_options
from openai_compat.textgen.profiles import TEXT_GENERATION, profile_for
from openai_compat.textgen.serving import open_replies, respond
from openai_compat.textgen.to_workers import workers_input
from openai_compat.web.services import Services, open_model


def create_chat_completion(req: ChatCompletionRequest, svc: Services) -> Response:
    target = open_model(svc, req.model, TEXT_GENERATION)
    profile = profile_for(target.upstream_name)
    check_request(req, profile)
    note(stream=bool(req.stream))
    images = {url: svc.fetcher.load(url, param) for param, url in image_urls(req)}
    max_tokens = req.max_completion_tokens or req.max_tokens or svc.settings.default_max_tokens
    request = text_request(req, images, max_tokens=max_tokens)
    n = req.n or 1
    replies = open_replies(target, [workers_input(request, profile)] * n)
    completion_id = f"chatcmpl-{uuid.uuid4().hex}"
    created = int(time.time())
    return respond(
        target,
        replies,
        [generation_options(request, profile)] * n,
        stream=request.stream,
        build_body=lambda generations: completion_body(
            completion_id=completion_id, created=created, model=req.model, generations=generations
        ),
        formatter=ChunkWriter(completion_id, created, req.model),
        include_usage=bool(req.stream_options and req.stream_options.include_usage),
        choices_per_prompt=n,
    )
