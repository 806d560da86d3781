"""The per-process objects every family shares, kept on the Flask app rather than in globals, and
the serving prelude every family starts with: which Workers AI model runs the request.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import current_app

from openai_compat.core.catalogue import ModelCatalogue
from openai_compat.core.logs import note
from openai_compat.core.metering import Meter, Usage
from openai_compat.core.model_names import ResolvedModel, Task, resolve_model
from openai_compat.errors import InvalidRequestError
from openai_compat.media.links import LinkSigner
from openai_compat.net.fetcher import GuardedFetcher
from openai_compat.settings import Settings
from openai_compat.storage import ObjectStore
from openai_compat.storage.housekeeping import Housekeeper
from openai_compat.upstream import UpstreamReply, WorkersAIClient

EXTENSION_KEY = "openai_compat"


@dataclass
class Services:
    settings: Settings
    upstream: WorkersAIClient
    catalogue: ModelCatalogue
    fetcher: GuardedFetcher
    meter: Meter
    storage: ObjectStore
    housekeeper: Housekeeper
    """Deletes what a failed request stored (retrying while the store is down) and expired images."""
    link_signer: LinkSigner


def services() -> Services:
    return current_app.extensions[EXTENSION_KEY]


@dataclass(frozen=True)
class ModelTarget:
    """The model a request runs on, bound to the upstream client and the meter."""

    resolved: ResolvedModel
    svc: Services

    @property
    def upstream_name(self) -> str:
        return self.resolved.upstream

    def run(self, payload: dict[str, Any] | None = None, **kwargs: Any) -> UpstreamReply:
        """One upstream call; errors name the model as the client asked for it."""
        return self.svc.upstream.run(self.resolved.upstream, payload, requested=self.resolved.requested, **kwargs)

    def record(self, usage: Usage) -> None:
        """Report the request's usage to the meter: once per request."""
        self.svc.meter.record(self.resolved, usage)


def open_model(svc: Services, model: str, task: Task) -> ModelTarget:
    """Resolve the alias and refuse a model the (cached) catalogue files under another task: a 400
    naming `model` says more than whatever that model answers to an input meant for another kind of
    model. Models the catalogue does not list, or an unavailable catalogue, pass."""
    resolved = resolve_model(model, svc.settings.model_aliases)
    found = svc.catalogue.task_of(resolved.upstream)
    if found and found != task.name:
        raise InvalidRequestError(
            f"The model `{resolved.requested}` is not a {task.name} model (Workers AI task: {found}). "
            f"Use a model such as {task.suggestion}.",
            param="model",
            code="invalid_model",
        )
    note(model=model, workers_ai_model=resolved.upstream)
    return ModelTarget(resolved, svc)
