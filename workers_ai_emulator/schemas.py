"""Hand-written input schemas, one per emulated model.

They restate the constraints of Cloudflare's catalogue entries (types, ranges,
``required``, ``minLength``, ``maxItems``) in compact form; descriptions and
defaults are left out because validation ignores them. The catalogue's
``oneOf`` is written as ``anyOf`` (its Prompt and Messages alternatives
overlap and the real service accepts such inputs) and the async-batch
``requests`` alternative is not emulated. ``tests/emulator`` checks each
schema against the catalogue file, so a drift shows up as a test failure.
Models without a catalogue file here (glm-4.7-flash, llama-3.1-8b-instruct-fast)
get a schema modelled on their family.
"""

from __future__ import annotations

from typing import Any

Schema = dict[str, Any]

STRING: Schema = {"type": "string"}
BOOLEAN: Schema = {"type": "boolean"}
INTEGER: Schema = {"type": "integer"}


def number(minimum: float, maximum: float) -> Schema:
    return {"type": "number", "minimum": minimum, "maximum": maximum}


def text_or_batch(max_items: int | None, min_length: int | None = 1) -> Schema:
    """``string | string[]``, the embedding models' ``text`` field."""
    item: Schema = {"type": "string"} if min_length is None else {"type": "string", "minLength": min_length}
    batch: Schema = {"type": "array", "items": item}
    if max_items is not None:
        batch["maxItems"] = max_items
    return {"anyOf": [item, batch]}


# ---- classic text generation (llama family) ---------------------------------

JSON_MODE: Schema = {
    "type": "object",
    "properties": {"type": {"type": "string", "enum": ["json_object", "json_schema"]}, "json_schema": {}},
}
_PARAMS: Schema = {
    "type": "object",
    "properties": {
        "type": STRING,
        "required": {"type": "array", "items": STRING},
        "properties": {
            "type": "object",
            "additionalProperties": {
                "type": "object",
                "properties": {"type": STRING, "description": STRING},
                "required": ["type", "description"],
            },
        },
    },
    "required": ["type", "properties"],
}
_FUNCTION: Schema = {
    "type": "object",
    "properties": {"name": STRING, "description": STRING, "parameters": _PARAMS},
    "required": ["name", "description", "parameters"],
}
TOOLS: Schema = {
    "type": "array",
    "items": {
        "type": "object",
        "anyOf": [
            {"properties": _FUNCTION["properties"], "required": _FUNCTION["required"]},
            {"properties": {"type": STRING, "function": _FUNCTION}, "required": ["type", "function"]},
        ],
    },
}
FUNCTIONS: Schema = {
    "type": "array",
    "items": {"type": "object", "properties": {"name": STRING, "code": STRING}, "required": ["name", "code"]},
}


def sampling(top_p: tuple[float, float], penalty_min: float) -> dict[str, Schema]:
    """The knobs shared by both alternatives; two ranges differ between model files."""
    return {
        "stream": BOOLEAN,
        "max_tokens": INTEGER,
        "temperature": number(0, 5),
        "top_p": number(*top_p),
        "top_k": {"type": "integer", "minimum": 1, "maximum": 50},
        "seed": {"type": "integer", "minimum": 1, "maximum": 9999999999},
        "repetition_penalty": number(0, 2),
        "frequency_penalty": number(penalty_min, 2),
        "presence_penalty": number(penalty_min, 2),
    }


def prompt_or_messages(prompt_props: dict[str, Schema], messages_props: dict[str, Schema]) -> Schema:
    return {
        "type": "object",
        "anyOf": [
            {"title": "Prompt", "properties": prompt_props, "required": ["prompt"]},
            {"title": "Messages", "properties": messages_props, "required": ["messages"]},
        ],
    }


def string_messages(max_length: int | None = None) -> Schema:
    content: Schema = {"type": "string"} if max_length is None else {"type": "string", "maxLength": max_length}
    return {
        "type": "array",
        "items": {
            "type": "object",
            "properties": {"role": STRING, "content": content},
            "required": ["role", "content"],
        },
    }


