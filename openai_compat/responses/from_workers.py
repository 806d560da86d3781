"""Generations -> the Responses API's objects: output items, the `response` object, usage, and the
named stream events with their sequence numbers. Pure: no Flask, no I/O.

The stream follows the recorded live order the SDK helpers depend on: `response.created` first, each
output item added before its parts and deltas, every item done before `response.completed`, ids the
same in `added`, `done` and the final object.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from openai_compat.core.metering import Usage
from openai_compat.errors import InvalidRequestError
from openai_compat.responses.protocol import CreateResponseRequest, NamedFunction
from openai_compat.responses.to_workers import new_id
from openai_compat.textgen.output import Generation
from openai_compat.textgen.stream import Piece, ReasoningPiece, TextPiece

TERMINAL = ("completed", "incomplete", "failed", "cancelled")


def usage_body(usage: Usage | None) -> dict[str, Any] | None:
    if usage is None:
        return None
    return {
        "input_tokens": usage.prompt_tokens,
        "input_tokens_details": {"cached_tokens": 0, "cache_write_tokens": 0},
        "output_tokens": usage.completion_tokens,
        "output_tokens_details": {"reasoning_tokens": 0},
        "total_tokens": usage.total_tokens,
    }


def response_object(
    req: CreateResponseRequest, response_id: str, created_at: int, *, status: str, previous_response_id: str | None
) -> dict[str, Any]:
    """The `response` object before anything is generated; fields echo the request as OpenAI's do.
    `usage` is left out until it is known (the spec does not allow it to be null)."""
    fmt = req.text.format if req.text is not None else None
    choice = req.tool_choice
    body: dict[str, Any] = {
        "id": response_id,
        "object": "response",
        "created_at": created_at,
        "status": status,
        "background": bool(req.background),
        "completed_at": None,
        "error": None,
        "incomplete_details": None,
        "instructions": req.instructions,
        "max_output_tokens": req.max_output_tokens,
        "max_tool_calls": None,
        "model": req.model,
        "output": [],
        "parallel_tool_calls": req.parallel_tool_calls is not False,
        "previous_response_id": previous_response_id,
        "reasoning": {"effort": req.reasoning.effort if req.reasoning else None, "summary": None},
        "service_tier": "default",
        "store": req.store is not False,
        "temperature": req.temperature if req.temperature is not None else 1.0,
        "text": {"format": fmt.model_dump(by_alias=True, exclude_none=True) if fmt else {"type": "text"},
                 "verbosity": "medium"},
        "tool_choice": choice.model_dump() if isinstance(choice, NamedFunction) else (choice or "auto"),
        "tools": [
            {"type": "function", "name": t.name, "description": t.description, "parameters": t.parameters,
             "strict": t.strict if t.strict is not None else False}
            for t in req.tools or []
        ],
        "top_logprobs": 0,
        "top_p": req.top_p if req.top_p is not None else 1.0,
        "truncation": "disabled",
        "metadata": req.metadata or {},
    }
    if req.user is not None:
        body["user"] = req.user
    return body


def finished(response: dict[str, Any], output: list[dict[str, Any]], generation_end: tuple[str, Usage | None]) -> None:
    """Fill in the response once generation is over (in place)."""
    finish_reason, usage = generation_end
    response["output"] = output
    if usage is not None:
        response["usage"] = usage_body(usage)
    response["completed_at"] = int(time.time())
    if finish_reason == "length":
        response["status"] = "incomplete"
        response["incomplete_details"] = {"reason": "max_output_tokens"}
    else:
        response["status"] = "completed"


def failed(response: dict[str, Any], code: str, message: str, output: list[dict[str, Any]] | None = None) -> None:
    response["status"] = "failed"
    response["error"] = {"code": code, "message": message}
    if output is not None:
        response["output"] = output


def error_code(api_code: str | None) -> str:
    """Responses' error codes are a fixed set; a rate limit keeps its name, the rest are server errors."""
    return "rate_limit_exceeded" if api_code in ("rate_limit_exceeded", "insufficient_quota") else "server_error"


