"""Wire models of a Chat Completions request: the whole OpenAI request, validated once.

Unknown fields are tolerated (the SDKs' `extra_body` lands here); fields the gateway cannot honour
are accepted in the shape OpenAI allows and refused later, by name, in `unsupported_fields`.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field, model_validator

from openai_compat.core.wire import FunctionName, Metadata, WireModel
from openai_compat.textgen.sampling import SamplingFields

Role = Literal["system", "developer", "user", "assistant", "tool", "function"]


class TextPart(WireModel):
    type: Literal["text"]
    text: str


class ImageURL(WireModel):
    IGNORED = frozenset({"detail"})

    url: str = Field(min_length=1)
    detail: Literal["auto", "low", "high"] | None = None


class ImagePart(WireModel):
    type: Literal["image_url"]
    image_url: ImageURL


class OtherPart(WireModel):
    """input_audio, file and refusal parts: parsed so the error can name them precisely."""

    type: Literal["input_audio", "file", "refusal"]


ContentPart = Annotated[TextPart | ImagePart | OtherPart, Field(discriminator="type")]


class FunctionCall(WireModel):
    name: str
    arguments: str = ""


class MessageToolCall(WireModel):
    id: str
    type: Literal["function"] = "function"
    function: FunctionCall


class Message(WireModel):
    role: Role
    content: str | list[ContentPart] | None = None
    name: str | None = None
    tool_calls: list[MessageToolCall] | None = None
    tool_call_id: str | None = None

    @model_validator(mode="after")
    def _shape(self) -> Message:
        if self.role == "tool" and not self.tool_call_id:
            raise ValueError("messages with role 'tool' need a tool_call_id")
        if self.role in ("system", "developer", "user", "tool") and self.content is None:
            raise ValueError(f"messages with role '{self.role}' need content")
        if self.role == "assistant" and self.content is None and not self.tool_calls:
            raise ValueError("assistant messages need content or tool_calls")
        return self


class FunctionDefinition(WireModel):
    name: FunctionName
    description: str | None = None
    parameters: dict[str, Any] | None = None
    strict: bool | None = None


class Tool(WireModel):
    type: Literal["function"]
    function: FunctionDefinition


class NamedFunction(WireModel):
    name: str


class NamedToolChoice(WireModel):
    type: Literal["function"]
    function: NamedFunction


class JSONSchemaFormat(WireModel):
    name: FunctionName
    description: str | None = None
    schema_: dict[str, Any] | None = Field(default=None, alias="schema")
    strict: bool | None = None


class ResponseFormat(WireModel):
    type: Literal["text", "json_object", "json_schema"]
    json_schema: JSONSchemaFormat | None = None

    @model_validator(mode="after")
    def _schema_given(self) -> ResponseFormat:
        if self.type == "json_schema" and self.json_schema is None:
            raise ValueError("response_format of type json_schema needs a json_schema object")
        return self


MAX_MESSAGES = 2048
"""OpenAI's own limit on `messages` ("array too long ... maximum length 2048")."""


class ChatCompletionRequest(SamplingFields):
    IGNORED = SamplingFields.IGNORED | {"metadata", "store", "service_tier"}

    messages: list[Message] = Field(min_length=1, max_length=MAX_MESSAGES)
    max_completion_tokens: int | None = Field(default=None, ge=1)
    logprobs: bool | None = None
    top_logprobs: int | None = Field(default=None, ge=0, le=20)
    response_format: ResponseFormat | None = None
    tools: list[Tool] | None = None
    tool_choice: Literal["none", "auto", "required"] | NamedToolChoice | None = None
    parallel_tool_calls: bool | None = None
    metadata: Metadata = None
    store: bool | None = None
    reasoning_effort: str | None = None
    modalities: list[str] | None = None
    audio: dict[str, Any] | None = None
    prediction: dict[str, Any] | None = None
    web_search_options: dict[str, Any] | None = None
    functions: list[dict[str, Any]] | None = None
    function_call: Any = None
    service_tier: str | None = None
    chat_template_kwargs: dict[str, Any] | None = None
    """Workers AI extra for OpenAI-style models (e.g. `{"enable_thinking": false}`), passed through."""
