"""The stack's floor: gunicorn + Flask + requests relaying chat and completions to Workers AI, nothing else.

The benchmark runs it as one more side (``floor``), under the gateway's own ``gunicorn.conf.py``
and environment, so its CPU per request is what the fixed stack costs before any gateway logic:
no authentication, validation, mapping, logging or error handling, just read the JSON body, post
the native body on a pooled connection the way the gateway's client does, and hand back
the upstream bytes (SSE passed through as it arrives). Whatever the gateway costs above this
is its own; what this costs is the price of the stack.

Not part of the product: it answers in Workers AI's dialect, not OpenAI's.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator

import requests
from flask import Flask, Response, request
from requests.structures import CaseInsensitiveDict

from openai_compat.net.transport import UpstreamAdapter


def create_floor_app() -> Flask:
    base = os.environ["WORKERS_AI_BASE_URL"]
    account = os.environ["CLOUDFLARE_ACCOUNT_ID"]
    # The gateway's own transport (pooled, reuse check off gevent's hub), so the floor is the stack at its best.
    adapter = UpstreamAdapter(pool_maxsize=int(os.environ.get("GUNICORN_WORKER_CONNECTIONS", "1000")), max_retries=0)
    headers = requests.utils.default_headers()
    headers["Authorization"] = f"Bearer {os.environ['CLOUDFLARE_API_TOKEN']}"
    headers["Content-Type"] = "application/json"
    app = Flask(__name__)

    def post(model: str, data: bytes) -> requests.Response:
        prepared = requests.PreparedRequest()
        prepared.method, prepared.url, prepared.body = "POST", f"{base}/accounts/{account}/ai/run/{model}", data
        prepared.headers = CaseInsensitiveDict(headers)
        prepared.headers["Content-Length"] = str(len(data))
        return adapter.send(prepared, stream=True, timeout=(5, 120))

    @app.get("/health")
    def health() -> str:
        return "ok"

    @app.post("/v1/chat/completions")
    def chat() -> Response:
        return relay("messages")

    @app.post("/v1/completions")
    def completions() -> Response:
        return relay("prompt")

    def relay(text_field: str) -> Response:
        body = request.get_json()
        native = {text_field: body[text_field], **{k: body[k] for k in ("max_tokens", "stream") if k in body}}
        upstream = post(body["model"], json.dumps(native, separators=(",", ":")).encode())
        if not body.get("stream"):
            with upstream:
                return Response(upstream.content, upstream.status_code, mimetype="application/json")

        def relay() -> Iterator[bytes]:
            try:
                yield from upstream.iter_content(chunk_size=None)
            finally:
                upstream.close()

        return Response(relay(), upstream.status_code, mimetype="text/event-stream")

    return app


app = create_floor_app()
