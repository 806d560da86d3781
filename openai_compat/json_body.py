"""Turn a request body into a validated pydantic model, or an OpenAI-shaped 400/415."""

from __future__ import annotations

import json
from typing import Any, TypeVar

from flask import request
from pydantic import BaseModel, ValidationError

from openai_compat.errors import InvalidRequestError, PayloadTooLargeError, UnsupportedMediaTypeError

Model = TypeVar("Model", bound=BaseModel)


def error_param(loc: tuple[Any, ...]) -> str | None:
    """Render a pydantic location the way OpenAI names params: `messages[0].content`."""
    parts: list[str] = []
    for item in loc:
        if isinstance(item, int):
            parts.append(f"[{item}]")
        elif not parts:
            parts.append(str(item))
        else:
            parts.append(f".{item}")
    return "".join(parts) or None


_BRANCH_LABELS = {"str", "int", "float", "bool", "list", "dict"}


def _useful_loc(loc: tuple[Any, ...]) -> tuple[Any, ...]:
    # Drop pydantic's union-branch labels (`str`, `list[...]`, `function-after[...]`) from the path.
    return tuple(p for p in loc if isinstance(p, int) or ("[" not in str(p) and str(p) not in _BRANCH_LABELS))


def _most_telling(errors: list[Any]) -> Any:
    """For a field that is a union (`stop`: string or list), pydantic reports every branch; the
    error of the branch the client evidently meant (not "should be a valid string") says more."""
    first = _useful_loc(tuple(errors[0]["loc"]))
    same_field = [e for e in errors if _useful_loc(tuple(e["loc"]))[: len(first)] == first]
    return next((e for e in same_field if not e["type"].endswith("_type")), errors[0])


def validation_error(exc: ValidationError) -> InvalidRequestError:
    first = _most_telling(exc.errors(include_url=False))
    param = error_param(_useful_loc(tuple(first["loc"])))
    message = first["msg"]
    if first["type"] == "missing":
        message = f"Missing required parameter: '{param}'."
    elif param:
        message = f"Invalid value for '{param}': {message}"
    code = "missing_required_parameter" if first["type"] == "missing" else "invalid_value"
    return InvalidRequestError(message, param=param, code=code)


def parse_model(model: type[Model], data: Any) -> Model:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise validation_error(exc) from None


def _not_json(constant: str) -> Any:
    """NaN and Infinity are JavaScript, not JSON: refused as OpenAI's API refuses them."""
    raise InvalidRequestError(
        f"We could not parse the JSON body of your request ({constant} is not a JSON value). "
        "The OpenAI API expects a JSON payload."
    )


def json_body() -> Any:
    """The decoded JSON body; a clear error for the wrong media type or broken JSON."""
    mimetype = request.mimetype
    if mimetype and mimetype != "application/json" and not mimetype.endswith("+json"):
        raise UnsupportedMediaTypeError(
            f"Unsupported Content-Type {mimetype!r}: send the body as application/json."
        )
    raw = request.get_data(cache=False)
    limit = request.max_content_length
    if limit is not None and len(raw) >= limit:
        # A chunked body has no Content-Length to refuse up front; werkzeug cuts it at the limit.
        raise PayloadTooLargeError("The request body is too large.")
    if not raw.strip():
        raise InvalidRequestError("The request body is empty: send a JSON object.")
    try:
        # The standard library, not jsonio: orjson reads integers past 64 bits as floats, and a
        # client's numbers must reach validation exactly as sent.
        data = json.loads(raw, parse_constant=_not_json)
    except RecursionError:
        raise InvalidRequestError("The JSON body is nested too deeply.") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InvalidRequestError(
            f"We could not parse the JSON body of your request ({exc}). "
            "The OpenAI API expects a JSON payload."
        ) from None
    if not isinstance(data, dict):
        raise InvalidRequestError("The request body must be a JSON object.")
    return data


def parse_body(model: type[Model]) -> Model:
    return parse_model(model, json_body())
