"""HTTP routes of the Chat Completions family."""

from __future__ import annotations

from flask import Blueprint, Response

from openai_compat.chat.protocol import ChatCompletionRequest
from openai_compat.chat.serving import create_chat_completion
from openai_compat.web.bodies import parse_body
from openai_compat.web.services import services

bp = Blueprint("chat", __name__)


@bp.post("/chat/completions")
def chat_completions() -> Response:
    return create_chat_completion(parse_body(ChatCompletionRequest), services())
