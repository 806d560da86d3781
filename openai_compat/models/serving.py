"""Models: the configured aliases plus the account's (cached) Workers AI catalogue."""

from __future__ import annotations

from flask import Response, jsonify

from openai_compat.core.keys import current_caller
from openai_compat.errors import ModelNotFoundError
from openai_compat.models.from_workers import find_model, model_list
from openai_compat.models.protocol import ModelList
from openai_compat.web.services import Services


def list_models(svc: Services) -> Response:
    aliases = svc.settings.model_aliases
    models = model_list(aliases, svc.catalogue.entries())
    caller = current_caller.get()
    if caller is not None and caller.policy is not None and caller.policy.models is not None:
        # A key limited to some models sees only those (UIs offer what is listed).
        models = [m for m in models if caller.policy.allows(m.id, aliases.get(m.id, m.id))]
    return jsonify(ModelList(data=models).model_dump())


def retrieve_model(model: str, svc: Services) -> Response:
    found = find_model(model, svc.settings.model_aliases, svc.catalogue.entries())
    if found is None:
        raise ModelNotFoundError(model)
    return jsonify(found.model_dump())
