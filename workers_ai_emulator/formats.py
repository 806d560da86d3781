"""Non-streamed wire shapes of a :class:`~.textgen.Plan`.

Workers AI speaks several dialects depending on the model: the classic
``{response, tool_calls, usage}`` result (arguments as objects, no
finish_reason), an OpenAI ``chat.completion`` (arguments as JSON strings),
and for gpt-oss also legacy ``text_completion`` and Responses objects. One
plan feeds all of them so the dialects cannot disagree about content.
"""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

from .textgen import Plan

REASONING_TEXT = "The user wants a reply; answer briefly."


def hex_id(length: int = 24) -> str:
    return uuid.uuid4().hex[:length]


@dataclass
class Identity:
    """Ids and timestamp shared by every chunk of one answer (the SDKs expect them stable)."""

    model: str
    completion_id: str = field(default_factory=lambda: "chatcmpl-" + hex_id())
    created: int = field(default_factory=lambda: int(time.time()))
    call_ids: list[str] = field(default_factory=list)

    def call_id(self, index: int) -> str:
        while len(self.call_ids) <= index:
            self.call_ids.append("call_" + hex_id())
        return self.call_ids[index]


def classic_result(plan: Plan) -> dict[str, Any]:
    """Classic models: JSON mode returns ``response`` as an object, tool calls an empty string."""
    response: Any = plan.json_value if plan.is_json else plan.text
    if plan.tool_calls:
        response = ""
    return {
        "response": response,
        "tool_calls": [{"name": c.name, "arguments": c.arguments} for c in plan.tool_calls],
        "usage": plan.usage(),
    }


def openai_message(plan: Plan, ident: Identity) -> dict[str, Any]:
    message: dict[str, Any] = {"role": "assistant", "content": plan.text, "refusal": None}
    if plan.tool_calls:
        message["content"] = None
        message["tool_calls"] = [
            {"id": ident.call_id(i), "type": "function", "function": {"name": c.name, "arguments": c.arguments_json}}
            for i, c in enumerate(plan.tool_calls)
        ]
    return message


def chat_completion(plan: Plan, ident: Identity) -> dict[str, Any]:
    return {
        "id": ident.completion_id,
        "object": "chat.completion",
        "created": ident.created,
        "model": ident.model,
        "choices": [
            {"index": 0, "message": openai_message(plan, ident), "finish_reason": plan.finish_reason, "logprobs": None}
        ],
        "usage": plan.usage(),
    }


def text_completion(plan: Plan, ident: Identity) -> dict[str, Any]:
    """gpt-oss answers a ``prompt`` body as legacy Completions."""
    return {
        "id": "cmpl-" + hex_id(),
        "object": "text_completion",
        "created": ident.created,
        "model": ident.model,
        "choices": [{"index": 0, "text": plan.text, "finish_reason": plan.finish_reason, "logprobs": None}],
        "usage": plan.usage(),
    }


def responses_object(plan: Plan, ident: Identity) -> dict[str, Any]:
    """gpt-oss answers an ``input`` body as an OpenAI Responses object."""
    output: list[dict[str, Any]]
    if plan.tool_calls:
        output = [
            {"type": "function_call", "id": "fc_" + hex_id(), "call_id": ident.call_id(i), "name": c.name,
             "arguments": c.arguments_json, "status": "completed"}
            for i, c in enumerate(plan.tool_calls)
        ]
    else:
        output = [{
            "type": "message",
            "id": "msg_" + hex_id(),
            "status": "completed",
            "role": "assistant",
            "content": [{"type": "output_text", "text": json.dumps(plan.json_value) if plan.is_json else plan.text,
                         "annotations": []}],
        }]
    # gpt-oss reasons before it answers; the reasoning item comes first, as the real model's does.
    reasoning = {"type": "reasoning", "id": "rs_" + hex_id(), "summary": [],
                 "content": [{"type": "reasoning_text", "text": REASONING_TEXT}]}
    return {
        "id": "resp_" + hex_id(),
        "object": "response",
        "created_at": ident.created,
        "model": ident.model,
        "status": "completed" if plan.finish_reason != "length" else "incomplete",
        "output": [reasoning, *output],
        "usage": {
            "input_tokens": plan.prompt_tokens,
            "output_tokens": plan.completion_tokens,
            "total_tokens": plan.prompt_tokens + plan.completion_tokens,
        },
    }
