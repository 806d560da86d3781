"""Generations -> legacy `text_completion` bodies and stream chunks. Pure functions: no I/O."""

from __future__ import annotations

from typing import Any

from openai_compat.core.metering import Usage
from openai_compat.textgen.output import Generation, combine_usage, usage_body
from openai_compat.textgen.stream import Piece, TextPiece


def completion_body(
    *, completion_id: str, created: int, model: str, generations: list[Generation], echoes: list[str], n: int
) -> dict[str, Any]:
    return {
        "id": completion_id,
        "object": "text_completion",
        "created": created,
        "model": model,
        "choices": [
            {"text": echo + (g.content or ""), "index": i, "logprobs": None, "finish_reason": g.finish_reason}
            for i, (g, echo) in enumerate(zip(generations, echoes, strict=True))
        ],
        "usage": usage_body(combine_usage([g.usage for g in generations if g.usage], n)),
    }


class CompletionChunkWriter:
    """Streamed Completions chunks are whole `text_completion` objects carrying a piece of text."""

    def __init__(self, completion_id: str, created: int, model: str, echoes: list[str]) -> None:
        self._head = {"id": completion_id, "object": "text_completion", "created": created, "model": model}
        self._echoes = echoes

    def _chunk(self, index: int, text: str, finish_reason: str | None = None) -> dict[str, Any]:
        choice = {"text": text, "index": index, "logprobs": None, "finish_reason": finish_reason}
        return {**self._head, "choices": [choice]}

    def role(self, index: int, first: object) -> dict[str, Any] | None:
        return self._chunk(index, self._echoes[index]) if self._echoes[index] else None

    def piece(self, index: int, piece: Piece) -> dict[str, Any] | None:
        return self._chunk(index, piece.text) if isinstance(piece, TextPiece) else None

    def finish(self, index: int, finish_reason: str) -> dict[str, Any]:
        return self._chunk(index, "", finish_reason)

    def usage(self, usage: Usage) -> dict[str, Any]:
        return {**self._head, "choices": [], "usage": usage_body(usage)}
