"""OpenAI moderation input -> one Llama Guard conversation per input. Pure functions: no I/O.

Every problem is found here, before the first upstream call, so a request fails whole with a 400
naming the item or is sent in full.
"""

from __future__ import annotations

from typing import Any

from openai_compat.core.limits import check_count
from openai_compat.errors import InvalidRequestError
from openai_compat.moderations.profiles import GuardModel

MAX_INPUTS = 32
"""Each input is one call to an 8B model: the gateway's own cap, to bound what one request costs."""
VERDICT_TOKENS = 32
"""Room for `unsafe` and all fourteen hazard codes; Workers AI's default of 256 only costs time."""


def _part_text(part: Any, index: int) -> str:
    where = f"input[{index}]"
    if not isinstance(part, dict) or not isinstance(part.get("type"), str):
        raise InvalidRequestError(
            f"'{where}' must be a string, or a part object with a 'type' when 'input' is a list of parts.",
            param=where,
            code="invalid_type",
        )
    kind = part["type"]
    if kind == "text":
        text = part.get("text")
        if not isinstance(text, str):
            raise InvalidRequestError(f"'{where}.text' must be a string.", param=f"{where}.text", code="invalid_type")
        return text
    if kind == "image_url":
        raise InvalidRequestError(
            f"'{where}' is an image, but the moderation model reads text only: no Llama Guard model on "
            "Workers AI takes images. Send the text parts alone.",
            param=where,
            code="unsupported_value",
        )
    raise InvalidRequestError(
        f"'{where}' has type {kind!r}; moderation parts are 'text' (and 'image_url').",
        param=f"{where}.type",
        code="invalid_value",
    )


def _check_length(text: str, param: str, max_chars: int) -> None:
    if len(text) > max_chars:
        raise InvalidRequestError(
            f"'{param}' is {len(text)} characters long; the moderation model reads at most {max_chars} "
            "characters per input. Split the text into smaller pieces.",
            param=param,
            code="context_length_exceeded",
        )


def input_texts(raw: Any, profile: GuardModel) -> list[str]:
    """One text per result, in order: a string is one input, a list of strings is one input each,
    and a list of parts is one input (OpenAI answers a multi-modal list with a single result), its
    text parts joined by newlines."""
    if isinstance(raw, str):
        _check_length(raw, "input", profile.max_chars)
        return [raw]
    if not isinstance(raw, list):
        raise InvalidRequestError(
            "'input' must be a string, a list of strings, or a list of text parts.", param="input", code="invalid_type"
        )
    if not raw:
        raise InvalidRequestError("'input' must not be an empty list.", param="input", code="invalid_value")
    if any(isinstance(item, str) for item in raw):
        if not all(isinstance(item, str) for item in raw):
            raise InvalidRequestError(
                "'input' mixes strings and part objects: send a list of strings, or a list of parts.",
                param="input",
                code="invalid_type",
            )
        check_count("input", len(raw), MAX_INPUTS, "strings")
        for index, text in enumerate(raw):
            _check_length(text, f"input[{index}]", profile.max_chars)
        return list(raw)
    text = "\n".join(_part_text(part, index) for index, part in enumerate(raw))
    _check_length(text, "input", profile.max_chars)
    return [text]


def guard_input(text: str) -> dict[str, Any]:
    """Llama Guard classifies the last turn of a conversation: the input is that turn, from the user.
    Temperature 0, because a moderation verdict should not change from one call to the next."""
    return {"messages": [{"role": "user", "content": text}], "max_tokens": VERDICT_TOKENS, "temperature": 0}
