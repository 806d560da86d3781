"""HTTP routes of the Images family."""

from __future__ import annotations

from flask import Blueprint, Response, request

from openai_compat.images.protocol import GenerationRequest
from openai_compat.images.serving import create_edit, create_generation, create_variation, serve_image
from openai_compat.web.auth import public
from openai_compat.web.bodies import form_body, parse_body
from openai_compat.web.services import services

bp = Blueprint("images", __name__)


@bp.post("/images/generations")
def generations() -> Response:
    return create_generation(parse_body(GenerationRequest), services())


@bp.post("/images/edits")
def edits() -> Response:
    svc = services()
    return create_edit(form_body(max_bytes=svc.settings.max_request_bytes), svc)


@bp.post("/images/variations")
def variations() -> Response:
    svc = services()
    return create_variation(form_body(max_bytes=svc.settings.max_request_bytes), svc)


@bp.get("/images/<path:path>")
@public
def stored_image(path: str) -> Response:
    return serve_image(path, request.args.get("expires"), request.args.get("signature"),
                       request.headers.get("If-None-Match"), services())
