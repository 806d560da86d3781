"""Liveness and readiness for PaaS health checks and load balancers.

`/health` answers from memory and never calls anything: the process is up. `/ready` says whether
this instance can serve: its configuration loaded (it could not answer otherwise), its object store
reachable, Redis reachable when configured, and it is not shutting down. Neither calls Workers AI:
an upstream outage must not take every instance out of rotation at once.
"""

from __future__ import annotations

from flask import Blueprint, Response, jsonify

from openai_compat.core.shutdown import DRAIN
from openai_compat.storage import StorageError
from openai_compat.web.auth import public
from openai_compat.web.services import services

bp = Blueprint("health", __name__)


@bp.get("/health")
@public
def health() -> Response:
    return jsonify({"status": "ok"})


@bp.get("/ready")
@public
def ready() -> Response:
    svc = services()
    checks: dict[str, str] = {"settings": "ok"}
    try:
        svc.storage.check()
        checks["storage"] = "ok"
    except StorageError as exc:
        checks["storage"] = f"error: {exc.message}"
    if svc.quotas.client is None:
        checks["redis"] = "not configured"
    else:
        try:
            svc.quotas.check()
            checks["redis"] = "ok"
        except Exception as exc:  # any client failure means "not reachable"; the type says which
            checks["redis"] = f"error: Redis cannot be reached ({type(exc).__name__})"
    if DRAIN.draining:
        checks["shutdown"] = "error: this worker is shutting down"
    ok = all(not value.startswith("error") for value in checks.values())
    response = jsonify({"status": "ready" if ok else "not ready", "checks": checks})
    response.status_code = 200 if ok else 503
    return response