# llama-3.3-70b-instruct-fp8-fast (gpt-oss-120b's chat alternatives share its ranges)
_L33 = sampling((0.001, 1), -2)
LLAMA_3_3: Schema = prompt_or_messages(
    {"prompt": {"type": "string", "minLength": 1}, "lora": STRING, "response_format": JSON_MODE,
     "raw": BOOLEAN, **_L33},
    {"messages": string_messages(), "functions": FUNCTIONS, "tools": TOOLS, "response_format": JSON_MODE,
     "raw": BOOLEAN, **_L33},
)

# llama-3.1-8b-instruct (and -fast): long-text caps, no JSON-mode field in the file
_L31 = sampling((0, 2), 0)
LLAMA_3_1: Schema = prompt_or_messages(
    {"prompt": {"type": "string", "minLength": 1, "maxLength": 131072}, "raw": BOOLEAN, "lora": STRING, **_L31},
    {"messages": string_messages(131072), "functions": FUNCTIONS, "tools": TOOLS, **_L31},
)

# llama-3.2-11b-vision-instruct: top-level ``image`` next to either alternative
_IMAGE: Schema = {"anyOf": [{"type": "array", "items": {"type": "number"}}, {"type": "string"}]}
LLAMA_3_2_VISION: Schema = prompt_or_messages(
    {"prompt": {"type": "string", "minLength": 1, "maxLength": 131072}, "image": _IMAGE, "raw": BOOLEAN,
     "lora": STRING, **_L31},
    {"messages": string_messages(131072), "image": _IMAGE, "functions": FUNCTIONS, "tools": TOOLS, **_L31},
)

# llama-4-scout: content may be a string, one part or a list of parts; nothing required per message
_PART: Schema = {
    "type": "object",
    "properties": {
        "type": STRING,
        "text": STRING,
        "image_url": {"type": "object", "properties": {"url": {"type": "string", "pattern": "^data:*"}}},
    },
}
_L4_MESSAGES: Schema = {
    "type": "array",
    "items": {
        "type": "object",
        "properties": {
            "role": STRING,
            "tool_call_id": {"type": "string", "pattern": "[a-zA-Z0-9]{9}"},
            "content": {"anyOf": [STRING, {"type": "array", "items": _PART}, _PART]},
        },
    },
}
_L4 = sampling((0, 2), 0)
LLAMA_4_SCOUT: Schema = prompt_or_messages(
    {"prompt": {"type": "string", "minLength": 1}, "guided_json": {"type": "object"}, "response_format": JSON_MODE,
     "raw": BOOLEAN, **_L4},
    {"messages": _L4_MESSAGES, "functions": FUNCTIONS, "tools": TOOLS, "response_format": JSON_MODE,
     "guided_json": {"type": "object"}, "raw": BOOLEAN, **_L4},
)

# gpt-oss-120b: chat alternatives (text parts allowed) or an OpenAI Responses body
_OSS_CHAT = prompt_or_messages(
    LLAMA_3_3["anyOf"][0]["properties"],
    {
        "messages": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "role": STRING,
                    "content": {"anyOf": [
                        STRING,
                        {"type": "array", "items": {"type": "object", "properties": {"type": STRING, "text": STRING}}},
                    ]},
                },
                "required": ["role", "content"],
            },
        },
        "functions": FUNCTIONS, "tools": TOOLS, "response_format": JSON_MODE, "raw": BOOLEAN, **_L33,
    },
)
GPT_OSS: Schema = {
    "anyOf": [
        _OSS_CHAT,
        {
            "type": "object",
            "title": "Responses",
            "properties": {
                "input": {"anyOf": [STRING, {"type": "array"}]},
                "reasoning": {
                    "type": "object",
                    "properties": {
                        "effort": {"type": "string", "enum": ["low", "medium", "high"]},
                        "summary": {"type": "string", "enum": ["auto", "concise", "detailed"]},
                    },
                },
            },
            "required": ["input"],
        },
    ]
}

