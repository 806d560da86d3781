"""Deterministic "generation": what a text model says, as data, before any wire format.

Tests of the gateway assert exact replies, so nothing here is random:
- tokens are ``re.findall(r"\\s*\\S+", text)`` pieces (leading whitespace kept);
- prompt_tokens counts ``\\S+`` words over every prompt/message text;
- the reply is ``"Hello! You said: <last user text>"``, or ``"I see an image of
  N bytes."`` when the request carried an image, or ``"The tool returned:
  <content>"`` after a tool message;
- tool calls and JSON-mode objects are derived from the offered schemas;
- unless a rule of the emulator's script fits the request (:mod:`.scripting`).
The wire modules (:mod:`.formats`, :mod:`.streaming`) only reshape a :class:`Plan`.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote_to_bytes

from .envelope import ApiError, bad_input
from .scripting import Script, decide, offered_tool_names

TOKEN_RE = re.compile(r"\s*\S+")
WORD_RE = re.compile(r"\S+")


def tokenize(text: str) -> list[str]:
    return TOKEN_RE.findall(text)


def count_words(text: str) -> int:
    return len(WORD_RE.findall(text))


@dataclass(frozen=True)
class ToolCall:
    name: str
    arguments: dict[str, Any]

    @property
    def arguments_json(self) -> str:
        return json.dumps(self.arguments)


@dataclass
class Plan:
    """Everything a response needs, independent of its wire shape."""

    tokens: list[str] = field(default_factory=list)
    tool_calls: list[ToolCall] = field(default_factory=list)
    json_value: Any = None
    is_json: bool = False
    finish_reason: str = "stop"
    prompt_tokens: int = 0
    completion_tokens: int = 0

    @property
    def text(self) -> str:
        return "".join(self.tokens)

    def usage(self) -> dict[str, int]:
        return {
            "prompt_tokens": self.prompt_tokens,
            "completion_tokens": self.completion_tokens,
            "total_tokens": self.prompt_tokens + self.completion_tokens,
        }


@dataclass
class Conversation:
    """The parts of a request body that drive the reply, whatever its dialect."""

    texts: list[str]
    last_role: str
    last_user_text: str
    last_text: str
    image_bytes: int | None


def content_text(content: Any) -> str:
    """Text of a message content: a string, one part, or a list of parts."""
    if isinstance(content, str):
        return content
    if isinstance(content, dict):
        content = [content]
    if isinstance(content, list):
        parts = [p.get("text") for p in content if isinstance(p, dict)]
        return " ".join(p for p in parts if isinstance(p, str))
    return ""


def data_uri_size(url: str) -> int:
    """Decoded size of a ``data:`` URI; http(s) URLs are refused like the real model."""
    if url.startswith(("http://", "https://")):
        raise bad_input("HTTP URL will not be accepted")
    if not url.startswith("data:") or "," not in url:
        raise bad_input("image_url must be a data: URI")
    meta, payload = url.split(",", 1)
    if meta.endswith(";base64"):
        try:
            return len(base64.b64decode(payload, validate=True))
        except (binascii.Error, ValueError) as exc:
            raise ApiError(5004, what="invalid base64 in data: URI") from exc
    return len(unquote_to_bytes(payload))


def _image_parts_size(content: Any) -> int | None:
    parts = [content] if isinstance(content, dict) else content
    if not isinstance(parts, list):
        return None
    total: int | None = None
    for part in parts:
        if not isinstance(part, dict):
            continue
        image = part.get("image_url")
        url = image.get("url") if isinstance(image, dict) else image
        if isinstance(url, str):
            total = (total or 0) + data_uri_size(url)
    return total


def _top_level_image_size(image: Any) -> int | None:
    """llama-3.2-vision's ``image``: a byte array or a (base64 or binary) string."""
    if isinstance(image, list):
        return len(image)
    if isinstance(image, str):
        try:
            return len(base64.b64decode(image, validate=True))
        except (binascii.Error, ValueError):
            return len(image.encode("utf-8"))
    return None


