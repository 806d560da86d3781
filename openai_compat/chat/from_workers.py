"""Dialect-free generations -> OpenAI `chat.completion` bodies and `chat.completion.chunk`s.

Streams follow the recorded live sequence the SDK helpers are written against: `role` only in a
choice's first delta, a tool call's `id`/`type`/`name` only in its first delta, an empty delta with
the finish reason, then (if asked) a usage chunk with `choices: []`.
"""

from __future__ import annotations

from typing import Any

from openai_compat.core.metering import Usage
from openai_compat.textgen.output import Generation, chat_tool_call, combine_usage, usage_body
from openai_compat.textgen.stream import Piece, ReasoningPiece, TextPiece, ToolCallPiece


def message_body(generation: Generation) -> dict[str, Any]:
    message: dict[str, Any] = {
        "role": "assistant",
        "content": generation.content if generation.content or not generation.tool_calls else None,
        "refusal": None,
    }
    if generation.tool_calls:
        message["tool_calls"] = [chat_tool_call(c.id, c.name, c.arguments) for c in generation.tool_calls]
    if generation.reasoning:
        message["reasoning_content"] = generation.reasoning
    return message


def completion_body(*, completion_id: str, created: int, model: str, generations: list[Generation]) -> dict[str, Any]:
    return {
        "id": completion_id,
        "object": "chat.completion",
        "created": created,
        "model": model,
        "choices": [
            {"index": i, "message": message_body(g), "logprobs": None, "finish_reason": g.finish_reason}
            for i, g in enumerate(generations)
        ],
        "usage": usage_body(combine_usage([g.usage for g in generations if g.usage], len(generations))),
        "service_tier": "default",
    }


class ChunkWriter:
    def __init__(self, completion_id: str, created: int, model: str) -> None:
        self._head = {"id": completion_id, "object": "chat.completion.chunk", "created": created, "model": model}

    def _chunk(self, choices: list[dict[str, Any]]) -> dict[str, Any]:
        return {**self._head, "choices": choices}

    def _choice(self, index: int, delta: dict[str, Any], finish_reason: str | None = None) -> dict[str, Any]:
        return self._chunk([{"index": index, "delta": delta, "logprobs": None, "finish_reason": finish_reason}])

    def role(self, index: int, first: object) -> dict[str, Any]:
        """The choice's first delta: `content` is null when the model answers with a tool call, as
        OpenAI's is (the SDK's accumulated stream then matches the non-streamed message)."""
        content = None if isinstance(first, ToolCallPiece) else ""
        return self._choice(index, {"role": "assistant", "content": content, "refusal": None})

    def piece(self, index: int, piece: Piece) -> dict[str, Any]:
        if isinstance(piece, TextPiece):
            return self._choice(index, {"content": piece.text})
        if isinstance(piece, ReasoningPiece):
            return self._choice(index, {"reasoning_content": piece.text})
        call: dict[str, Any] = {"index": piece.index}
        if piece.id is not None:
            call.update(id=piece.id, type="function", function={"name": piece.name, "arguments": piece.arguments})
        else:
            call["function"] = {"arguments": piece.arguments}
        return self._choice(index, {"tool_calls": [call]})

    def finish(self, index: int, finish_reason: str) -> dict[str, Any]:
        return self._choice(index, {}, finish_reason)

    def usage(self, usage: Usage) -> dict[str, Any]:
        return {**self._chunk([]), "usage": usage_body(usage)}
