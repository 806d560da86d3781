"""The gateway's own OpenAPI document, `GET /openapi.json`, built from the pydantic models every family
validates its requests with: what it lists is exactly what the gateway reads, so it cannot drift.

It serves tools that generate clients or requests from a schema (and the schemathesis fuzzing in the
test suite). Bodies are JSON or, for uploads, multipart forms with their file parts; every error is
OpenAI's `{"error": {...}}` shape. Like every route but health, readiness and signed image links, it
needs a client key.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any

from flask import Blueprint, Response, jsonify
from pydantic import BaseModel

from openai_compat.chat.protocol import ChatCompletionRequest
from openai_compat.completions.protocol import CompletionRequest
from openai_compat.embeddings.protocol import EmbeddingRequest
from openai_compat.images.protocol import EditForm, GenerationRequest, VariationForm
from openai_compat.moderations.protocol import ModerationRequest
from openai_compat.rerank.protocol import RerankRequest
from openai_compat.responses.protocol import CreateResponseRequest, InputItemsQuery, RetrieveQuery
from openai_compat.speech.protocol import SpeechRequest
from openai_compat.transcriptions.protocol import TranscriptionRequest, TranslationRequest

bp = Blueprint("openapi", __name__)
REF = "#/components/schemas/{model}"
JSON = "application/json"


@dataclass(frozen=True)
class Operation:
    method: str
    path: str
    operation_id: str
    summary: str
    body: type[BaseModel] | None = None
    form: type[BaseModel] | None = None
    files: tuple[tuple[str, bool], ...] = ()
    """A form's file parts: (name, required)."""
    query: type[BaseModel] | None = None
    path_params: tuple[str, ...] = ()
    access: str = "client"
    """`client` (a gateway key), `public` (none), `admin` or `metrics` (their own keys)."""
    replies: tuple[str, ...] = (JSON,)


OPERATIONS: tuple[Operation, ...] = (
    Operation("get", "/health", "health", "Liveness", access="public"),
    Operation("get", "/ready", "ready", "Readiness: storage and Redis reachable, not shutting down", access="public"),
    Operation("get", "/metrics", "metrics", "Prometheus metrics", access="metrics", replies=("text/plain",)),
    Operation("get", "/admin/usage", "adminUsage", "Usage and spend per key and model", access="admin"),
    Operation("get", "/openapi.json", "openapi", "This document"),
    Operation("get", "/v1/models", "listModels", "Aliases and the Workers AI catalogue"),
    Operation("get", "/v1/models/{model}", "retrieveModel", "One model", path_params=("model",)),
    Operation("post", "/v1/chat/completions", "createChatCompletion", "Chat Completions",
              body=ChatCompletionRequest, replies=(JSON, "text/event-stream")),
    Operation("post", "/v1/completions", "createCompletion", "Legacy completions", body=CompletionRequest,
              replies=(JSON, "text/event-stream")),
    Operation("post", "/v1/embeddings", "createEmbedding", "Embeddings", body=EmbeddingRequest),
    Operation("post", "/v1/responses", "createResponse", "Responses", body=CreateResponseRequest,
              replies=(JSON, "text/event-stream")),
    Operation("get", "/v1/responses/{response_id}", "getResponse", "A stored response", query=RetrieveQuery,
              path_params=("response_id",), replies=(JSON, "text/event-stream")),
    Operation("delete", "/v1/responses/{response_id}", "deleteResponse", "Delete a stored response",
              path_params=("response_id",)),
    Operation("post", "/v1/responses/{response_id}/cancel", "cancelResponse", "Cancel a background response",
              path_params=("response_id",)),
    Operation("get", "/v1/responses/{response_id}/input_items", "listInputItems", "A response's input items",
              query=InputItemsQuery, path_params=("response_id",)),
    Operation("post", "/v1/moderations", "createModeration", "Moderations (Llama Guard)", body=ModerationRequest),
    Operation("post", "/v1/rerank", "rerank", "Rerank (Cohere v1 and Jina format)", body=RerankRequest),
    Operation("post", "/v2/rerank", "rerankV2", "Rerank (Cohere v2 path)", body=RerankRequest),
    Operation("post", "/v1/images/generations", "createImage", "Image generation", body=GenerationRequest),
    Operation("post", "/v1/images/edits", "createImageEdit", "Image edit (img2img or inpainting)", form=EditForm,
              files=(("image", True), ("mask", False))),
    Operation("post", "/v1/images/variations", "createImageVariation", "Image variation", form=VariationForm,
              files=(("image", True),)),
    Operation("get", "/v1/images/{path}", "getImage", "A stored image at its signed link", access="public",
              path_params=("path",), replies=("image/png", "image/jpeg", "image/webp")),
    Operation("post", "/v1/audio/transcriptions", "createTranscription", "Transcription", form=TranscriptionRequest,
              files=(("file", True),), replies=(JSON, "text/plain", "text/event-stream")),
    Operation("post", "/v1/audio/translations", "createTranslation", "Translation into English",
              form=TranslationRequest, files=(("file", True),), replies=(JSON, "text/plain")),
    Operation("post", "/v1/audio/speech", "createSpeech", "Speech", body=SpeechRequest,
              replies=("audio/mpeg", "text/event-stream")),
)