def read_conversation(body: dict[str, Any], vision: str | None) -> Conversation:
    """Normalise prompt / messages / Responses ``input`` bodies into one shape."""
    if isinstance(body.get("messages"), list):
        messages = [m for m in body["messages"] if isinstance(m, dict)]
    elif isinstance(body.get("prompt"), str):
        messages = [{"role": "user", "content": body["prompt"]}]
    elif isinstance(body.get("input"), str):
        messages = [{"role": "user", "content": body["input"]}]
    elif isinstance(body.get("input"), list):
        messages = [_responses_item(m) for m in body["input"] if isinstance(m, dict)]
    else:
        messages = []
    texts = [content_text(m.get("content")) for m in messages]
    image_bytes: int | None = None
    if vision == "parts":
        for message in messages:
            size = _image_parts_size(message.get("content"))
            if size is not None:
                image_bytes = (image_bytes or 0) + size
    elif vision == "image":
        image_bytes = _top_level_image_size(body.get("image"))
    user_texts = [t for m, t in zip(messages, texts, strict=True) if m.get("role", "user") == "user"]
    return Conversation(
        texts=texts,
        last_role=str(messages[-1].get("role", "user")) if messages else "user",
        last_user_text=user_texts[-1] if user_texts else "",
        last_text=texts[-1] if texts else "",
        image_bytes=image_bytes,
    )


def _responses_item(item: dict[str, Any]) -> dict[str, Any]:
    """A Responses input item as the chat message it stands for: tool results speak as `tool`."""
    kind = item.get("type", "message")
    if kind == "function_call_output":
        return {"role": "tool", "content": item.get("output", "")}
    if kind == "function_call":
        return {"role": "assistant", "content": ""}
    if kind == "reasoning":
        return {"role": "assistant", "content": ""}
    return item


def reply_text(conv: Conversation) -> str:
    if conv.last_role == "tool":
        return "The tool returned: " + conv.last_text
    if conv.image_bytes is not None:
        return f"I see an image of {conv.image_bytes} bytes."
    return "Hello! You said: " + conv.last_user_text


def forced_length(text: str, count: int) -> list[str]:
    """Exactly ``count`` tokens, cycling the reply's words (for long-stream benchmarks)."""
    pieces = tokenize(text) or ["Hello!"]
    out: list[str] = []
    for i in range(count):
        piece = pieces[i % len(pieces)]
        if i and not piece[0].isspace():
            piece = " " + piece
        out.append(piece)
    return out


# ---- tools -----------------------------------------------------------------


def _tool_definition(tool: Any) -> dict[str, Any]:
    """Both the native ``{name, parameters}`` and OpenAI ``{type, function}`` forms."""
    if not isinstance(tool, dict):
        return {}
    inner = tool.get("function")
    return inner if isinstance(inner, dict) else tool


def _chosen_name(tool_choice: Any) -> str | None:
    if isinstance(tool_choice, dict):
        function = tool_choice.get("function")
        name = function.get("name") if isinstance(function, dict) else tool_choice.get("name")
        return name if isinstance(name, str) else None
    if isinstance(tool_choice, str) and tool_choice not in ("auto", "required", "none"):
        return tool_choice
    return None


def last_word(text: str) -> str:
    words = text.split()
    return "".join(ch for ch in words[-1] if ch.isalnum()) if words else ""


def _argument_value(prop: Any, word: str) -> Any:
    if not isinstance(prop, dict):
        return word
    if isinstance(prop.get("enum"), list) and prop["enum"]:
        return prop["enum"][0]
    kind = _first_type(prop.get("type"))
    return {"integer": 1, "number": 1.5, "boolean": True, "array": [], "object": {}}.get(kind, word)


def plan_tool_calls(body: dict[str, Any], conv: Conversation) -> list[ToolCall]:
    tools = body.get("tools")
    if not isinstance(tools, list) or not tools or conv.last_role != "user":
        return []
    tool_choice = body.get("tool_choice")
    if tool_choice == "none":
        return []
    definitions = [d for d in (_tool_definition(t) for t in tools) if isinstance(d.get("name"), str)]
    if not definitions:
        return []
    if re.search(r"\bparallel\b", conv.last_user_text, re.IGNORECASE):
        chosen = definitions
    else:
        wanted = _chosen_name(tool_choice)
        named = [d for d in definitions if d["name"] == wanted]
        chosen = named[:1] or definitions[:1]
    word = last_word(conv.last_user_text)
    calls = []
    for definition in chosen:
        params = definition.get("parameters")
        props = params.get("properties") if isinstance(params, dict) else None
        props = props if isinstance(props, dict) else {}
        calls.append(ToolCall(definition["name"], {k: _argument_value(v, word) for k, v in props.items()}))
    return calls


# ---- JSON mode -------------------------------------------------------------


def _first_type(kind: Any) -> str | None:
    if isinstance(kind, list):
        kinds = [k for k in kind if k != "null"]
        return kinds[0] if kinds else None
    return kind if isinstance(kind, str) else None


