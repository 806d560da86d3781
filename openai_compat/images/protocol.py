"""Wire models of the Images requests: generations (JSON), edits and variations (multipart forms).

Form fields arrive as strings, so numbers are parsed leniently there; JSON numbers must be numbers.
Workers AI's own knobs (`negative_prompt`, `seed`, `num_steps`, `guidance`, `strength`) are accepted
as extra fields (the SDKs' `extra_body`).
"""

from __future__ import annotations

from typing import Annotated, Any, ClassVar, Literal

from pydantic import Field, StrictFloat, StrictInt

from openai_compat.core.wire import WireModel

ResponseFormat = Literal["url", "b64_json"]
OutputFormat = Literal["png", "jpeg", "webp"]
Quality = Literal["auto", "standard", "hd", "low", "medium", "high"]


class WorkersKnobs(WireModel):
    """Workers AI's image parameters, for clients that want them (sent with `extra_body`)."""


    negative_prompt: str | None = None
    seed: Annotated[int, Field(ge=0, le=2**32 - 1)] | None = None
    num_steps: Annotated[int, Field(ge=1, le=100)] | None = None
    guidance: Annotated[float, Field(ge=0, le=50)] | None = None
    strength: Annotated[float, Field(ge=0, le=1)] | None = None
    """How far an edit or variation may move from the input image (img2img only)."""


class CommonFields(WorkersKnobs):
    IGNORED: ClassVar[frozenset[str]] = frozenset({"user", "moderation", "input_fidelity", "partial_images"})

    model: str | None = Field(default=None, min_length=1)
    n: Annotated[int, Field(ge=1, le=10)] = 1
    size: str | None = None
    response_format: ResponseFormat | None = None
    output_format: OutputFormat | None = None
    output_compression: Annotated[int, Field(ge=0, le=100)] | None = None
    background: Literal["transparent", "opaque", "auto"] | None = None
    quality: Quality | None = None
    stream: bool | None = None
    partial_images: Any = None
    moderation: Any = None
    input_fidelity: Any = None
    user: Any = None
    """Accepted and ignored: Workers AI has no per-end-user abuse tracking to pass it to."""


class GenerationRequest(CommonFields):
    prompt: str = Field(min_length=1)
    style: Literal["vivid", "natural"] | None = None
    # JSON bodies: numbers must be JSON numbers, as in OpenAI's API.
    n: Annotated[StrictInt, Field(ge=1, le=10)] = 1
    seed: Annotated[StrictInt, Field(ge=0, le=2**32 - 1)] | None = None
    num_steps: Annotated[StrictInt, Field(ge=1, le=100)] | None = None
    guidance: Annotated[StrictFloat | StrictInt, Field(ge=0, le=50)] | None = None


class EditForm(CommonFields):
    """The text fields of `/images/edits`; the `image` and `mask` files are read from the form."""

    prompt: str = Field(min_length=1)


class VariationForm(CommonFields):
    """The text fields of `/images/variations`; the `image` file is read from the form."""