# ---- OpenAI-style text generation (no catalogue file here: modelled on OpenAI's request) ----

_NULLABLE_INT: Schema = {"type": ["integer", "null"], "minimum": 1}
OPENAI_CHAT: Schema = {
    "type": "object",
    "properties": {
        "model": STRING,
        "messages": {
            "type": "array",
            "minItems": 1,
            "items": {
                "type": "object",
                "properties": {
                    "role": {"type": "string", "enum": ["system", "developer", "user", "assistant", "tool"]},
                    "content": {"type": ["string", "array", "null"]},
                    "tool_call_id": STRING,
                    "tool_calls": {"type": "array"},
                },
                "required": ["role"],
            },
        },
        "max_completion_tokens": _NULLABLE_INT,
        "max_tokens": _NULLABLE_INT,
        "temperature": {"type": ["number", "null"], "minimum": 0, "maximum": 2},
        "top_p": {"type": ["number", "null"], "minimum": 0, "maximum": 1},
        "frequency_penalty": {"type": ["number", "null"], "minimum": -2, "maximum": 2},
        "presence_penalty": {"type": ["number", "null"], "minimum": -2, "maximum": 2},
        "seed": {"type": ["integer", "null"]},
        "stop": {"anyOf": [STRING, {"type": "array", "items": STRING, "maxItems": 4}, {"type": "null"}]},
        "tools": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "type": {"const": "function"},
                    "function": {
                        "type": "object",
                        "properties": {"name": STRING, "description": STRING, "parameters": {"type": "object"}},
                        "required": ["name"],
                    },
                },
                "required": ["type", "function"],
            },
        },
        "tool_choice": {"anyOf": [{"enum": ["none", "auto", "required"]}, {"type": "object"}]},
        "response_format": {
            "type": "object",
            "properties": {
                "type": {"enum": ["text", "json_object", "json_schema"]},
                "json_schema": {
                    "type": "object",
                    "properties": {
                        "name": STRING,
                        "schema": {"type": "object"},
                        "strict": {"type": ["boolean", "null"]},
                    },
                    "required": ["name"],
                },
            },
            "required": ["type"],
        },
        "stream": {"type": ["boolean", "null"]},
        "stream_options": {"type": ["object", "null"], "properties": {"include_usage": BOOLEAN}},
    },
    "required": ["messages"],
}

# ---- embeddings ----------------------------------------------------------------

BGE: Schema = {
    "type": "object",
    "properties": {"text": text_or_batch(100), "pooling": {"type": "string", "enum": ["mean", "cls"]}},
    "required": ["text"],
}
BGE_M3: Schema = {
    "type": "object",
    "anyOf": [
        {
            "title": "Input Query and Contexts",
            "properties": {
                "query": {"type": "string", "minLength": 1},
                "contexts": {
                    "type": "array",
                    "items": {"type": "object", "properties": {"text": {"type": "string", "minLength": 1}}},
                },
                "truncate_inputs": BOOLEAN,
            },
            "required": ["contexts"],
        },
        {
            "title": "Input Embedding",
            "properties": {"text": text_or_batch(100), "truncate_inputs": BOOLEAN},
            "required": ["text"],
        },
    ],
}
EMBEDDINGGEMMA: Schema = {"type": "object", "properties": {"text": text_or_batch(100)}, "required": ["text"]}
PLAMO: Schema = {"type": "object", "properties": {"text": text_or_batch(None, None)}, "required": ["text"]}
QWEN3_EMBEDDING: Schema = {
    "type": "object",
    "properties": {
        "queries": text_or_batch(32),
        "instruction": STRING,
        "documents": text_or_batch(32),
        "text": text_or_batch(32),
    },
}
