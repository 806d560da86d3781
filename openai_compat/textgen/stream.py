"""Workers AI stream events, both dialects, read into dialect-free pieces as they arrive.

Classic streams carry `{"response": token}` events, tool calls either whole or as OpenAI-like
deltas, and usage on a late event; OpenAI-style models stream `chat.completion.chunk`s. Each
event is decoded the moment it arrives: nothing is buffered except text that might still turn
out to be the start of a stop sequence.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from openai_compat.core.metering import Usage, tokens_for_characters
from openai_compat.textgen.output import Generation, arguments_json, call_id, read_usage
from openai_compat.textgen.stop import StopMatcher

FINISH_REASONS = frozenset({"stop", "length", "tool_calls", "content_filter"})


@dataclass
class TextPiece:
    text: str


@dataclass
class ReasoningPiece:
    text: str


@dataclass
class ToolCallPiece:
    index: int
    id: str | None
    """Set only on a call's first piece, as the SDKs' delta accumulators require."""
    name: str | None
    arguments: str


Piece = TextPiece | ReasoningPiece | ToolCallPiece


def pieces_from_generation(generation: Generation) -> list[Piece]:
    """For upstreams that answer a streaming request with one JSON body."""
    pieces: list[Piece] = []
    if generation.reasoning:
        pieces.append(ReasoningPiece(generation.reasoning))
    if generation.content:
        pieces.append(TextPiece(generation.content))
    for index, call in enumerate(generation.tool_calls):
        pieces.append(ToolCallPiece(index, call.id, call.name, call.arguments))
    return pieces


class StreamDecoder:
    def __init__(
        self, *, stops: list[str], native_stop: bool, max_tokens: int | None, parallel_tool_calls: bool
    ) -> None:
        self._stop = StopMatcher([] if native_stop else stops)
        self._max_tokens = max_tokens
        self._parallel = parallel_tool_calls
        self._calls: dict[Any, int] = {}
        self._upstream_finish: str | None = None
        self._tokens = 0
        self._produced_chars = 0
        """Characters of text and tool-call arguments, for the estimate when Workers AI reports no usage."""
        self.usage: Usage | None = None

    @property
    def stopped(self) -> bool:
        """A stop sequence was met: the caller should stop reading the upstream."""
        return self._stop.stopped

    def feed(self, event: dict[str, Any]) -> list[Piece]:
        pieces: list[Piece] = []
        usage = read_usage(event.get("usage"))
        if usage is not None:
            self.usage = usage
        if isinstance(event.get("choices"), list):
            for choice in event["choices"][:1]:
                self._feed_choice(choice, pieces)
            return pieces
        self._content(event.get("response"), event.get("tool_calls"), pieces)
        finish = event.get("finish_reason")
        if finish in FINISH_REASONS:
            self._upstream_finish = finish
        return pieces

    def close(self) -> list[Piece]:
        held = self._stop.flush()
        return [TextPiece(held)] if held else []

    def finish_reason(self) -> str:
        if self._stop.stopped:
            return "stop"
        if self._upstream_finish == "length":
            return "length"
        if self._calls:
            return "tool_calls"
        if self._upstream_finish in FINISH_REASONS:
            return self._upstream_finish
        produced = self.usage.completion_tokens if self.usage else self._tokens
        if self._max_tokens is not None and produced >= self._max_tokens:
            return "length"
        return "stop"

    def final_usage(self, prompt_estimate: int) -> Usage:
        if self.usage is not None:
            return self.usage
        produced = max(self._tokens, tokens_for_characters(self._produced_chars))
        return Usage(prompt_estimate, produced, estimated=True)

    def _text(self, text: str, pieces: list[Piece]) -> None:
        self._tokens += 1
        self._produced_chars += len(text)
        emit = self._stop.feed(text)
        if emit:
            pieces.append(TextPiece(emit))

    def _content(self, text: Any, calls: Any, pieces: list[Piece]) -> None:
        """Text and tool-call deltas, the same in both dialects once found in their event."""
        if isinstance(text, str) and text:
            self._text(text, pieces)
        for call in calls or []:
            if isinstance(call, dict):
                self._tool_call(call, pieces)

    def _feed_choice(self, choice: Any, pieces: list[Piece]) -> None:
        if not isinstance(choice, dict):
            return
        delta = choice.get("delta")
        if not isinstance(delta, dict):
            delta = {}
        reasoning = delta.get("reasoning_content") or delta.get("reasoning")
        if isinstance(reasoning, str) and reasoning:
            pieces.append(ReasoningPiece(reasoning))
        self._content(delta.get("content"), delta.get("tool_calls"), pieces)
        if choice.get("finish_reason") in FINISH_REASONS:
            self._upstream_finish = choice["finish_reason"]

    def _tool_call(self, call: dict[str, Any], pieces: list[Piece]) -> None:
        if self._stop.stopped:
            return
        if "function" not in call:  # classic: one whole call per item, arguments as an object
            if call.get("name"):
                self._open_call(object(), None, str(call["name"]), arguments_json(call.get("arguments")), pieces)
            return
        function = call.get("function")
        if not isinstance(function, dict):
            function = {}
        key = call.get("index", 0)
        name, arguments = function.get("name"), function.get("arguments")
        if key not in self._calls:
            if name:
                self._open_call(key, call.get("id"), str(name), arguments if isinstance(arguments, str) else "", pieces)
            return
        if isinstance(arguments, str) and arguments:
            index = self._calls[key]
            if index >= 0:
                self._produced_chars += len(arguments)
                pieces.append(ToolCallPiece(index, None, None, arguments))

    def _open_call(self, key: Any, upstream_id: Any, name: str, arguments: str, pieces: list[Piece]) -> None:
        opened = sum(1 for i in self._calls.values() if i >= 0)
        if opened and not self._parallel:
            self._calls[key] = -1  # parallel_tool_calls=false: keep the first call only
            return
        self._calls[key] = opened
        self._produced_chars += len(arguments)
        pieces.append(ToolCallPiece(opened, call_id(upstream_id), name, arguments))
