"""HTTP route of the speech family."""

from __future__ import annotations

from flask import Blueprint, Response

from openai_compat.speech.protocol import SpeechRequest
from openai_compat.speech.serving import create_speech
from openai_compat.web.bodies import parse_body
from openai_compat.web.services import services

bp = Blueprint("speech", __name__)


@bp.post("/audio/speech")
def speech() -> Response:
    return create_speech(parse_body(SpeechRequest), services())
