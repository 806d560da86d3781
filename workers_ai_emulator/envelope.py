"""Cloudflare's v4 response envelope and the Workers AI error table.

Every JSON answer of the real API (except the OpenAI-dialect successes) is
wrapped in ``{"result", "success", "errors", "messages"}``; clients key their
error handling on ``errors[].code``, so the codes, HTTP statuses and message
texts here follow workers-ai.md section 2.3 verbatim.
"""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web

# code -> (HTTP status, message template). ``{model}`` is filled in when known.
ERRORS: dict[int, tuple[int, str]] = {
    3003: (400, "Request is missing headers or body: {what}"),
    3006: (413, "Request is too large"),
    3007: (408, "Request timeout"),
    3008: (408, "Request was aborted"),
    3023: (403, "Service unavailable for account"),
    3036: (
        429,
        "You have used up your daily free allocation of 10,000 neurons. Please upgrade to "
        "Cloudflare's Workers Paid plan if you would like to continue usage.",
    ),
    3039: (400, "Finetune is missing required files (model.safetensors and config.json)"),
    3040: (429, "No more data centers to forward the request to"),
    3041: (403, "The account is not allowed to access this model"),
    3042: (404, "The model name is invalid"),
    # Not in Cloudflare's published table: the emulator's generic upstream failure.
    3043: (500, "Internal server error"),
    5004: (400, "Invalid data type for base64 input: {what}"),
    5005: (405, "The model {model} does not support LoRa inference"),
    5006: (400, "AiError: Bad input: Error: {what}"),
    5007: (400, "No such model {model} or task"),
    5016: (403, "User has not agreed to Llama3.2 model terms"),
    5018: (403, "The account is not allowed to access this model"),
    5019: (405, "Request trying to use deprecated SDK version"),
    5035: (403, "This model requires a Workers Paid plan"),
    7000: (404, "No route for that URI"),
    7001: (405, "{method} not supported for requested URI."),
    7003: (404, "Could not route to {path}, perhaps your object identifier is invalid?"),
    9106: (401, "Missing X-Auth-Key, X-Auth-Email or Authorization headers"),
    10000: (401, "Authentication error"),
}

# When a forced failure names only an HTTP status, answer with the code a real
# upstream would most plausibly use for it.
CODE_FOR_STATUS: dict[int, int] = {
    400: 5006,
    401: 10000,
    403: 3023,
    404: 3042,
    405: 5019,
    408: 3007,
    413: 3006,
    429: 3040,
}


def default_message(code: int, **fields: str) -> str:
    """The documented text for ``code``; unknown codes get a neutral text."""
    template = ERRORS.get(code, (500, "Emulated upstream failure"))[1]
    values = {"model": "", "what": "", "path": "", "method": "GET", **fields}
    return template.format(**values)


def status_for_code(code: int) -> int:
    return ERRORS.get(code, (500, ""))[0]


def code_for_status(status: int) -> int:
    return CODE_FOR_STATUS.get(status, 3043)


class ApiError(Exception):
    """Raised anywhere in a handler; the app turns it into an error envelope."""

    def __init__(
        self,
        code: int,
        message: str | None = None,
        status: int | None = None,
        extra: list[tuple[int, str]] | None = None,
        headers: dict[str, str] | None = None,
        **fields: str,
    ) -> None:
        self.code = code
        self.message = message if message is not None else default_message(code, **fields)
        self.status = status if status is not None else status_for_code(code)
        self.extra = extra or []
        self.headers = headers or {}
        super().__init__(f"{self.code} {self.message}")

    def response(self) -> web.Response:
        errors = [(self.code, self.message), *self.extra]
        return error_response(self.status, errors, self.headers)


def bad_input(detail: str) -> ApiError:
    """Schema and JSON failures all surface as 5006, like the real service."""
    return ApiError(5006, what=detail)


def json_response(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    """Compact JSON, because benchmark clients parse thousands of these."""
    return web.Response(
        body=json.dumps(body, separators=(",", ":")).encode(),
        status=status,
        content_type="application/json",
        headers=headers,
    )


def success(result: Any, **extra: Any) -> web.Response:
    return json_response({"result": result, "success": True, "errors": [], "messages": [], **extra})


def error_response(
    status: int, errors: list[tuple[int, str]], headers: dict[str, str] | None = None
) -> web.Response:
    body = {
        "result": None,
        "success": False,
        "errors": [{"code": code, "message": message} for code, message in errors],
        "messages": [],
    }
    return json_response(body, status=status, headers=headers)
