"""The shared tail of Chat Completions and Completions: open every upstream call, then answer
with one JSON body or one SSE stream of choices."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Response, jsonify

from openai_compat.model_names import MODEL_HEADER, ResolvedModel
from openai_compat.request_log import add_upstream_ms
from openai_compat.services import Services
from openai_compat.sse import sse_response
from openai_compat.textgen.choices import GenerationOptions, choice_generation, choice_stream
from openai_compat.textgen.events import ChunkFormatter, choice_events
from openai_compat.textgen.fanout import run_all
from openai_compat.textgen.output import Generation
from openai_compat.upstream import UpstreamReply


def open_replies(svc: Services, resolved: ResolvedModel, payloads: list[dict[str, Any]]) -> list[UpstreamReply]:
    """Every upstream call is opened before the first byte goes out, so a failure keeps its status."""
    calls = [
        (lambda p=payload: svc.upstream.run(resolved.upstream, p, requested=resolved.requested))
        for payload in payloads
    ]
    replies = run_all(calls, discard=UpstreamReply.close)
    for reply in replies:
        add_upstream_ms(reply.elapsed_ms)
    return replies


def close_all(replies: list[UpstreamReply]) -> Callable[[], None]:
    """Closing the replies is how a client that hangs up stops generation upstream."""

    def close() -> None:
        for reply in replies:
            reply.close()

    return close


def respond(
    svc: Services,
    resolved: ResolvedModel,
    replies: list[UpstreamReply],
    options: list[GenerationOptions],
    *,
    stream: bool,
    build_body: Callable[[list[Generation]], dict[str, Any]],
    formatter: ChunkFormatter,
    include_usage: bool,
    choices_per_prompt: int,
) -> Response:
    headers = {MODEL_HEADER: resolved.upstream}
    if not stream:
        response = jsonify(build_body([choice_generation(r, o) for r, o in zip(replies, options, strict=True)]))
        response.headers.update(headers)
        return response
    events = choice_events(
        [choice_stream(r, o) for r, o in zip(replies, options, strict=True)],
        formatter,
        include_usage=include_usage,
        choices_per_prompt=choices_per_prompt,
    )
    return sse_response(
        events, heartbeat_seconds=svc.settings.sse_heartbeat_seconds, on_close=close_all(replies), headers=headers
    )
