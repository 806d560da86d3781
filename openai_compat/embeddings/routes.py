"""HTTP routes of the Embeddings family."""

from __future__ import annotations

from flask import Blueprint, Response

from openai_compat.embeddings.protocol import EmbeddingRequest
from openai_compat.embeddings.serving import create_embeddings
from openai_compat.web.bodies import parse_body
from openai_compat.web.services import services

bp = Blueprint("embeddings", __name__)


@bp.post("/embeddings")
def embeddings() -> Response:
    return create_embeddings(parse_body(EmbeddingRequest), services())
