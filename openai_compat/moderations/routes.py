"""HTTP routes of the Moderations family."""

from __future__ import annotations

from flask import Blueprint, Response

from openai_compat.moderations.protocol import ModerationRequest
from openai_compat.moderations.serving import create_moderation
from openai_compat.web.bodies import parse_body
from openai_compat.web.services import services

bp = Blueprint("moderations", __name__)


@bp.post("/moderations")
def moderations() -> Response:
    return create_moderation(parse_body(ModerationRequest), services())
