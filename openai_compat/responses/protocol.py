"""Wire models of the Responses API: the create request and its input items, validated once.

Items are parsed loosely by `type` so the mapping can name what it cannot serve (`tools[0].type`,
`input[2].type`) instead of pydantic listing every alternative of a large union.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field, field_validator, model_validator

from openai_compat.core.wire import FunctionName, Metadata, WireModel
from openai_compat.textgen.sampling import SamplerFields


class ContentPart(WireModel):
    """`input_text`, `input_image`, `output_text`, `refusal`, `input_file`, `input_audio`..."""

    type: str
    text: str | None = None
    image_url: str | None = None
    file_id: str | None = None
    detail: str | None = None
    refusal: str | None = None


class InputItem(WireModel):
    """One item of `input`: a message (`type` omitted or `message`), a `function_call`, a
    `function_call_output`, a `reasoning` item passed back, or an item type the gateway names in a 400."""

    type: str = "message"
    id: str | None = None
    role: Literal["user", "assistant", "system", "developer"] | None = None
    content: str | list[ContentPart] | None = None
    status: str | None = None
    # function_call
    call_id: str | None = None
    name: str | None = None
    arguments: str | None = None
    # function_call_output (other item types carry other shapes here: the mapping names their type)
    output: Any = None

    @model_validator(mode="after")
    def _shape(self) -> InputItem:
        if self.type == "message":
            if self.role is None:
                raise ValueError("message items need a role")
            if self.content is None:
                raise ValueError("message items need content")
        elif self.type == "function_call":
            if not self.call_id or not self.name or self.arguments is None:
                raise ValueError("function_call items need call_id, name and arguments")
        elif self.type == "function_call_output":
            if not self.call_id or not isinstance(self.output, str | list):
                raise ValueError("function_call_output items need a call_id and an output (a string or parts)")
            if isinstance(self.output, list):
                self.output = [ContentPart.model_validate(part) for part in self.output]
        return self


class FunctionTool(WireModel):
    type: str
    name: FunctionName | None = None
    description: str | None = None
    parameters: dict[str, Any] | None = None
    strict: bool | None = None


class NamedFunction(WireModel):
    type: Literal["function"]
    name: str


ToolChoice = Literal["none", "auto", "required"] | NamedFunction


class TextFormat(WireModel):
    type: Literal["text", "json_object", "json_schema"]
    name: FunctionName | None = None
    description: str | None = None
    schema_: dict[str, Any] | None = Field(default=None, alias="schema")
    strict: bool | None = None

    @model_validator(mode="after")
    def _schema_given(self) -> TextFormat:
        if self.type == "json_schema" and (self.name is None or self.schema_ is None):
            raise ValueError("text.format of type json_schema needs a name and a schema")
        return self


class TextOptions(WireModel):
    IGNORED = frozenset({"verbosity"})

    format: TextFormat | None = None
    verbosity: str | None = None


class ReasoningOptions(WireModel):
    IGNORED = frozenset({"summary", "generate_summary"})

    effort: Literal["none", "minimal", "low", "medium", "high", "xhigh"] | None = None
    summary: str | None = None
    generate_summary: str | None = None


class StreamOptions(WireModel):
    IGNORED = frozenset({"include_obfuscation"})

    include_obfuscation: bool | None = None


class CreateResponseRequest(SamplerFields):
    IGNORED = frozenset({"user", "service_tier", "truncation", "include", "prompt_cache_key", "safety_identifier",
                         "max_tool_calls", "top_logprobs", "stream_options"})

    model: str = Field(min_length=1)
    input: str | list[InputItem] = Field(union_mode="left_to_right")
    instructions: str | None = None
    tools: list[FunctionTool] | None = None
    tool_choice: ToolChoice | None = None
    parallel_tool_calls: bool | None = None
    text: TextOptions | None = None
    max_output_tokens: Annotated[int, Field(strict=True, ge=16)] | None = None
    stream: bool | None = False
    stream_options: StreamOptions | None = None
    store: bool | None = True
    background: bool | None = False
    previous_response_id: str | None = None
    metadata: Metadata = None
    user: str | None = None
    reasoning: ReasoningOptions | None = None
    service_tier: str | None = None
    truncation: str | None = None
    include: list[str] | None = None
    prompt_cache_key: str | None = None
    safety_identifier: str | None = None
    max_tool_calls: int | None = None
    top_logprobs: int | None = None
    conversation: Any = None
    prompt: Any = None

    @field_validator("input")
    @classmethod
    def _input_not_empty(cls, value: str | list[InputItem]) -> str | list[InputItem]:
        if isinstance(value, list) and not value:
            raise ValueError("input must not be an empty list")
        return value


class InputItemsQuery(WireModel):
    after: str | None = None
    before: str | None = None
    limit: int = Field(default=20, ge=1, le=100)
    order: Literal["asc", "desc"] = "desc"


class RetrieveQuery(WireModel):
    stream: bool = False
    starting_after: int | None = Field(default=None, ge=-1)
