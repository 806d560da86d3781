"""A neutral `TextRequest` -> the input of a Workers AI text model, in the model's dialect. Pure.

Classic models take string message content, tools with object schemas that require `type` and
`description`, a bare JSON schema for JSON mode, no `stop` and no `tool_choice`; OpenAI-style models
take a Chat Completions body. Vision models take images as a top-level byte array or as data-URI parts.
"""

from __future__ import annotations

import json
from typing import Any

from openai_compat.textgen.output import chat_tool_call
from openai_compat.textgen.profiles import Dialect, TextModelProfile
from openai_compat.textgen.request import FunctionSpec, ImagePart, Sampling, TextRequest, Turn

WORKERS_AI_MAX_SEED = 9_999_999_999
CLASSIC_MIN_TOP_P = 0.001


def workers_seed(seed: int) -> int:
    """Workers AI takes 1..9999999999; OpenAI any int64. Fold so equal seeds stay equal."""
    return seed if 1 <= seed <= WORKERS_AI_MAX_SEED else seed % WORKERS_AI_MAX_SEED + 1


def sampling_input(sampling: Sampling, dialect: Dialect) -> dict[str, Any]:
    """Sampling fields in the target dialect's ranges."""
    out: dict[str, Any] = {}
    if sampling.temperature is not None:
        out["temperature"] = sampling.temperature
    if sampling.top_p is not None:
        out["top_p"] = sampling.top_p if dialect == "openai" else max(CLASSIC_MIN_TOP_P, sampling.top_p)
    if sampling.seed is not None:
        out["seed"] = workers_seed(sampling.seed)
    for name in ("presence_penalty", "frequency_penalty"):
        value = getattr(sampling, name)
        if value is not None:
            # OpenAI allows -2..2; most classic models take 0..2, and a negative value (encourage
            # repetition) is rarely meant: it becomes "no penalty" rather than an upstream 400.
            out[name] = value if dialect == "openai" else max(0.0, value)
    for name in ("top_k", "repetition_penalty", "lora", "raw"):
        value = getattr(sampling, name)
        if value is not None:
            out[name] = value
    return out


def _data_uri_parts(turn: Turn) -> str | list[dict[str, Any]]:
    """Content as data-URI parts where the turn holds an image, else a plain string."""
    if not turn.images:
        return turn.text
    return [
        {"type": "image_url", "image_url": {"url": part.image.data_uri()}}
        if isinstance(part, ImagePart) else {"type": "text", "text": part.text}
        for part in turn.parts
    ]


MAX_ARGUMENT_DEPTH = 64


def _depth(value: Any) -> int:
    deepest, pending = 0, [(value, 1)]
    while pending:
        current, level = pending.pop()
        deepest = max(deepest, level)
        if isinstance(current, dict):
            pending += [(item, level + 1) for item in current.values()]
        elif isinstance(current, list):
            pending += [(item, level + 1) for item in current]
    return deepest


def _call_object(name: str, arguments: str) -> dict[str, Any]:
    """Classic models take a past call's arguments as an object; arguments that are not JSON (or
    nest deeper than any real call, which could not be re-encoded) are passed on as the string sent."""
    try:
        parsed = json.loads(arguments) if arguments else {}
    except (ValueError, RecursionError):
        return {"name": name, "arguments": arguments}
    return {"name": name, "arguments": parsed if _depth(parsed) <= MAX_ARGUMENT_DEPTH else arguments}


def _classic_message(turn: Turn, profile: TextModelProfile) -> dict[str, Any]:
    if turn.role == "assistant" and turn.tool_calls:
        # Classic message content is a string: the calls go in as the JSON the model itself emits,
        # with arguments as objects (OpenAI sends them as JSON strings).
        calls = [_call_object(c.name, c.arguments) for c in turn.tool_calls]
        text = "\n".join(json.dumps(c, ensure_ascii=False) for c in calls)
        return {"role": "assistant", "content": f"{turn.text}\n{text}" if turn.text else text}
    if turn.role == "user" and profile.vision == "parts":
        return {"role": "user", "content": _data_uri_parts(turn)}
    return {"role": turn.role, "content": turn.text}


def _openai_message(turn: Turn) -> dict[str, Any]:
    body: dict[str, Any] = {"role": turn.role}
    if turn.role == "user":
        body["content"] = _data_uri_parts(turn)
    else:
        body["content"] = None if turn.content_is_null else turn.text
    if turn.tool_calls:
        body["tool_calls"] = [chat_tool_call(c.id, c.name, c.arguments) for c in turn.tool_calls]
    if turn.tool_call_id:
        body["tool_call_id"] = turn.tool_call_id
    if turn.name:
        body["name"] = turn.name
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


def _offered_tools(request: TextRequest) -> list[FunctionSpec]:
    if request.tool_choice == "none":
        return []
    if request.forced_tool is not None:
        return [t for t in request.tools if t.name == request.forced_tool]
    return list(request.tools)


def _tools(request: TextRequest, dialect: Dialect) -> list[dict[str, Any]]:
    return [
        {
            "type": "function",
            "function": {
                "name": t.name,
                "description": t.description or "",
                "parameters": classic_parameters(t.parameters) if dialect == "classic" else (
                    t.parameters or {"type": "object", "properties": {}}
                ),
            },
        }
        for t in _offered_tools(request)
    ]


def _tool_choice_instruction(request: TextRequest) -> str | None:
    """Classic models have no `tool_choice`: `required` and a named function are asked for in words
    (the named function is also the only tool offered)."""
    if request.forced_tool is not None:
        return f"You must answer by calling the tool `{request.forced_tool}`."
    if request.tool_choice == "required":
        return "You must answer by calling one of the provided tools."
    return None


