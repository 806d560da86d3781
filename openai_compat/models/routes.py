"""HTTP routes of the Models family."""

from __future__ import annotations

from flask import Blueprint, Response

from openai_compat.models import serving
from openai_compat.web.services import services

bp = Blueprint("models", __name__)


@bp.get("/models")
def list_models() -> Response:
    return serving.list_models(services())


@bp.get("/models/<path:model>")
def retrieve_model(model: str) -> Response:
    return serving.retrieve_model(model, services())