def output_items(generation: Generation) -> list[dict[str, Any]]:
    """The output of a whole (non-streamed) generation: reasoning, message text, function calls."""
    status = "incomplete" if generation.finish_reason == "length" else "completed"
    items: list[dict[str, Any]] = []
    if generation.reasoning:
        items.append(_reasoning_item(new_id("rs"), generation.reasoning))
    if generation.content or not generation.tool_calls:
        items.append(_message_item(new_id("msg"), generation.content or "", status))
    items += [_call_item(new_id("fc"), c.id, c.name, c.arguments, "completed") for c in generation.tool_calls]
    return items


def _message_item(item_id: str, text: str | None, status: str) -> dict[str, Any]:
    content = [] if text is None else [{"type": "output_text", "text": text, "annotations": [], "logprobs": []}]
    return {"id": item_id, "type": "message", "status": status, "role": "assistant", "content": content}


def _reasoning_item(item_id: str, text: str | None) -> dict[str, Any]:
    content = [] if text is None else [{"type": "reasoning_text", "text": text}]
    return {"id": item_id, "type": "reasoning", "summary": [], "content": content}


def _call_item(item_id: str, call_id: str, name: str, arguments: str, status: str) -> dict[str, Any]:
    return {"id": item_id, "type": "function_call", "status": status, "arguments": arguments, "call_id": call_id,
            "name": name}


@dataclass
class _Open:
    kind: str  # message | reasoning | function_call
    index: int
    item_id: str
    text: list[str] = field(default_factory=list)
    call_id: str = ""
    name: str = ""


class EventWriter:
    """Stream pieces -> Responses events (dicts with `type` and `sequence_number`), and the output they add up to."""

    def __init__(self, response: dict[str, Any], first_sequence: int = 0) -> None:
        self.response = response
        self.sequence = first_sequence
        self.output: list[dict[str, Any]] = []
        self._open: _Open | None = None
        self._calls: dict[int, _Open] = {}

    def event(self, kind: str, **fields: Any) -> dict[str, Any]:
        event = {"type": kind, "sequence_number": self.sequence, **fields}
        self.sequence += 1
        return event

    def lifecycle(self, kind: str) -> dict[str, Any]:
        """`response.created` / `.queued` / `.in_progress` / `.completed` / ...: the whole response as it
        stands now (a copy: the response goes on changing after the event is made)."""
        return self.event(kind, response={**self.response, "output": list(self.response["output"])})

    def piece(self, piece: Piece) -> list[dict[str, Any]]:
        if isinstance(piece, TextPiece):
            events = self._ensure("message")
            assert self._open is not None
            self._open.text.append(piece.text)
            return [*events, self.event("response.output_text.delta", item_id=self._open.item_id,
                                        output_index=self._open.index, content_index=0, delta=piece.text, logprobs=[])]
        if isinstance(piece, ReasoningPiece):
            events = self._ensure("reasoning")
            assert self._open is not None
            self._open.text.append(piece.text)
            return [*events, self.event("response.reasoning_text.delta", item_id=self._open.item_id,
                                        output_index=self._open.index, content_index=0, delta=piece.text)]
        if piece.id is not None:  # a call's first piece opens its item
            events = self._close()
            call = _Open("function_call", len(self.output), new_id("fc"), call_id=piece.id, name=piece.name or "")
            self.output.append(_call_item(call.item_id, call.call_id, call.name, "", "in_progress"))
            self._open = call
            self._calls[piece.index] = call
            events.append(self.event("response.output_item.added", output_index=call.index,
                                     item=dict(self.output[call.index])))
        else:
            events = []
            call = self._calls[piece.index]
        if piece.arguments:
            call.text.append(piece.arguments)
            events.append(self.event("response.function_call_arguments.delta", item_id=call.item_id,
                                     output_index=call.index, delta=piece.arguments))
        return events

    def _ensure(self, kind: str) -> list[dict[str, Any]]:
        if self._open is not None and self._open.kind == kind:
            return []
        events = self._close()
        item = _Open(kind, len(self.output), new_id("msg" if kind == "message" else "rs"))
        self._open = item
        if kind == "message":
            self.output.append(_message_item(item.item_id, None, "in_progress"))
            part = {"type": "output_text", "text": "", "annotations": [], "logprobs": []}
        else:
            self.output.append(_reasoning_item(item.item_id, None))
            part = {"type": "reasoning_text", "text": ""}
        events.append(self.event("response.output_item.added", output_index=item.index,
                                 item=dict(self.output[item.index])))
        events.append(self.event("response.content_part.added", item_id=item.item_id, output_index=item.index,
                                 content_index=0, part=part))
        return events

    def _close(self, status: str = "completed") -> list[dict[str, Any]]:
        item, self._open = self._open, None
        if item is None:
            return []
        text = "".join(item.text)
        if item.kind == "function_call":
            final = _call_item(item.item_id, item.call_id, item.name, text, "completed")
            self.output[item.index] = final
            return [self.event("response.function_call_arguments.done", item_id=item.item_id,
                               output_index=item.index, name=item.name, arguments=text),
                    self.event("response.output_item.done", output_index=item.index, item=final)]
        if item.kind == "message":
            final = _message_item(item.item_id, text, status)
            done, extra = "response.output_text.done", {"logprobs": []}
        else:
            final = _reasoning_item(item.item_id, text)
            done, extra = "response.reasoning_text.done", {}
        self.output[item.index] = final
        part = final["content"][0]
        return [self.event(done, item_id=item.item_id, output_index=item.index, content_index=0, text=text, **extra),
                self.event("response.content_part.done", item_id=item.item_id, output_index=item.index,
                           content_index=0, part=part),
                self.event("response.output_item.done", output_index=item.index, item=final)]

    def finish(self, finish_reason: str) -> list[dict[str, Any]]:
        """Close what is open; the output is then whole (an empty answer still gets its message item)."""
        if not self.output:
            self._ensure("message")
        return self._close("incomplete" if finish_reason == "length" else "completed")


