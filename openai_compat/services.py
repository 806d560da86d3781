"""The per-process objects every blueprint shares, kept on the Flask app rather than in globals."""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app

from openai_compat.errors import InvalidRequestError
from openai_compat.image_input import ImageFetcher
from openai_compat.model_names import ResolvedModel, resolve_model
from openai_compat.models.catalogue import ModelCatalogue
from openai_compat.settings import Settings
from openai_compat.upstream import WorkersAIClient

EXTENSION_KEY = "openai_compat"


@dataclass
class Services:
    settings: Settings
    upstream: WorkersAIClient
    catalogue: ModelCatalogue
    image_fetcher: ImageFetcher

    def resolve(self, model: str) -> ResolvedModel:
        return resolve_model(model, self.settings.model_aliases)

    def require_task(self, resolved: ResolvedModel, task: str, suggestion: str) -> None:
        """A model the (cached) catalogue files under another task gets a 400 naming `model`,
        instead of whatever that model says about an input meant for another kind of model.
        Models the catalogue does not list, or an unavailable catalogue, pass."""
        listed = self.catalogue.get(resolved.upstream)
        found = (listed.model_extra or {}).get("task") if listed is not None else None
        if found and found != task:
            raise InvalidRequestError(
                f"The model `{resolved.requested}` is not a {task} model (Workers AI task: {found}). "
                f"Use a model such as {suggestion}.",
                param="model",
                code="invalid_model",
            )


def services() -> Services:
    return current_app.extensions[EXTENSION_KEY]
