"""A Responses request (and the conversation it continues) -> the neutral text request. Pure functions.

Input items are first put in their canonical stored form (every item with an id, message content as
parts), which is also what `input_items` lists and what a chained response is rebuilt from. The
conversation is then mapped to neutral turns, which `textgen.to_workers` sends in the model's own
dialect, exactly as Chat Completions does.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from typing import Any

from openai_compat.errors import InvalidRequestError
from openai_compat.net.fetcher import Fetched
from openai_compat.responses.protocol import CreateResponseRequest, InputItem, NamedFunction
from openai_compat.textgen import request as neutral
from openai_compat.textgen.profiles import TextModelProfile
from openai_compat.textgen.sampling import check_image_count, check_tool_choice, sampling_of

SERVED_ITEMS = ("message", "function_call", "function_call_output", "reasoning")
TEXT_PARTS = ("input_text", "output_text", "text")


def new_id(prefix: str) -> str:
    return f"{prefix}_{secrets.token_hex(16)}"


def check_request(req: CreateResponseRequest, profile: TextModelProfile) -> None:
    """Refuse by name what the gateway cannot serve, before anything is called or stored."""
    for i, tool in enumerate(req.tools or []):
        if tool.type != "function":
            raise InvalidRequestError(
                f"Tools of type {tool.type!r} are not supported: Workers AI models take function tools only.",
                param=f"tools[{i}].type", code="unsupported_parameter",
            )
        if not tool.name:
            raise InvalidRequestError("Function tools need a name.", param=f"tools[{i}].name")
    check_tool_choice(req.tool_choice.name if isinstance(req.tool_choice, NamedFunction) else None,
                      req.tool_choice == "required", (t.name or "" for t in req.tools or []))
    if req.background and req.store is False:
        raise InvalidRequestError("background responses must be stored: remove store=false.", param="background")
    if req.conversation is not None:
        raise InvalidRequestError("Conversations are not supported: chain responses with previous_response_id.",
                                  param="conversation", code="unsupported_parameter")
    if req.prompt is not None:
        raise InvalidRequestError("Stored prompts are not supported: send input and instructions.",
                                  param="prompt", code="unsupported_parameter")
    items = req.input if isinstance(req.input, list) else []
    for i, item in enumerate(items):
        if item.type not in SERVED_ITEMS:
            raise InvalidRequestError(f"Input items of type {item.type!r} are not supported.",
                                      param=f"input[{i}].type", code="unsupported_parameter")
        for j, part in enumerate(item.content if isinstance(item.content, list) else []):
            if part.type not in (*TEXT_PARTS, "input_image", "refusal"):
                raise InvalidRequestError(f"Content parts of type {part.type!r} are not supported.",
                                          param=f"input[{i}].content[{j}].type", code="unsupported_parameter")
            if part.type == "input_image" and not part.image_url:
                raise InvalidRequestError("input_image parts need an image_url (file ids are not supported).",
                                          param=f"input[{i}].content[{j}].image_url")
            if part.type == "input_image" and item.role != "user":
                raise InvalidRequestError("Images are only allowed in user messages.",
                                          param=f"input[{i}].content[{j}]")


def _parts(content: str | list[Any], role: str) -> list[dict[str, Any]]:
    text_type = "output_text" if role == "assistant" else "input_text"
    if isinstance(content, str):
        part: dict[str, Any] = {"type": text_type, "text": content}
        if role == "assistant":
            part["annotations"] = []
        return [part]
    parts = []
    for p in content:
        if p.type == "input_image":
            parts.append({"type": "input_image", "image_url": p.image_url, "detail": p.detail or "auto"})
        elif p.type == "refusal":
            parts.append({"type": "refusal", "refusal": p.refusal or ""})
        else:
            parts.append({"type": p.type if p.type != "text" else text_type, "text": p.text or ""})
    return parts


def _canonical(item: InputItem) -> dict[str, Any]:
    if item.type == "message":
        assert item.role is not None and item.content is not None
        return {"id": item.id or new_id("msg"), "type": "message", "role": item.role, "status": "completed",
                "content": _parts(item.content, item.role)}
    if item.type == "function_call":
        return {"id": item.id or new_id("fc"), "type": "function_call", "call_id": item.call_id, "name": item.name,
                "arguments": item.arguments, "status": "completed"}
    if item.type == "function_call_output":
        output = item.output if isinstance(item.output, str) else "\n".join(
            p.text or "" for p in item.output or [] if p.type in TEXT_PARTS)
        return {"id": item.id or new_id("fco"), "type": "function_call_output", "call_id": item.call_id,
                "output": output, "status": "completed"}
    return {**item.model_dump(exclude_none=True), "id": item.id or new_id("rs")}


def input_items(req: CreateResponseRequest) -> list[dict[str, Any]]:
    """This request's input in its stored form: what `input_items` lists."""
    if isinstance(req.input, str):
        return [{"id": new_id("msg"), "type": "message", "role": "user", "status": "completed",
                 "content": [{"type": "input_text", "text": req.input}]}]
    return [_canonical(item) for item in req.input]