def _tool_fields(request: TextRequest, out: dict[str, Any], tools: list[dict[str, Any]],
                 forced_choice: dict[str, Any]) -> None:
    """`tools`, `tool_choice` (`forced_choice` in the dialect's own shape when a function is named)
    and `parallel_tool_calls`, for the dialects that take them."""
    if not tools:
        return
    out["tools"] = tools
    if request.forced_tool is not None:
        out["tool_choice"] = forced_choice
    elif request.tool_choice is not None:
        out["tool_choice"] = request.tool_choice
    if request.parallel_tool_calls is not None:
        out["parallel_tool_calls"] = request.parallel_tool_calls


def _openai_input(request: TextRequest, out: dict[str, Any]) -> dict[str, Any]:
    if request.prompt is not None:
        out["messages"] = [{"role": "user", "content": request.prompt}]
    else:
        out["messages"] = [_openai_message(t) for t in request.turns]
    out["max_completion_tokens"] = request.max_tokens
    if request.stop is not None:
        out["stop"] = request.stop
    _tool_fields(request, out, _tools(request, "openai"),
                  {"type": "function", "function": {"name": request.forced_tool}})
    fmt = request.json_format
    if fmt is not None:
        if fmt.kind == "json_schema":
            wrapped = {"name": fmt.name or "response", "description": fmt.description, "schema": fmt.schema,
                       "strict": fmt.strict}
            out["response_format"] = {
                "type": "json_schema", "json_schema": {k: v for k, v in wrapped.items() if v is not None}
            }
        else:
            out["response_format"] = {"type": "json_object"}
    if request.reasoning_effort is not None:
        out["reasoning_effort"] = request.reasoning_effort
    if request.template_kwargs is not None:
        out["chat_template_kwargs"] = request.template_kwargs
    if request.stream:
        out["stream"] = True
        out["stream_options"] = {"include_usage": True}
    return out


def _classic_input(request: TextRequest, profile: TextModelProfile, out: dict[str, Any]) -> dict[str, Any]:
    if request.prompt is not None:
        out["prompt"] = request.prompt
    else:
        out["messages"] = [_classic_message(t, profile) for t in request.turns]
    out["max_tokens"] = request.max_tokens
    tools = _tools(request, "classic")
    if tools and "messages" in out:
        out["tools"] = tools
        instruction = _tool_choice_instruction(request)
        if instruction:
            out["messages"].insert(0, {"role": "system", "content": instruction})
    images = request.images
    if profile.vision == "bytes" and images:
        out["image"] = list(images[0].image.data)
    fmt = request.json_format
    if fmt is not None:
        out["response_format"] = (
            {"type": "json_schema", "json_schema": fmt.schema or {"type": "object"}}
            if fmt.kind == "json_schema" else {"type": "json_object"}
        )
    if request.stream and fmt is None:  # Workers AI JSON mode does not stream; the reply is re-streamed
        out["stream"] = True
    return out


def _responses_item(turn: Turn) -> list[dict[str, Any]]:
    if turn.role == "tool":
        return [{"type": "function_call_output", "call_id": turn.tool_call_id or "", "output": turn.text}]
    items: list[dict[str, Any]] = []
    if turn.role != "assistant":
        parts = [
            {"type": "input_image", "image_url": p.image.data_uri(), "detail": "auto"}
            if isinstance(p, ImagePart) else {"type": "input_text", "text": p.text}
            for p in turn.parts
        ]
        items.append({"role": turn.role, "content": parts if turn.images else turn.text})
        return items
    if turn.text:
        items.append({"role": "assistant", "content": turn.text})
    items += [{"type": "function_call", "call_id": c.id, "name": c.name, "arguments": c.arguments}
              for c in turn.tool_calls]
    return items


def _responses_input(request: TextRequest, out: dict[str, Any]) -> dict[str, Any]:
    """Responses-style input, which gpt-oss takes natively (and answers with output items)."""
    out.pop("seed", None)  # not part of the Responses body
    if request.prompt is not None:
        out["input"] = request.prompt
    else:
        out["input"] = [item for turn in request.turns for item in _responses_item(turn)]
    out["max_output_tokens"] = request.max_tokens
    if request.reasoning_effort in ("low", "medium", "high"):
        out["reasoning"] = {"effort": request.reasoning_effort}
    flat = [{"type": "function", "name": t.name, "description": t.description or "",
             "parameters": t.parameters or {"type": "object", "properties": {}}} for t in _offered_tools(request)]
    _tool_fields(request, out, flat, {"type": "function", "name": request.forced_tool})
    fmt = request.json_format
    if fmt is not None:
        spec: dict[str, Any] = {"type": fmt.kind}
        if fmt.kind == "json_schema":
            spec.update(name=fmt.name or "response", schema=fmt.schema or {"type": "object"})
            if fmt.strict is not None:
                spec["strict"] = fmt.strict
        out["text"] = {"format": spec}
    return out


def workers_input(request: TextRequest, profile: TextModelProfile, *, prefer_responses: bool = False) -> dict[str, Any]:
    """The model's input. `prefer_responses`: a Responses API request, sent as Responses input to the
    models that take it (they never stream on /ai/run: the reply is re-streamed by the gateway)."""
    out = sampling_input(request.sampling, profile.dialect)
    if prefer_responses and profile.responses_input:
        return _responses_input(request, out)
    if profile.dialect == "openai":
        return _openai_input(request, out)
    return _classic_input(request, profile, out)

