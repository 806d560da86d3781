"""The one error hierarchy: every failure a client sees is one of these, in OpenAI's shape.

The official SDKs pick their exception class from the HTTP status and copy `code`, `param` and
`type` from the body, so each subclass fixes a status and the OpenAI `type` that goes with it.
"""

from __future__ import annotations

from typing import Any, ClassVar


class APIError(Exception):
    """Base of all client-visible errors."""

    status: ClassVar[int] = 500
    error_type: ClassVar[str] = "server_error"
    default_code: ClassVar[str | None] = None

    def __init__(
        self,
        message: str,
        *,
        param: str | None = None,
        code: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.param = param
        self.code = code if code is not None else self.default_code
        self.headers = dict(headers or {})

    def body(self) -> dict[str, Any]:
        return {
            "error": {
                "message": self.message,
                "type": self.error_type,
                "param": self.param,
                "code": self.code,
            }
        }


class InvalidRequestError(APIError):
    status = 400
    error_type = "invalid_request_error"


class AuthenticationError(APIError):
    status = 401
    error_type = "invalid_request_error"
    default_code = "invalid_api_key"


class PermissionDeniedError(APIError):
    status = 403
    error_type = "invalid_request_error"
    default_code = "permission_denied"


class NotFoundError(APIError):
    status = 404
    error_type = "invalid_request_error"


class ModelNotFoundError(NotFoundError):
    default_code = "model_not_found"

    def __init__(self, model: str, detail: str | None = None) -> None:
        message = f"The model `{model}` does not exist or you do not have access to it."
        super().__init__(f"{message} {detail}" if detail else message, param="model")


class MethodNotAllowedError(APIError):
    status = 405
    error_type = "invalid_request_error"
    default_code = "method_not_allowed"


class RequestTimeoutError(APIError):
    """The client sent its request too slowly (408: the SDKs retry it)."""

    status = 408
    error_type = "invalid_request_error"
    default_code = "request_timeout"


class PayloadTooLargeError(APIError):
    status = 413
    error_type = "invalid_request_error"
    default_code = "request_too_large"


class UnsupportedMediaTypeError(APIError):
    status = 415
    error_type = "invalid_request_error"
    default_code = "unsupported_media_type"


class RateLimitError(APIError):
    """Too many requests: OpenAI's 429 bodies say `type: requests` (or `tokens`), `code: rate_limit_exceeded`."""

    status = 429
    error_type = "requests"
    default_code = "rate_limit_exceeded"

    def __init__(self, message: str, *, retry_after: int, code: str | None = None, limited: str | None = None) -> None:
        super().__init__(message, code=code, headers={"Retry-After": str(max(1, retry_after))})
        if limited is not None:  # which limit was hit, as OpenAI names it: `requests` or `tokens`
            self.error_type = limited  # type: ignore[misc]


class QuotaExceededError(RateLimitError):
    """The Workers AI account's allocation is spent: retrying soon cannot help."""

    error_type = "insufficient_quota"
    default_code = "insufficient_quota"

    def __init__(self, message: str, *, retry_after: int) -> None:
        super().__init__(message, retry_after=retry_after)
        self.headers["x-should-retry"] = "false"


class UpstreamError(APIError):
    """Workers AI failed or answered something the gateway cannot use (502 Bad Gateway)."""

    status = 502
    error_type = "server_error"
    default_code = "upstream_error"


class ServiceUnavailableError(APIError):
    """The gateway itself cannot serve now (shutting down, a dependency down): retry, elsewhere."""

    status = 503
    error_type = "server_error"
    default_code = "service_unavailable"


class UpstreamTimeoutError(APIError):
    status = 504
    error_type = "server_error"
    default_code = "upstream_timeout"


class InternalError(APIError):
    """A bug in the gateway; the details go to the log, never to the client."""

    status = 500
    error_type = "server_error"
    default_code = "internal_error"
