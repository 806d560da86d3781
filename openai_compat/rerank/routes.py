"""HTTP routes of the Rerank family: Cohere v1 and Jina's `/rerank`, and Cohere v2's `/v2/rerank`
(where Cohere's v2 SDK, which LangChain's CohereRerank uses, posts: `{base_url}/v2/rerank`)."""

from __future__ import annotations

from flask import Blueprint, Response

from openai_compat.rerank.protocol import RerankRequest
from openai_compat.rerank.serving import create_rerank
from openai_compat.web.bodies import parse_body
from openai_compat.web.services import services

bp = Blueprint("rerank", __name__)


@bp.post("/rerank")
@bp.post("/v2/rerank")
def rerank() -> Response:
    return create_rerank(parse_body(RerankRequest), services())
