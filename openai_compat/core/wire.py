"""The base of every family's request models: what OpenAI's API accepts, read the way it reads it.

Unknown fields are tolerated (the SDKs' `extra_body` lands there) and logged as ignored; `IGNORED`
lists the declared fields the gateway accepts without acting on them. JSON booleans are not
numbers: pydantic's lax mode would read `top_p: false` as 0, which OpenAI's API refuses.
"""

from __future__ import annotations

import types
import typing
from functools import cache
from typing import Any, ClassVar

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator


def _types_in(annotation: Any) -> set[Any]:
    found: set[Any] = set()
    pending = [annotation]
    while pending:
        current = pending.pop()
        origin = typing.get_origin(current)
        if origin is typing.Annotated:
            pending.append(typing.get_args(current)[0])
        elif origin in (typing.Union, types.UnionType):
            pending += list(typing.get_args(current))
        else:
            found.add(current)
    return found


@cache
def _numeric_fields(model: type[BaseModel]) -> frozenset[str]:
    numeric = set()
    for name, field in model.model_fields.items():
        kinds = _types_in(field.annotation)
        if kinds & {int, float} and bool not in kinds:
            numeric.add(name)
    return frozenset(numeric)


class _NotANumber:
    """Stands in for a boolean sent where a number belongs: no numeric type accepts it, so validation
    fails at that field's own location (and `param` names it), with pydantic's own message."""

    def __repr__(self) -> str:
        return "a boolean"


NOT_A_NUMBER = _NotANumber()


class WireModel(BaseModel):
    model_config = ConfigDict(extra="allow")
    IGNORED: ClassVar[frozenset[str]] = frozenset()

    @model_validator(mode="before")
    @classmethod
    def _booleans_are_not_numbers(cls, data: Any) -> Any:
        if isinstance(data, dict):
            hits = [name for name in _numeric_fields(cls) if isinstance(data.get(name), bool)]
            if hits:
                data = {**data, **dict.fromkeys(hits, NOT_A_NUMBER)}
        return data


MAX_METADATA_KEYS = 16
MAX_METADATA_KEY = 64
MAX_METADATA_VALUE = 512


def _metadata(value: dict[str, str] | None) -> dict[str, str] | None:
    """OpenAI's limits on `metadata` (chat and Responses alike): 16 pairs, keys of 64 characters,
    values of 512."""
    if value is None:
        return None
    if len(value) > MAX_METADATA_KEYS:
        raise ValueError(f"metadata holds at most {MAX_METADATA_KEYS} keys")
    for key, item in value.items():
        if len(key) > MAX_METADATA_KEY:
            raise ValueError(f"metadata keys are at most {MAX_METADATA_KEY} characters")
        if len(item) > MAX_METADATA_VALUE:
            raise ValueError(f"metadata values are at most {MAX_METADATA_VALUE} characters")
    return value


Metadata = typing.Annotated[dict[str, str] | None, AfterValidator(_metadata)]

FunctionName = typing.Annotated[str, Field(pattern=r"^[a-zA-Z0-9_-]{1,64}$")]
"""A function's or a JSON schema's name, as OpenAI restricts both."""
