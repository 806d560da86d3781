"""OpenAI model names -> Workers AI models: configured aliases, and `@cf/...` names as they are."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from openai_compat.errors import ModelNotFoundError

WORKERS_AI_PREFIXES = ("@cf/", "@hf/")
MODEL_HEADER = "x-workers-ai-model"
# Catalogue names are `@cf/author/model`: path segments of safe characters, never `.` or `..`,
# because the name becomes part of the upstream URL path that carries the operator's token.
_WORKERS_AI_NAME = re.compile(r"^@(cf|hf)(/(?!\.{1,2}(/|$))[A-Za-z0-9._:-]+){2,}$")
"""Response header naming the Workers AI model that served an aliased request."""


@dataclass(frozen=True)
class ResolvedModel:
    requested: str
    """The name the client sent, echoed back in responses (what the SDKs and UIs expect)."""
    upstream: str
    """The Workers AI model that runs it, reported in the `x-workers-ai-model` header."""


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
