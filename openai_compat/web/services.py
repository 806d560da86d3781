"""The per-process objects every family shares, kept on the Flask app rather than in globals, and
the serving prelude every family starts with: which Workers AI model runs the request, whether the
caller's key may use it, and whether the key's limits and budgets admit one more request.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import current_app, g

from openai_compat.core import metrics
from openai_compat.core.catalogue import ModelCatalogue
from openai_compat.core.keys import current_caller
from openai_compat.core.logs import note
from openai_compat.core.metering import Meter, Usage
from openai_compat.core.model_names import ResolvedModel, Task, resolve_model
from openai_compat.errors import APIError, InvalidRequestError, PermissionDeniedError
from openai_compat.media.links import LinkSigner
from openai_compat.net.fetcher import GuardedFetcher
from openai_compat.quotas import Quotas
from openai_compat.settings import Settings
from openai_compat.storage import ObjectStore
from openai_compat.storage.housekeeping import Housekeeper
from openai_compat.upstream import UpstreamReply, WorkersAIClient

RATE_LIMIT_HEADERS = "ratelimit_headers"
"""Where `open_model` leaves the `x-ratelimit-*` headers for the response (on Flask's `g`)."""
METRICS_MODEL = "metrics_model"
"""Where `open_model` leaves the request's `model` label for the metrics (on Flask's `g`)."""

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
    quotas: Quotas


def services() -> Services:
    return current_app.extensions[EXTENSION_KEY]


@dataclass(frozen=True)
class ModelTarget:
    """The model a request runs on, bound to the upstream client and the meter."""

    resolved: ResolvedModel
    svc: Services
    label: str = ""
    """The model's label in the metrics (`metrics.UNLISTED` for a name nothing lists)."""

    @property
    def upstream_name(self) -> str:
        return self.resolved.upstream

    def run(self, payload: dict[str, Any] | None = None, **kwargs: Any) -> UpstreamReply:
        """One upstream call; errors name the model as the client asked for it."""
        try:
            reply = self.svc.upstream.run(self.resolved.upstream, payload, requested=self.resolved.requested, **kwargs)
        except APIError as exc:
            metrics.child(metrics.UPSTREAM_ERRORS, self.label, str(exc.status), exc.code or "").inc()
            raise
        metrics.child(metrics.UPSTREAM_SECONDS, self.label).observe(reply.elapsed_ms / 1000)
        return reply

    def record(self, usage: Usage) -> None:
        """Report the request's usage to the meter: once per request."""
        self.svc.meter.record(self.resolved, usage)


def open_model(svc: Services, model: str, task: Task) -> ModelTarget:
    """Resolve the alias and refuse a model the (cached) catalogue files under another task: a 400
    naming `model` says more than whatever that model answers to an input meant for another kind of
    model. Models the catalogue does not list, or an unavailable catalogue, pass."""
    resolved = resolve_model(model, svc.settings.model_aliases)
    caller = current_caller.get()
    policy = caller.policy if caller is not None else None
    if policy is not None and not policy.allows(resolved.requested, resolved.upstream):
        raise PermissionDeniedError(
            f"The key `{policy.name}` may not use the model `{resolved.requested}`. "
            f"Its models: {', '.join(sorted(policy.models or ()))}.",
            param="model",
            code="model_not_allowed",
        )
    found = svc.catalogue.task_of(resolved.upstream)
    if found and found != task.name:
        raise InvalidRequestError(
            f"The model `{resolved.requested}` is not a {task.name} model (Workers AI task: {found}). "
            f"Use a model such as {task.suggestion}.",
            param="model",
            code="invalid_model",
        )
    note(model=model, workers_ai_model=resolved.upstream)
    label = _metrics_label(svc, resolved.upstream)
    g.metrics_model = label
    if RATE_LIMIT_HEADERS not in g:  # one admission per request, however many models it opens
        g.ratelimit_headers = svc.quotas.admit(caller)
    return ModelTarget(resolved, svc, label)


def _metrics_label(svc: Services, upstream: str) -> str:
    """The model's own name if the catalogue or an alias names it (or the catalogue is unknown), else
    `unlisted`: any well-formed @cf/ name gets this far, and each must not become a time series."""
    entries = svc.catalogue.entries()
    if entries is None or upstream in entries or upstream in svc.settings.model_aliases.values():
        return upstream
    return metrics.UNLISTED
