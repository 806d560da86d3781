"""HTTP routes of the Models family."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify

from openai_compat.errors import ModelNotFoundError
from openai_compat.models.protocol import ModelList
from openai_compat.services import services

bp = Blueprint("models", __name__)


@bp.get("/models")
def list_models() -> Response:
    return jsonify(ModelList(data=services().catalogue.list()).model_dump())


@bp.get("/models/<path:model>")
def retrieve_model(model: str) -> Response:
    found = services().catalogue.get(model)
    if found is None:
        raise ModelNotFoundError(model)
    return jsonify(found.model_dump())
