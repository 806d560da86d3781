"""Liveness for PaaS health checks: answers from memory, never calls Workers AI."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify

from openai_compat.web.auth import public

bp = Blueprint("health", __name__)


@bp.get("/health")
@public
def health() -> Response:
    return jsonify({"status": "ok"})