def error_event(writer: EventWriter, code: str | None, message: str, error_type: str) -> dict[str, Any]:
    """Both shapes the SDKs raise on: the spec's flat fields and the nested `error` live traffic carries."""
    return writer.event("error", code=code, message=message, param=None,
                        error={"type": error_type, "code": code, "message": message, "param": None})


def is_terminal(response: dict[str, Any]) -> bool:
    return response.get("status") in TERMINAL


def closing_events(response: dict[str, Any], sequence: int) -> list[dict[str, Any]]:
    """The end of a stream whose run stored its outcome but not its last events: the terminal event
    (with `error` first for a failure)."""
    writer = EventWriter(response, sequence)
    if response["status"] != "failed":
        return [writer.lifecycle(f"response.{response['status']}")]
    error = response.get("error") or {"code": "server_error", "message": "The response failed."}
    return [error_event(writer, error["code"], error["message"], "server_error"), writer.lifecycle("response.failed")]


def items_page(items: list[dict[str, Any]], *, after: str | None, before: str | None, limit: int,
               order: str) -> dict[str, Any]:
    """One page of `input_items`, by cursor, as OpenAI lists them (newest first unless `asc`)."""
    ordered = list(items if order == "asc" else reversed(items))
    ids = [item["id"] for item in ordered]
    for cursor, name in ((after, "after"), (before, "before")):
        if cursor is not None and cursor not in ids:
            raise InvalidRequestError(f"No input item with id '{cursor}' in this response.", param=name)
    start = ids.index(after) + 1 if after is not None else 0
    end = ids.index(before) if before is not None else len(ordered)
    window = ordered[start:end]
    page = window[:limit]
    return {
        "object": "list",
        "data": page,
        "first_id": page[0]["id"] if page else None,
        "last_id": page[-1]["id"] if page else None,
        "has_more": len(window) > limit,
    }
