"""OpenAI chat request -> the neutral text request that `textgen.to_workers` maps to Workers AI.

Pure functions: no I/O, no Flask. Images must already be loaded (the caller fetches them by the
URLs `image_urls` lists), so the mapping can be tested alone.
"""

from __future__ import annotations

from collections.abc import Mapping

from openai_compat.chat.protocol import ChatCompletionRequest, ImagePart, Message, NamedToolChoice, OtherPart
from openai_compat.errors import InvalidRequestError
from openai_compat.net.fetcher import Fetched
from openai_compat.textgen import request as neutral
from openai_compat.textgen.profiles import TextModelProfile
from openai_compat.textgen.sampling import check_image_count, check_tool_choice, common_refusals, refuse, sampling_of


def image_urls(req: ChatCompletionRequest) -> list[tuple[str, str]]:
    """(param, url) of every image part, for the caller to load before mapping."""
    found = []
    for i, message in enumerate(req.messages):
        if isinstance(message.content, list):
            for j, part in enumerate(message.content):
                if isinstance(part, ImagePart):
                    found.append((f"messages[{i}].content[{j}].image_url.url", part.image_url.url))
    return found


def check_request(req: ChatCompletionRequest, profile: TextModelProfile) -> None:
    """Refuse, by name, every field Workers AI cannot serve rather than silently dropping it, and
    images the model cannot take."""
    refuse([
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
    ])
    check_tool_choice(req.tool_choice.function.name if isinstance(req.tool_choice, NamedToolChoice) else None,
                      req.tool_choice == "required", (t.function.name for t in req.tools or []))
    for i, message in enumerate(req.messages):
        for j, part in enumerate(message.content if isinstance(message.content, list) else []):
            if isinstance(part, OtherPart):
                raise InvalidRequestError(
                    f"Content parts of type {part.type!r} are not supported.", param=f"messages[{i}].content[{j}]"
                )
    _check_images(req, profile)


def _check_images(req: ChatCompletionRequest, profile: TextModelProfile) -> None:
    urls = image_urls(req)
    for param, _ in urls:
        index = int(param.split("]")[0].removeprefix("messages["))
        if req.messages[index].role != "user":
            raise InvalidRequestError("Images are only allowed in user messages.", param=param)
    check_image_count(req.model, urls, profile)


def _turn(message: Message, images: Mapping[str, Fetched]) -> neutral.Turn:
    role: neutral.Role = "system" if message.role == "developer" else (
        "tool" if message.role == "function" else message.role
    )
    content = message.content
    if content is None:
        parts: tuple[neutral.Part, ...] = ()
    elif isinstance(content, str):
        parts = (neutral.TextPart(content),)
    else:
        parts = tuple(
            neutral.ImagePart(images[p.image_url.url]) if isinstance(p, ImagePart) else neutral.TextPart(p.text)
            for p in content
            if not isinstance(p, OtherPart)
        )
    return neutral.Turn(
        role=role,
        parts=parts,
        tool_calls=tuple(
            neutral.PastToolCall(c.id, c.function.name, c.function.arguments) for c in message.tool_calls or []
        ),
        tool_call_id=message.tool_call_id,
        name=message.name if message.role != "function" else None,
        content_is_null=content is None,
    )


def _json_format(req: ChatCompletionRequest) -> neutral.JsonFormat | None:
    fmt = req.response_format
    if fmt is None or fmt.type == "text":
        return None
    if fmt.type == "json_object" or fmt.json_schema is None:
        return neutral.JsonFormat("json_object")
    spec = fmt.json_schema
    return neutral.JsonFormat("json_schema", spec.name, spec.schema_, spec.strict, spec.description)


def text_request(req: ChatCompletionRequest, images: Mapping[str, Fetched], *, max_tokens: int) -> neutral.TextRequest:
    tool_choice = req.tool_choice
    return neutral.TextRequest(
        max_tokens=max_tokens,
        stream=bool(req.stream),
        turns=tuple(_turn(m, images) for m in req.messages),
        sampling=sampling_of(req),
        stop=req.stop,
        tools=tuple(
            neutral.FunctionSpec(t.function.name, t.function.description, t.function.parameters, t.function.strict)
            for t in req.tools or []
        ),
        tool_choice=None if isinstance(tool_choice, NamedToolChoice) else tool_choice,
        forced_tool=tool_choice.function.name if isinstance(tool_choice, NamedToolChoice) else None,
        parallel_tool_calls=req.parallel_tool_calls,
        json_format=_json_format(req),
        reasoning_effort=req.reasoning_effort,
        template_kwargs=req.chat_template_kwargs,
    )
