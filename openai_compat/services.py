"""The per-process objects every blueprint shares, kept on the Flask app rather than in globals."""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app

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


def services() -> Services:
    return current_app.extensions[EXTENSION_KEY]
