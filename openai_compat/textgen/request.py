"""A text-generation request in no endpoint's dialect: what Chat Completions, Completions and
Responses each turn their wire request into, and what `textgen.to_workers` maps to Workers AI.

One neutral shape means one mapping per Workers AI dialect, whichever OpenAI endpoint asked.
Images are already loaded (the caller fetches them), so the mapping stays pure.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from openai_compat.net.fetcher import Fetched

Role = Literal["system", "user", "assistant", "tool"]


@dataclass(frozen=True)
class TextPart:
    text: str


@dataclass(frozen=True)
class ImagePart:
    image: Fetched


Part = TextPart | ImagePart


@dataclass(frozen=True)
class PastToolCall:
    """A tool call the assistant made earlier in the conversation; `arguments` is a JSON string."""

    id: str
    name: str
    arguments: str


@dataclass(frozen=True)
class Turn:
    role: Role
    parts: tuple[Part, ...] = ()
    tool_calls: tuple[PastToolCall, ...] = ()
    tool_call_id: str | None = None
    name: str | None = None
    content_is_null: bool = False
    """An assistant turn that only calls tools, sent as `content: null` where the dialect allows it."""

    @property
    def text(self) -> str:
        return "\n".join(p.text for p in self.parts if isinstance(p, TextPart))

    @property
    def images(self) -> list[ImagePart]:
        return [p for p in self.parts if isinstance(p, ImagePart)]


@dataclass(frozen=True)
class FunctionSpec:
    name: str
    description: str | None = None
    parameters: dict[str, Any] | None = None
    strict: bool | None = None


@dataclass(frozen=True)
class JsonFormat:
    """JSON mode: `json_object`, or `json_schema` with the schema the answer must follow."""

    kind: Literal["json_object", "json_schema"]
    name: str | None = None
    schema: dict[str, Any] | None = None
    strict: bool | None = None
    description: str | None = None


@dataclass(frozen=True)
class Sampling:
    temperature: float | None = None
    top_p: float | None = None
    seed: int | None = None
    presence_penalty: float | None = None
    frequency_penalty: float | None = None
    # Workers AI extras, passed through.
    top_k: int | None = None
    repetition_penalty: float | None = None
    lora: str | None = None
    raw: bool | None = None


ToolChoice = Literal["none", "auto", "required"] | None


@dataclass(frozen=True)
class TextRequest:
    max_tokens: int
    stream: bool
    turns: tuple[Turn, ...] = ()
    prompt: str | None = None
    """A bare prompt (legacy Completions) instead of turns."""
    sampling: Sampling = field(default_factory=Sampling)
    stop: str | list[str] | None = None
    tools: tuple[FunctionSpec, ...] = ()
    tool_choice: ToolChoice = None
    forced_tool: str | None = None
    """The one function the model must call (`tool_choice` naming a function)."""
    parallel_tool_calls: bool | None = None
    json_format: JsonFormat | None = None
    reasoning_effort: str | None = None
    template_kwargs: dict[str, Any] | None = None
    """`chat_template_kwargs` for OpenAI-style models (e.g. `enable_thinking`)."""

    @property
    def images(self) -> list[ImagePart]:
        return [image for turn in self.turns for image in turn.images]
