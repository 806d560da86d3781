"""One place that turns every exception Flask can meet into an OpenAI-shaped response."""

from __future__ import annotations

import logging

from flask import Flask, Response, jsonify, request
from werkzeug.exceptions import HTTPException

from openai_compat.errors import (
    APIError,
    InternalError,
    InvalidRequestError,
    MethodNotAllowedError,
    NotFoundError,
    PayloadTooLargeError,
    RequestTimeoutError,
    UnsupportedMediaTypeError,
)

log = logging.getLogger("openai_compat")


def error_response(error: APIError) -> Response:
    response = jsonify(error.body())
    response.status_code = error.status
    response.headers.update(error.headers)
    return response


def _from_http_exception(exc: HTTPException) -> APIError:
    """Werkzeug raises these before our views run (routing, body size); keep OpenAI's wording."""
    status = exc.code or 500
    if status == 404:
        return NotFoundError(
            f"Unknown request URL: {request.method} {request.path}. Please check the URL for typos.",
            code="unknown_url",
        )
    if status == 405:
        allowed = ", ".join(sorted(getattr(exc, "valid_methods", None) or []))
        error = MethodNotAllowedError(f"Method {request.method} is not allowed for {request.path}.")
        if allowed:
            error.headers["Allow"] = allowed
        return error
    if status == 408:
        return RequestTimeoutError(exc.description or "The request took too long to arrive.")
    if status == 413:
        return PayloadTooLargeError("The request body is too large.")
    if status == 415:
        return UnsupportedMediaTypeError(exc.description or "Unsupported Content-Type.")
    if 400 <= status < 500:
        return InvalidRequestError(exc.description or "Bad request.")
    return InternalError("The server had an error while processing your request.")


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(APIError)
    def _api_error(exc: APIError) -> Response:
        return error_response(exc)

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException) -> Response:
        return error_response(_from_http_exception(exc))

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception) -> Response:
        log.exception("unhandled error")
        return error_response(InternalError("The server had an error while processing your request."))
