"""Chat Completions: validated request -> Workers AI call(s) -> OpenAI response or stream."""

from __future__ import annotations

import time
import uuid
from collections.abc import Mapping

from flask import Response

from openai_compat.chat.from_workers import ChunkWriter, completion_body
from openai_compat.chat.protocol import ChatCompletionRequest
from openai_compat.chat.to_workers import chat_input, check_images, check_supported, image_urls, text_of
from openai_compat.image_input import ImageData
from openai_compat.request_log import note
from openai_compat.services import Services
from openai_compat.textgen.choices import GenerationOptions
from openai_compat.textgen.output import estimate_tokens
from openai_compat.textgen.profiles import SUGGESTED_TEXT_MODEL, TEXT_GENERATION_TASK, profile_for
from openai_compat.textgen.respond import open_replies, respond


def _load_images(req: ChatCompletionRequest, svc: Services) -> Mapping[str, ImageData]:
    return {url: svc.image_fetcher.load(url, param) for param, url in image_urls(req)}


def create_chat_completion(req: ChatCompletionRequest, svc: Services) -> Response:
    check_supported(req)
    resolved = svc.resolve(req.model)
    svc.require_task(resolved, TEXT_GENERATION_TASK, SUGGESTED_TEXT_MODEL)
    profile = profile_for(resolved.upstream)
    check_images(req, profile, req.model)
    note(model=req.model, workers_ai_model=resolved.upstream, stream=bool(req.stream))
    images = _load_images(req, svc)
    max_tokens = req.max_completion_tokens or req.max_tokens or svc.settings.default_max_tokens
    payload = chat_input(req, profile, images, max_tokens=max_tokens, stream=bool(req.stream))
    options = GenerationOptions(
        stops=req.stop_list(),
        native_stop=profile.native_stop,
        max_tokens=max_tokens,
        parallel_tool_calls=req.parallel_tool_calls is not False,
        prompt_estimate=sum(estimate_tokens(text_of(m, i)) for i, m in enumerate(req.messages)),
    )
    completion_id = f"chatcmpl-{uuid.uuid4().hex}"
    created = int(time.time())
    n = req.n or 1
    replies = open_replies(svc, resolved, [payload] * n)
    return respond(
        svc,
        resolved,
        replies,
        [options] * n,
        stream=bool(req.stream),
        build_body=lambda generations: completion_body(
            completion_id=completion_id, created=created, model=req.model, generations=generations
        ),
        formatter=ChunkWriter(completion_id, created, req.model),
        include_usage=bool(req.stream_options and req.stream_options.include_usage),
        choices_per_prompt=n,
    )
