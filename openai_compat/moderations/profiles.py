"""Which Workers AI models can moderate, and what the gateway must know about them.

Moderation needs a model that answers a safety verdict in Llama Guard's format (`safe`, or `unsafe`
and hazard codes S1-S14); a general chat model would answer prose. So a model is accepted when it
is in the table or is a Llama Guard model by name (a newer Llama Guard on Workers AI speaks the same
format); any other model is a 400 naming `model`.
"""

from __future__ import annotations

from dataclasses import dataclass

from openai_compat.core.model_names import Task

MODERATION = Task("Text Generation", suggestion="@cf/meta/llama-guard-3-8b")


@dataclass(frozen=True)
class GuardModel:
    max_chars: int = 131_072
    """`maxLength` of a message's content in the catalogue schema."""


_MODELS: dict[str, GuardModel] = {
    "@cf/meta/llama-guard-3-8b": GuardModel(),
}


def guard_model(name: str) -> GuardModel | None:
    """The profile of a Workers AI model name, or None when it is no Llama Guard model."""
    if name in _MODELS:
        return _MODELS[name]
    return GuardModel() if "llama-guard" in name.rsplit("/", 1)[-1] else None


def known_models() -> list[str]:
    return sorted(_MODELS)
