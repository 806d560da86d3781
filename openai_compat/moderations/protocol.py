"""Wire model of a Moderations request.

`input` is typed loosely on purpose: a string, a list of strings, or a list of multi-modal parts are
told apart in `to_workers.input_texts`, whose errors name the exact item (`input[2]`) rather than
listing the alternatives of a pydantic union.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field

from openai_compat.core.wire import WireModel


class ModerationRequest(WireModel):

    input: Any
    model: str | None = Field(default=None, min_length=1)
    """None: the `MODERATION_DEFAULT_MODEL` setting (OpenAI's default is omni-moderation-latest)."""
