"""Wire model of an Embeddings request.

`input` is typed loosely here on purpose: token-id arrays and empty inputs are valid JSON in
OpenAI's schema, and the mapping refuses them with messages that say why, rather than with a
pydantic union error listing four alternatives.
"""

from __future__ import annotations

from typing import Annotated, Any, ClassVar, Literal

from pydantic import Field

from openai_compat.core.wire import WireModel

EncodingFormat = Literal["float", "base64"]


class EmbeddingRequest(WireModel):
    IGNORED: ClassVar[frozenset[str]] = frozenset({"user"})

    model: str = Field(min_length=1)
    input: Any
    encoding_format: EncodingFormat | None = None
    dimensions: Annotated[int, Field(strict=True, ge=1)] | None = None
    user: Any = None
    """Accepted and ignored: Workers AI has no per-end-user abuse tracking to pass it to."""
