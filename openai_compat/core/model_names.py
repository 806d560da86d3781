"""OpenAI model names -> Workers AI models: configured aliases, and `@cf/...` names as they are."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from openai_compat.errors import InvalidRequestError, ModelNotFoundError

MODEL_HEADER = "x-workers-ai-model"
"""Response header naming the Workers AI model that served a request."""
# Catalogue names are `@cf/author/model`: path segments of safe characters, never `.` or `..`,
# because the name becomes part of the upstream URL path that carries the operator's token.
_WORKERS_AI_NAME = re.compile(r"^@(cf|hf)(/(?!\.{1,2}(/|$))[A-Za-z0-9._:-]+){2,}$")


@dataclass(frozen=True)
class ResolvedModel:
    requested: str
    """The name the client sent, echoed back in responses (what the SDKs and UIs expect)."""
    upstream: str
    """The Workers AI model that runs it, reported in the `x-workers-ai-model` header."""


@dataclass(frozen=True)
class Task:
    """A Workers AI catalogue task a family serves, and a model to suggest when a request names a
    model of another task."""

    name: str
    suggestion: str


def is_workers_ai_name(name: str) -> bool:
    return bool(_WORKERS_AI_NAME.match(name))


def resolve_model(name: str, aliases: Mapping[str, str]) -> ResolvedModel:
    if name in aliases:
        return ResolvedModel(name, aliases[name])
    if _WORKERS_AI_NAME.match(name):
        return ResolvedModel(name, name)
    raise ModelNotFoundError(
        name, detail="Use a Workers AI model name (@cf/...) or an alias listed by GET /v1/models."
    )


def unsupported_model(requested: str, what: str, known: list[str], alias: str) -> InvalidRequestError:
    """A 400 naming `model` for a model a family has no profile for: what it is not, and what to use."""
    return InvalidRequestError(
        f"The model `{requested}` is not {what}. Use one of: {', '.join(known)} (or {alias}).",
        param="model", code="invalid_model",
    )