def example_from_schema(schema: Any, root: Any = None, depth: int = 0) -> Any:
    """A value satisfying the common subset of JSON Schema a client sends in JSON mode."""
    root = schema if root is None else root
    if not isinstance(schema, dict) or depth > 20:
        return None
    ref = schema.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/"):
        target: Any = root
        for key in ref[2:].split("/"):
            target = target.get(key) if isinstance(target, dict) else None
        return example_from_schema(target, root, depth + 1)
    if "const" in schema:
        return schema["const"]
    if isinstance(schema.get("enum"), list) and schema["enum"]:
        return schema["enum"][0]
    for combinator in ("anyOf", "oneOf", "allOf"):
        options = schema.get(combinator)
        if isinstance(options, list) and options:
            return example_from_schema(options[0], root, depth + 1)
    kind = _first_type(schema.get("type"))
    if kind is None and isinstance(schema.get("properties"), dict):
        kind = "object"
    if kind == "object":
        props = schema.get("properties")
        props = props if isinstance(props, dict) else {}
        return {k: example_from_schema(v, root, depth + 1) for k, v in props.items()}
    scalars = {"string": "example", "integer": 1, "number": 1.5, "boolean": True, "array": []}
    return scalars.get(kind or "", {} if kind is None else None)


def json_mode_value(response_format: Any, reply: str, wrapped: bool) -> tuple[bool, Any]:
    """(is JSON mode, value). ``wrapped``: OpenAI's ``json_schema:{name, schema}`` form."""
    if not isinstance(response_format, dict):
        return False, None
    kind = response_format.get("type")
    if kind not in ("json_object", "json_schema"):
        return False, None
    schema = response_format.get("json_schema")
    if wrapped and isinstance(schema, dict):
        schema = schema.get("schema")
    if not isinstance(schema, dict):
        return True, {"answer": reply}
    return True, example_from_schema(schema)


# ---- the plan --------------------------------------------------------------


def _stops(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value] if value else []
    if isinstance(value, list):
        return [s for s in value if isinstance(s, str) and s]
    return []


def make_plan(
    body: dict[str, Any],
    *,
    vision: str | None,
    max_tokens: int | None,
    honour_stop: bool,
    wrapped_json: bool,
    forced_tokens: int | None,
    script: Script | None = None,
) -> Plan:
    """Decide the whole answer.

    ``max_tokens`` None means unlimited; it also caps a ``forced_tokens`` reply, as
    a real model's limit would. ``stop`` cuts the text exactly before the first
    match (a trailing space survives as a whitespace-only last token). A ``script``
    rule that fits the request (see :mod:`.scripting`) decides the answer instead.
    """
    conv = read_conversation(body, vision)
    plan = Plan(prompt_tokens=sum(count_words(t) for t in conv.texts))
    response_format = body.get("response_format")
    text_options = body.get("text")
    if response_format is None and isinstance(text_options, dict) and isinstance(text_options.get("format"), dict):
        # Responses input: `text.format` is `{type, name, schema}`, the schema flat beside the type.
        fmt = text_options["format"]
        response_format = {"type": fmt.get("type"), "json_schema": fmt.get("schema")}
        wrapped_json = False
    scripted = decide(
        script, last_role=conv.last_role, last_text=conv.last_text, offered_tools=offered_tool_names(body),
        tool_choice=body.get("tool_choice"), json_mode=json_mode_value(response_format, "", wrapped_json)[0],
    )
    if scripted.tool_calls is not None:
        plan.tool_calls = [ToolCall(c.name, c.arguments) for c in scripted.tool_calls]
    elif scripted.reply is None:
        plan.tool_calls = plan_tool_calls(body, conv)
    if plan.tool_calls:
        plan.finish_reason = "tool_calls"
        plan.completion_tokens = sum(
            count_words(c.name + " " + c.arguments_json) for c in plan.tool_calls
        )
        return plan
    reply = scripted.reply if scripted.reply is not None else reply_text(conv)
    plan.is_json, plan.json_value = json_mode_value(response_format, reply, wrapped_json)
    if scripted.has_json:
        plan.json_value = scripted.json
    if plan.is_json:
        tokens = tokenize(json.dumps(plan.json_value))
    elif forced_tokens is not None:
        tokens = forced_length(reply, forced_tokens)
    else:
        tokens = tokenize(reply)
    if max_tokens is not None and len(tokens) > max(max_tokens, 0):
        tokens = tokens[: max(max_tokens, 0)]
        plan.finish_reason = "length"
    if honour_stop and not plan.is_json:
        text = "".join(tokens)
        cuts = [text.find(s) for s in _stops(body.get("stop")) if s in text]
        if cuts:
            kept = text[: min(cuts)]
            tokens = tokenize(kept)
            tail = kept[len("".join(tokens)) :]
            tokens += [tail] if tail else []  # keep the cut exact, trailing space included
            plan.finish_reason = "stop"
    plan.tokens = tokens
    plan.completion_tokens = len(tokens)
    return plan