ERROR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["error"],
    "properties": {"error": {
        "type": "object",
        "required": ["message", "type", "param", "code"],
        "properties": {"message": {"type": "string"}, "type": {"type": "string"},
                       "param": {"type": ["string", "null"]}, "code": {"type": ["string", "null"]}},
    }},
}
SECURITY = {"client": [{"bearer": []}], "public": [], "admin": [{"admin": []}], "metrics": [{"metrics": []}]}
IMAGE_QUERY = [{"name": "expires", "in": "query", "required": True, "schema": {"type": "string"}},
               {"name": "signature", "in": "query", "required": True, "schema": {"type": "string"}}]


def _schema(model: type[BaseModel], components: dict[str, Any]) -> dict[str, Any]:
    """The model's validation schema, with its nested definitions moved into `components`."""
    schema = model.model_json_schema(ref_template=REF, mode="validation")
    components.update(schema.pop("$defs", {}))
    return schema


def _form_schema(op: Operation, components: dict[str, Any]) -> dict[str, Any]:
    assert op.form is not None
    schema = _schema(op.form, components)
    properties = dict(schema.get("properties", {}))
    required = list(schema.get("required", []))
    for name, needed in op.files:
        properties[name] = {"type": "string", "format": "binary"}
        if needed:
            required.append(name)
    return {**schema, "properties": properties, "required": required}


def _operation(op: Operation, components: dict[str, Any]) -> dict[str, Any]:
    parameters: list[dict[str, Any]] = [
        {"name": name, "in": "path", "required": True, "schema": {"type": "string", "minLength": 1}}
        for name in op.path_params
    ]
    if op.query is not None:
        query = _schema(op.query, components)
        needed = set(query.get("required", []))
        parameters += [{"name": name, "in": "query", "required": name in needed, "schema": field}
                       for name, field in query.get("properties", {}).items()]
    if op.operation_id == "getImage":
        parameters += IMAGE_QUERY
    out: dict[str, Any] = {
        "operationId": op.operation_id,
        "summary": op.summary,
        "security": SECURITY[op.access],
        "responses": {
            "200": {"description": "Success", "content": {kind: {} for kind in op.replies}},
            "default": {"$ref": "#/components/responses/Error"},
        },
    }
    if parameters:
        out["parameters"] = parameters
    if op.body is not None:
        components[op.body.__name__] = _schema(op.body, components)
        out["requestBody"] = {"required": True, "content": {JSON: {"schema": {"$ref": REF.format(
            model=op.body.__name__)}}}}
    elif op.form is not None:
        out["requestBody"] = {"required": True, "content": {"multipart/form-data": {
            "schema": _form_schema(op, components)}}}
    return out


@cache
def document() -> dict[str, Any]:
    components: dict[str, Any] = {"Error": ERROR_SCHEMA}
    paths: dict[str, Any] = {}
    for op in OPERATIONS:
        paths.setdefault(op.path, {})[op.method] = _operation(op, components)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "openai-compat",
            "version": "1",
            "description": "OpenAI's API on Cloudflare Workers AI. Every route under /v1 is also served without it.",
        },
        "paths": paths,
        "components": {
            "schemas": components,
            "responses": {"Error": {"description": "An error, in OpenAI's shape",
                                    "content": {JSON: {"schema": {"$ref": "#/components/schemas/Error"}}}}},
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer", "description": "A gateway client key"},
                "admin": {"type": "http", "scheme": "bearer", "description": "ADMIN_API_KEY"},
                "metrics": {"type": "http", "scheme": "bearer",
                            "description": "METRICS_API_KEY when set, else any client key"},
            },
        },
    }


@bp.get("/openapi.json")
def openapi() -> Response:
    return jsonify(document())
