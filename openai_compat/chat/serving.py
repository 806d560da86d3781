"""Chat Completions: validated request -> Workers AI call(s) -> OpenAI response or stream."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Mapping

from flask import Response, jsonify

from openai_compat.chat.from_workers import ChunkWriter, completion_body
from openai_compat.chat.protocol import ChatCompletionRequest
from openai_compat.chat.to_workers import chat_input, check_images, check_supported, image_urls, text_of
from openai_compat.image_input import ImageData
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


def _load_images(req: ChatCompletionRequest, svc: Services) -> Mapping[str, ImageData]:
    return {url: svc.image_fetcher.load(url, param) for param, url in image_urls(req)}


def create_chat_completion(req: ChatCompletionRequest, svc: Services) -> Response:
    check_supported(req)
    resolved = svc.resolve(req.model)
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
    # Every upstream call is opened before the first byte goes out, so its failure keeps its status.
    calls = [lambda: svc.upstream.run(resolved.upstream, payload, requested=req.model)] * (req.n or 1)
    replies = run_all(calls, discard=UpstreamReply.close)
    for reply in replies:
        add_upstream_ms(reply.elapsed_ms)
    headers = {MODEL_HEADER: resolved.upstream}
    if not req.stream:
        generations = [choice_generation(reply, options) for reply in replies]
        response = jsonify(
            completion_body(completion_id=completion_id, created=created, model=req.model, generations=generations)
        )
        response.headers.update(headers)
        return response
    include_usage = bool(req.stream_options and req.stream_options.include_usage)
    events = choice_events(
        [choice_stream(reply, options) for reply in replies],
        ChunkWriter(completion_id, created, req.model),
        include_usage=include_usage,
        choices_per_prompt=len(replies),
    )
    return sse_response(
        events, heartbeat_seconds=svc.settings.sse_heartbeat_seconds, on_close=close_all(replies), headers=headers
    )


def close_all(replies: list[UpstreamReply]) -> Callable[[], None]:
    """Closing the replies is how a client that hangs up stops generation upstream."""

    def close() -> None:
        for reply in replies:
            reply.close()

    return close
