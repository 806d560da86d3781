"""Models: the configured aliases plus the account's (cached) Workers AI catalogue."""

from __future__ import annotations

from flask import Response, jsonify

from openai_compat.errors import ModelNotFoundError
from openai_compat.models.from_workers import find_model, model_list
from openai_compat.models.protocol import ModelList
from openai_compat.web.services import Services


def list_models(svc: Services) -> Response:
    models = model_list(svc.settings.model_aliases, svc.catalogue.entries())
    return jsonify(ModelList(data=models).model_dump())


def retrieve_model(model: str, svc: Services) -> Response:
    found = find_model(model, svc.settings.model_aliases, svc.catalogue.entries())
    if found is None:
        raise ModelNotFoundError(model)
    return jsonify(found.model_dump())