def image_urls(items: list[dict[str, Any]]) -> list[tuple[str, str]]:
    """(param, url) of every image in the conversation, for the caller to load before mapping."""
    found = []
    for i, item in enumerate(items):
        for j, part in enumerate(item.get("content") or [] if item.get("type") == "message" else []):
            if isinstance(part, dict) and part.get("type") == "input_image":
                found.append((f"input[{i}].content[{j}].image_url", str(part.get("image_url"))))
    return found


def check_images(req: CreateResponseRequest, urls: list[tuple[str, str]], profile: TextModelProfile) -> None:
    """Every image of the conversation counts: earlier turns of a chain are sent again."""
    check_image_count(req.model, urls, profile)


def _turns(items: list[dict[str, Any]], images: Mapping[str, Fetched]) -> list[neutral.Turn]:
    turns: list[neutral.Turn] = []
    for item in items:
        kind = item.get("type")
        if kind == "message":
            role = "system" if item["role"] == "developer" else item["role"]
            parts: list[neutral.Part] = []
            for part in item.get("content") or []:
                if part.get("type") == "input_image":
                    parts.append(neutral.ImagePart(images[part["image_url"]]))
                elif part.get("type") in TEXT_PARTS:
                    parts.append(neutral.TextPart(part.get("text") or ""))
                elif part.get("type") == "refusal":
                    parts.append(neutral.TextPart(part.get("refusal") or ""))
            turns.append(neutral.Turn(role=role, parts=tuple(parts)))
        elif kind == "function_call":
            call = neutral.PastToolCall(item["call_id"], item["name"], item["arguments"])
            last = turns[-1] if turns else None
            if last is not None and last.role == "assistant" and (last.tool_calls or not last.text):
                turns[-1] = neutral.Turn("assistant", last.parts, (*last.tool_calls, call),
                                         content_is_null=not last.text)
            else:
                turns.append(neutral.Turn("assistant", (), (call,), content_is_null=True))
        elif kind == "function_call_output":
            turns.append(neutral.Turn("tool", (neutral.TextPart(str(item.get("output", ""))),),
                                      tool_call_id=item["call_id"]))
        # reasoning items passed back carry the model's earlier thinking: models here take none as input
    return turns


def text_request(
    req: CreateResponseRequest,
    conversation: list[dict[str, Any]],
    images: Mapping[str, Fetched],
    *,
    max_tokens: int,
    stream: bool,
) -> neutral.TextRequest:
    """`conversation`: the previous responses' items (outputs included), then this request's input."""
    turns = _turns(conversation, images)
    if req.instructions:  # not carried over a previous_response_id chain, as OpenAI specifies
        turns.insert(0, neutral.Turn("system", (neutral.TextPart(req.instructions),)))
    fmt = req.text.format if req.text is not None else None
    json_format = None
    if fmt is not None and fmt.type != "text":
        json_format = neutral.JsonFormat(fmt.type, fmt.name, fmt.schema_, fmt.strict, fmt.description)
    choice = req.tool_choice
    return neutral.TextRequest(
        max_tokens=max_tokens,
        stream=stream,
        turns=tuple(turns),
        sampling=sampling_of(req),
        tools=tuple(neutral.FunctionSpec(t.name or "", t.description, t.parameters, t.strict) for t in req.tools or []),
        tool_choice=None if isinstance(choice, NamedFunction) else choice,
        forced_tool=choice.name if isinstance(choice, NamedFunction) else None,
        parallel_tool_calls=req.parallel_tool_calls,
        json_format=json_format,
        reasoning_effort=req.reasoning.effort if req.reasoning is not None else None,
    )
