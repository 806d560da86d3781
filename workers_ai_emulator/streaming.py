"""Server-sent event streams: the event sequences and the paced writer.

Event sequences are generators so a 10,000-token benchmark stream costs no
memory up front; the writer owns pacing (TTFT, per-token delay) and the
``cut_after`` fault, which closes the socket mid-body so the client sees a
chunked response without its terminating chunk, like a dropped upstream.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from .breakage import counted, pause
from .faults import Faults
from .formats import Identity, hex_id
from .textgen import Plan

DONE = "[DONE]"
_PADDING = "abcdefghijklmnopqrstuvwxyz0123456789"


@dataclass(frozen=True)
class Event:
    data: dict[str, Any] | str
    token: bool = False  # paced by token_delay_ms and counted by cut_after


def padding(index: int) -> str:
    """Workers AI pads chunks with a random ``p`` field; ours is short and deterministic."""
    return _PADDING[: 3 + index % 8]


def argument_fragments(arguments: str) -> list[str]:
    """Split a JSON arguments string into 2-3 pieces, as real tool-call deltas arrive."""
    if len(arguments) < 2:
        return [arguments]
    count = 3 if len(arguments) >= 6 else 2
    step = -(-len(arguments) // count)
    return [arguments[i : i + step] for i in range(0, len(arguments), step)]


def classic_events(plan: Plan, tool_style: str) -> Iterator[Event]:
    """Native ``/ai/run`` stream of a classic model: tokens, usage chunk, ``[DONE]``."""
    if plan.tool_calls and tool_style == "delta":
        for index, call in enumerate(plan.tool_calls):
            header = {"id": "chatcmpl-tool-" + hex_id(32), "type": "function", "index": index,
                      "function": {"name": call.name}}
            yield Event({"tool_calls": [header]}, token=True)
            for fragment in argument_fragments(call.arguments_json):
                yield Event({"tool_calls": [{"index": index, "function": {"arguments": fragment}}]}, token=True)
            closer = {"id": None, "type": None, "index": index, "function": {"name": None, "arguments": ""}}
            yield Event({"tool_calls": [closer]}, token=True)
    elif plan.tool_calls:
        calls = [{"name": c.name, "arguments": c.arguments} for c in plan.tool_calls]
        yield Event({"response": "", "tool_calls": calls}, token=True)
    else:
        for index, token in enumerate(plan.tokens):
            yield Event({"response": token, "p": padding(index)}, token=True)
    yield Event({"response": "", "usage": plan.usage()})
    yield Event(DONE)


def chunk_events(plan: Plan, ident: Identity, *, usage_on_final: bool, usage_chunk: bool) -> Iterator[Event]:
    """OpenAI ``chat.completion.chunk`` stream.

    ``usage_on_final``: the native glm style, usage on the finish chunk.
    ``usage_chunk``: the OpenAI style, a separate ``choices: []`` chunk (include_usage).
    """

    def chunk(delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
        return {
            "id": ident.completion_id,
            "object": "chat.completion.chunk",
            "created": ident.created,
            "model": ident.model,
            "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}],
        }

    yield Event(chunk({"role": "assistant", "content": ""}))
    for token in plan.tokens if not plan.tool_calls else []:
        yield Event(chunk({"content": token}), token=True)
    for index, call in enumerate(plan.tool_calls):
        header = {"index": index, "id": ident.call_id(index), "type": "function",
                  "function": {"name": call.name, "arguments": ""}}
        yield Event(chunk({"tool_calls": [header]}), token=True)
        for fragment in argument_fragments(call.arguments_json):
            yield Event(chunk({"tool_calls": [{"index": index, "function": {"arguments": fragment}}]}), token=True)
    final = chunk({}, plan.finish_reason)
    if usage_on_final:
        final["usage"] = plan.usage()
    yield Event(final)
    if usage_chunk:
        usage = chunk({})
        usage["choices"] = []
        usage["usage"] = plan.usage()
        yield Event(usage)
    yield Event(DONE)


def encode(event: Event) -> bytes:
    payload = event.data if isinstance(event.data, str) else json.dumps(event.data, separators=(",", ":"))
    return f"data: {payload}\n\n".encode()


async def write_sse(request: web.Request, events: Iterable[Event], faults: Faults) -> web.StreamResponse:
    """Send headers at once, then pace the events; honours ``cut_after``, ``malformed_json`` (the
    second token event's JSON is cut in half) and client hang-ups (counted as open streams)."""
    response = web.StreamResponse(headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache"})
    response.enable_chunked_encoding()
    await response.prepare(request)
    delay = faults.token_delay_ms / 1000
    sent = 0
    try:
        async with counted(request):
            if faults.ttft_ms:
                await pause(request, faults.ttft_ms / 1000)
            for event in events:
                if faults.cut_after is not None and sent >= faults.cut_after:
                    # close() (not abort()) flushes what was written, then drops the socket mid-body.
                    if request.transport is not None:
                        request.transport.close()
                    return response
                if event.token and sent and delay:
                    await pause(request, delay)
                frame = encode(event)
                if faults.malformed_json and event.token and sent == 1:
                    frame = frame[: len(frame) // 2] + b"\n\n"
                await response.write(frame)
                sent += event.token
            if faults.hold_after_done_ms:
                await pause(request, faults.hold_after_done_ms / 1000)
            await response.write_eof()
    except ConnectionError:
        # The client went away; nothing left to tell it.
        pass
    return response
