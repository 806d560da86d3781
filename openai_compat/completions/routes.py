"""HTTP routes of the Completions family."""

from __future__ import annotations

from flask import Blueprint, Response

from openai_compat.completions.protocol import CompletionRequest
from openai_compat.completions.serving import create_completion
from openai_compat.web.bodies import parse_body
from openai_compat.web.services import services

bp = Blueprint("completions", __name__)


@bp.post("/completions")
def completions() -> Response:
    return create_completion(parse_body(CompletionRequest), services())
