"""Workers AI text output, both dialects, read into one dialect-free shape.

Classic models answer `{response, tool_calls, usage}` with no finish reason and tool arguments as
objects; OpenAI-style models answer a `chat.completion`. Everything downstream (Chat, Completions)
formats a `Generation`, so neither endpoint knows which dialect ran.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass, field
from typing import Any

from openai_compat.core.metering import Usage, estimate_tokens
from openai_compat.errors import UpstreamError
from openai_compat.textgen.stop import truncate_at_stop


def call_id(upstream_id: Any = None) -> str:
    """OpenAI-style `call_...` ids: kept when Workers AI sent one, minted otherwise (classic models
    send none, some send `chatcmpl-tool-...`)."""
    if isinstance(upstream_id, str) and upstream_id.startswith("call_"):
        return upstream_id
    return f"call_{secrets.token_hex(12)}"


def chat_tool_call(call_id: str, name: str, arguments: str) -> dict[str, Any]:
    """A tool call in Chat Completions' shape, which OpenAI-style Workers AI models also take."""
    return {"id": call_id, "type": "function", "function": {"name": name, "arguments": arguments}}


def usage_body(usage: Usage) -> dict[str, int]:
    """Chat's and Completions' `usage` object."""
    return {
        "prompt_tokens": usage.prompt_tokens,
        "completion_tokens": usage.completion_tokens,
        "total_tokens": usage.total_tokens,
    }


@dataclass
class ToolCall:
    id: str
    name: str
    arguments: str
    """A JSON string, as OpenAI clients expect, whatever Workers AI sent."""


@dataclass
class Generation:
    content: str | None
    tool_calls: list[ToolCall] = field(default_factory=list)
    finish_reason: str = "stop"
    usage: Usage | None = None
    reasoning: str | None = None


def combine_usage(usages: list[Usage], choices_per_prompt: int) -> Usage:
    """Usage of a request's choices, in choice order. The n choices of one prompt count its
    prompt once, as OpenAI bills it; their completion tokens add up."""
    prompt = sum(u.prompt_tokens for u in usages[::choices_per_prompt])
    completion = sum(u.completion_tokens for u in usages)
    return Usage(prompt, completion, any(u.estimated for u in usages))


def arguments_json(arguments: Any) -> str:
    if arguments is None:
        return "{}"
    if isinstance(arguments, str):
        return arguments or "{}"
    return json.dumps(arguments, ensure_ascii=False, separators=(",", ":"))


def read_usage(raw: Any) -> Usage | None:
    if not isinstance(raw, dict):
        return None
    prompt, completion = raw.get("prompt_tokens"), raw.get("completion_tokens")
    if not isinstance(prompt, int | float) or not isinstance(completion, int | float):
        return None
    return Usage(int(prompt), int(completion))


def _text(response: Any) -> str | None:
    """Classic `response` is usually a string, an object in JSON mode, sometimes a number."""
    if response is None:
        return None
    if isinstance(response, str):
        return response
    return json.dumps(response, ensure_ascii=False)


def _classic(result: dict[str, Any], max_tokens: int | None) -> Generation:
    calls = [
        ToolCall(call_id(c.get("id")), str(c.get("name", "")), arguments_json(c.get("arguments")))
        for c in result.get("tool_calls") or []
        if isinstance(c, dict) and c.get("name")
    ]
    usage = read_usage(result.get("usage"))
    finish = result.get("finish_reason")
    if calls:
        finish = "tool_calls"
    elif finish not in ("stop", "length"):
        hit_limit = usage is not None and max_tokens is not None and usage.completion_tokens >= max_tokens
        finish = "length" if hit_limit else "stop"
    return Generation(_text(result.get("response")), calls, finish, usage)


def _openai(result: dict[str, Any]) -> Generation:
    choices = result.get("choices")
    if not isinstance(choices, list) or not choices or not isinstance(choices[0], dict):
        raise UpstreamError("Workers AI answered a chat completion without choices.")
    if "text" in choices[0] and "message" not in choices[0]:  # a legacy text_completion (prompt input)
        message = {"content": choices[0].get("text")}
    else:
        message = choices[0].get("message") or {}
    if not isinstance(message, dict):
        raise UpstreamError("Workers AI answered a chat completion with a malformed message.")
    calls = []
    for call in message.get("tool_calls") or []:
        function = call.get("function") if isinstance(call, dict) else None
        if isinstance(function, dict):
            calls.append(ToolCall(call_id(call.get("id")), str(function.get("name", "")),
                                  arguments_json(function.get("arguments"))))
    finish = choices[0].get("finish_reason") or ("tool_calls" if calls else "stop")
    reasoning = message.get("reasoning_content") or message.get("reasoning")
    return Generation(_text(message.get("content")), calls, finish, read_usage(result.get("usage")), reasoning)


def _responses(result: dict[str, Any]) -> Generation:
    """gpt-oss answering Responses input: `output` items (reasoning, message, function_call)."""
    text: list[str] = []
    reasoning: list[str] = []
    calls: list[ToolCall] = []
    for item in result.get("output") or []:
        if not isinstance(item, dict):
            continue
        kind = item.get("type")
        if kind == "message":
            text += [str(p.get("text", "")) for p in item.get("content") or [] if isinstance(p, dict)
                     and p.get("type") == "output_text"]
        elif kind == "reasoning":
            parts = [*(item.get("content") or []), *(item.get("summary") or [])]
            reasoning += [str(p.get("text", "")) for p in parts if isinstance(p, dict) and p.get("text")]
        elif kind == "function_call" and item.get("name"):
            arguments = arguments_json(item.get("arguments"))
            calls.append(ToolCall(call_id(item.get("call_id")), str(item["name"]), arguments))
    usage = result.get("usage")
    read = read_usage({"prompt_tokens": usage.get("input_tokens"), "completion_tokens": usage.get("output_tokens")}
                      if isinstance(usage, dict) else None)
    finish = "length" if result.get("status") == "incomplete" else ("tool_calls" if calls else "stop")
    return Generation("".join(text) if text or not calls else None, calls, finish, read, "\n".join(reasoning) or None)


def generation_from_result(result: Any, *, max_tokens: int | None) -> Generation:
    if isinstance(result, dict) and "choices" in result:
        return _openai(result)
    if isinstance(result, dict) and isinstance(result.get("output"), list):
        return _responses(result)
    if isinstance(result, dict):
        return _classic(result, max_tokens)
    raise UpstreamError("Workers AI answered in a shape the gateway does not recognise.")


def finish_generation(
    generation: Generation,
    *,
    stops: list[str],
    parallel_tool_calls: bool,
    prompt_estimate: int,
) -> Generation:
    """Apply what the gateway emulates: stop sequences, single tool calls, estimated usage."""
    if stops and generation.content:
        generation.content, found = truncate_at_stop(generation.content, stops)
        if found:
            generation.finish_reason = "stop"
    if not parallel_tool_calls and len(generation.tool_calls) > 1:
        generation.tool_calls = generation.tool_calls[:1]
    if generation.tool_calls and generation.finish_reason != "length":
        generation.finish_reason = "tool_calls"
    if generation.usage is None:
        produced = (generation.content or "") + "".join(c.arguments for c in generation.tool_calls)
        generation.usage = Usage(prompt_estimate, estimate_tokens(produced), estimated=True)
    return generation
