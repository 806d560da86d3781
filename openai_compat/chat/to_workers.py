"""OpenAI chat request -> Workers AI model input. Pure functions: no I/O, no Flask.

Images must already be loaded (the caller fetches them), so the mapping can be tested alone.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from openai_compat.chat.protocol import ChatCompletionRequest, ImagePart, Message, NamedToolChoice, OtherPart
from openai_compat.errors import InvalidRequestError
from openai_compat.image_input import ImageData
from openai_compat.textgen.profiles import TextModelProfile
from openai_compat.textgen.sampling import common_refusals, refuse, sampling_input


def check_supported(req: ChatCompletionRequest) -> None:
    """Refuse, by name, every field Workers AI cannot serve rather than silently dropping it."""
    refusals: list[tuple[str, bool, str]] = [
        ("logprobs", bool(req.logprobs), "Workers AI does not return token log probabilities."),
        ("top_logprobs", bool(req.top_logprobs), "Workers AI does not return token log probabilities."),
        ("modalities", bool(req.modalities) and set(req.modalities or []) != {"text"},
         "Only text output is supported."),
        ("audio", req.audio is not None, "Audio output is not supported."),
        ("prediction", req.prediction is not None, "Predicted outputs are not supported."),
        ("web_search_options", req.web_search_options is not None, "Web search is not supported."),
        ("functions", req.functions is not None, "The deprecated functions parameter is not supported: use tools."),
        ("function_call", req.function_call is not None,
         "The deprecated function_call parameter is not supported: use tool_choice."),
        *common_refusals(req),
    ]
    refuse(refusals)
    if isinstance(req.tool_choice, NamedToolChoice):
        names = {t.function.name for t in req.tools or []}
        if req.tool_choice.function.name not in names:
            raise InvalidRequestError(
                f"tool_choice names {req.tool_choice.function.name!r}, which is not in tools.", param="tool_choice"
            )
    elif req.tool_choice == "required" and not req.tools:
        raise InvalidRequestError("tool_choice 'required' needs tools.", param="tool_choice")


def image_urls(req: ChatCompletionRequest) -> list[tuple[str, str]]:
    """(param, url) of every image part, for the caller to load before mapping."""
    found = []
    for i, message in enumerate(req.messages):
        if isinstance(message.content, list):
            for j, part in enumerate(message.content):
                if isinstance(part, ImagePart):
                    found.append((f"messages[{i}].content[{j}].image_url.url", part.image_url.url))
    return found


def check_images(req: ChatCompletionRequest, profile: TextModelProfile, model: str) -> None:
    urls = image_urls(req)
    for param, _ in urls:
        index = int(param.split("]")[0].removeprefix("messages["))
        if req.messages[index].role != "user":
            raise InvalidRequestError("Images are only allowed in user messages.", param=param)
    if urls and profile.vision is None:
        raise InvalidRequestError(
            f"The model `{model}` does not accept images; use a vision model such as "
            "@cf/meta/llama-4-scout-17b-16e-instruct.",
            param=urls[0][0],
            code="image_not_supported",
        )
    if len(urls) > profile.max_images:
        raise InvalidRequestError(
            f"The model `{model}` accepts at most {profile.max_images} image(s) per request.", param=urls[-1][0]
        )


def text_of(message: Message, index: int) -> str:
    content = message.content
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    texts = []
    for j, part in enumerate(content):
        if isinstance(part, OtherPart):
            raise InvalidRequestError(
                f"Content parts of type {part.type!r} are not supported.", param=f"messages[{index}].content[{j}]"
            )
        if not isinstance(part, ImagePart):
            texts.append(part.text)
    return "\n".join(texts)


def _parts(message: Message, index: int, images: Mapping[str, ImageData]) -> str | list[dict[str, Any]]:
    """Content as data-URI parts where the message holds an image, else a plain string."""
    if not isinstance(message.content, list) or not any(isinstance(p, ImagePart) for p in message.content):
        return text_of(message, index)
    parts: list[dict[str, Any]] = []
    for j, part in enumerate(message.content):
        if isinstance(part, ImagePart):
            parts.append({"type": "image_url", "image_url": {"url": images[part.image_url.url].data_uri()}})
        elif isinstance(part, OtherPart):
            raise InvalidRequestError(
                f"Content parts of type {part.type!r} are not supported.", param=f"messages[{index}].content[{j}]"
            )
        else:
            parts.append({"type": "text", "text": part.text})
    return parts


def _classic_message(message: Message, index: int, profile: TextModelProfile,
                     images: Mapping[str, ImageData]) -> dict[str, Any]:
    role = "system" if message.role == "developer" else message.role
    if role == "function":
        role = "tool"
    if role == "assistant" and message.tool_calls:
        # Classic message content is a string: the calls go in as the JSON the model itself emits,
        # with arguments as objects (OpenAI sends them as JSON strings).
        calls = [_call_object(c.function.name, c.function.arguments) for c in message.tool_calls]
        text = "\n".join(json.dumps(c, ensure_ascii=False) for c in calls)
        prefix = text_of(message, index)
        return {"role": "assistant", "content": f"{prefix}\n{text}" if prefix else text}
    if role == "user" and profile.vision == "parts":
        return {"role": role, "content": _parts(message, index, images)}
    return {"role": role, "content": text_of(message, index)}


def _call_object(name: str, arguments: str) -> dict[str, Any]:
    try:
        parsed = json.loads(arguments) if arguments else {}
    except json.JSONDecodeError:
        parsed = arguments
    return {"name": name, "arguments": parsed}


def _openai_message(message: Message, index: int, images: Mapping[str, ImageData]) -> dict[str, Any]:
    body: dict[str, Any] = {"role": "system" if message.role == "developer" else message.role}
    if message.role == "function":
        body["role"] = "tool"
    body["content"] = _parts(message, index, images) if message.role == "user" else (
        text_of(message, index) if message.content is not None else None
    )
    if message.tool_calls:
        body["tool_calls"] = [
            {"id": c.id, "type": "function", "function": {"name": c.function.name, "arguments": c.function.arguments}}
            for c in message.tool_calls
        ]
    if message.tool_call_id:
        body["tool_call_id"] = message.tool_call_id
    if message.name and message.role != "function":
        body["name"] = message.name
    return body


def classic_parameters(parameters: dict[str, Any] | None) -> dict[str, Any]:
    """The classic schema requires `type` and `description` on every top-level property, which
    OpenAI clients often leave out (pydantic-generated schemas, `anyOf` unions)."""
    parameters = dict(parameters or {})
    parameters.setdefault("type", "object")
    properties = {}
    given = parameters.get("properties")
    for name, spec in (given if isinstance(given, dict) else {}).items():
        spec = dict(spec) if isinstance(spec, dict) else {}
        if not isinstance(spec.get("type"), str):
            spec["type"] = "string" if "type" not in spec and "enum" not in spec else _first_type(spec)
        spec.setdefault("description", str(spec.get("title") or name))
        properties[name] = spec
    parameters["properties"] = properties
    return parameters


def _first_type(spec: dict[str, Any]) -> str:
    declared = spec.get("type")
    if isinstance(declared, list):
        return next((t for t in declared if t != "null"), "string")
    values = spec.get("enum") or []
    return "number" if values and all(isinstance(v, int | float) for v in values) else "string"


def _tools(req: ChatCompletionRequest, dialect: str) -> list[dict[str, Any]] | None:
    if not req.tools or req.tool_choice == "none":
        return None
    tools = req.tools
    if isinstance(req.tool_choice, NamedToolChoice):
        tools = [t for t in tools if t.function.name == req.tool_choice.function.name]
    return [
        {
            "type": "function",
            "function": {
                "name": t.function.name,
                "description": t.function.description or "",
                "parameters": classic_parameters(t.function.parameters) if dialect == "classic" else (
                    t.function.parameters or {"type": "object", "properties": {}}
                ),
            },
        }
        for t in tools
    ]


def _tool_choice_instruction(req: ChatCompletionRequest) -> str | None:
    """Classic models have no `tool_choice`: `required` and a named function are asked for in words
    (the named function is also the only tool offered)."""
    if isinstance(req.tool_choice, NamedToolChoice):
        return f"You must answer by calling the tool `{req.tool_choice.function.name}`."
    if req.tool_choice == "required":
        return "You must answer by calling one of the provided tools."
    return None


def chat_input(
    req: ChatCompletionRequest,
    profile: TextModelProfile,
    images: Mapping[str, ImageData],
    *,
    max_tokens: int,
    stream: bool,
) -> dict[str, Any]:
    out = sampling_input(req, dialect=profile.dialect)
    tools = _tools(req, profile.dialect)
    if profile.dialect == "openai":
        out["messages"] = [_openai_message(m, i, images) for i, m in enumerate(req.messages)]
        out["max_completion_tokens"] = max_tokens
        if req.stop is not None:
            out["stop"] = req.stop
        if tools:
            out["tools"] = tools
            if req.tool_choice is not None:
                out["tool_choice"] = req.tool_choice if isinstance(req.tool_choice, str) else (
                    req.tool_choice.model_dump()
                )
            if req.parallel_tool_calls is not None:
                out["parallel_tool_calls"] = req.parallel_tool_calls
        if req.response_format is not None and req.response_format.type != "text":
            out["response_format"] = req.response_format.model_dump(by_alias=True, exclude_none=True)
        if req.reasoning_effort is not None:
            out["reasoning_effort"] = req.reasoning_effort
        extra = (req.model_extra or {}).get("chat_template_kwargs")
        if extra is not None:
            out["chat_template_kwargs"] = extra
        if stream:
            out["stream"] = True
            out["stream_options"] = {"include_usage": True}
        return out
    out["messages"] = [_classic_message(m, i, profile, images) for i, m in enumerate(req.messages)]
    out["max_tokens"] = max_tokens
    if tools:
        out["tools"] = tools
        instruction = _tool_choice_instruction(req)
        if instruction:
            out["messages"].insert(0, {"role": "system", "content": instruction})
    if profile.vision == "bytes" and images:
        out["image"] = list(next(iter(images.values())).data)
    json_mode = req.response_format is not None and req.response_format.type != "text"
    if json_mode:
        schema = req.response_format.json_schema.schema_ if req.response_format.json_schema else None
        out["response_format"] = (
            {"type": "json_schema", "json_schema": schema or {"type": "object"}}
            if req.response_format.type == "json_schema" else {"type": "json_object"}
        )
    if stream and not json_mode:  # Workers AI JSON mode does not stream; the reply is re-streamed
        out["stream"] = True
    return out
