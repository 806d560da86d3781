"""The shared tail of Chat Completions and Completions (and the text half of Responses): open every
upstream call, then answer with one JSON body or one SSE stream of choices."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Response, jsonify

from openai_compat.core.concurrency import run_all
from openai_compat.core.logs import add_upstream_ms
from openai_compat.core.model_names import MODEL_HEADER
from openai_compat.errors import UpstreamError
from openai_compat.textgen.choices import GenerationOptions, choice_generation, choice_stream
from openai_compat.textgen.events import ChunkFormatter, choice_events
from openai_compat.textgen.output import Generation, combine_usage
from openai_compat.upstream import UpstreamReply
from openai_compat.web.replies import sse_response
from openai_compat.web.services import ModelTarget


def open_replies(target: ModelTarget, payloads: list[dict[str, Any]]) -> list[UpstreamReply]:
    """Every upstream call is opened before the first byte goes out, so a failure keeps its status."""
    calls = [(lambda p=payload: target.run(p)) for payload in payloads]
    replies = run_all(calls, discard=UpstreamReply.close)
    try:
        for index, (reply, payload) in enumerate(zip(replies, payloads, strict=True)):
            add_upstream_ms(reply.elapsed_ms)
            if reply.chunks is not None:
                # A text model answers JSON or SSE; anything else (an HTML page from a proxy between) is
                # refused now, while the client can still be told with a status.
                raise UpstreamError(f"Workers AI answered {reply.content_type!r} where text was expected.")
            if payload.get("stream") and reply.events is None and _empty(reply.result):
                # gpt-oss (and Kimi) cannot stream on /ai/run and may answer `stream: true` with an
                # empty result; the same request without `stream` gets the answer (Cloudflare's own
                # AI SDK provider retries the same way). The client still gets the stream it asked for.
                replies[index] = target.run({**payload, "stream": False})
                add_upstream_ms(replies[index].elapsed_ms)
    except BaseException:
        close_all(replies)()
        raise
    return replies


def _empty(result: object) -> bool:
    if isinstance(result, dict):
        return not any(value for key, value in result.items() if key != "usage")
    return not result


def close_all(replies: list[UpstreamReply]) -> Callable[[], None]:
    """Closing the replies is how a client that hangs up stops generation upstream."""

    def close() -> None:
        for reply in replies:
            reply.close()

    return close


def respond(
    target: ModelTarget,
    replies: list[UpstreamReply],
    options: list[GenerationOptions],
    *,
    stream: bool,
    build_body: Callable[[list[Generation]], dict[str, Any]],
    formatter: ChunkFormatter,
    include_usage: bool,
    choices_per_prompt: int,
) -> Response:
    headers = {MODEL_HEADER: target.upstream_name}
    if not stream:
        generations = [choice_generation(r, o) for r, o in zip(replies, options, strict=True)]
        target.record(combine_usage([g.usage for g in generations if g.usage], choices_per_prompt))
        response = jsonify(build_body(generations))
        response.headers.update(headers)
        return response
    events = choice_events(
        [choice_stream(r, o) for r, o in zip(replies, options, strict=True)],
        formatter,
        include_usage=include_usage,
        choices_per_prompt=choices_per_prompt,
        on_usage=target.record,
    )
    return sse_response(
        events,
        heartbeat_seconds=target.svc.settings.sse_heartbeat_seconds,
        on_close=close_all(replies),
        headers=headers,
        quiet_reported=True,
    )
