"""Request bodies, read in one place: JSON into a validated pydantic model, and multipart forms
(uploads) with a byte cap, both answering OpenAI-shaped 400/413/415.

Forms go through werkzeug's parser (Flask's own): it refuses a body over the cap while reading it
(413 before a byte of an over-declared body is read, and as soon as a chunked one passes the cap),
caps the number of parts and the memory a text field may take, and spools file parts to temporary
files, so an upload never sits whole in memory. Nothing goes upstream before the body is read whole.
"""

from __future__ import annotations

import json
import logging
import re
import tempfile
from dataclasses import dataclass
from typing import IO, Any, TypeVar

from flask import request
from pydantic import BaseModel, ValidationError
from werkzeug.datastructures import FileStorage
from werkzeug.exceptions import RequestEntityTooLarge

from openai_compat.core.logs import log_event
from openai_compat.errors import InvalidRequestError, PayloadTooLargeError, UnsupportedMediaTypeError

log = logging.getLogger("openai_compat.requests")

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


_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")
"""A `\\uD800`-`\\uDFFF` escape: the only way a JSON body can carry a lone surrogate (valid pairs
combine into one character when decoded, and are let through)."""


def _refuse_lone_surrogates(value: Any, path: str) -> None:
    """Text that cannot be encoded as UTF-8 cannot be sent to Workers AI: a 400 naming where it is."""
    pending: list[tuple[Any, str]] = [(value, path)]
    while pending:
        current, where = pending.pop()
        if isinstance(current, str):
            try:
                current.encode("utf-8")
            except UnicodeEncodeError:
                raise InvalidRequestError(
                    f"The text at '{where or 'body'}' holds a lone UTF-16 surrogate, which is not valid Unicode.",
                    param=where or None, code="invalid_value",
                ) from None
        elif isinstance(current, dict):
            pending += [(item, f"{where}.{key}" if where else str(key)) for key, item in current.items()]
            pending += [(key, where) for key in current if isinstance(key, str)]
        elif isinstance(current, list):
            pending += [(item, f"{where}[{index}]") for index, item in enumerate(current)]


def json_body() -> Any:
    """The decoded JSON body; a clear error for the wrong media type or broken JSON."""
    mimetype = request.mimetype
    if mimetype and mimetype != "application/json" and not mimetype.endswith("+json"):
        raise UnsupportedMediaTypeError(
            f"Unsupported Content-Type {mimetype!r}: send the body as application/json."
        )
    raw = request.get_data(cache=False)
    limit = request.max_content_length
    if limit is not None and request.content_length is None and len(raw) >= limit:
        # A chunked body has no Content-Length to refuse up front: werkzeug cuts it at the limit, so
        # one that reaches the limit cannot be told from one cut there. (A declared length over the
        # limit was refused by werkzeug before reading.)
        raise PayloadTooLargeError("The request body is too large.")
    if not raw.strip():
        raise InvalidRequestError("The request body is empty: send a JSON object.")
    try:
        # The standard library, not jsonio: orjson reads integers past 64 bits as floats, and a
        # client's numbers must reach validation exactly as sent.
        data = json.loads(raw, parse_constant=_not_json)
    except RecursionError:
        raise InvalidRequestError("The JSON body is nested too deeply.") from None
    except ValueError as exc:  # JSONDecodeError, UnicodeDecodeError, and integers past Python's digit limit
        raise InvalidRequestError(
            f"We could not parse the JSON body of your request ({exc}). "
            "The OpenAI API expects a JSON payload."
        ) from None
    if not isinstance(data, dict):
        raise InvalidRequestError("The request body must be a JSON object.")
    if _SURROGATE_ESCAPE.search(raw):
        _refuse_lone_surrogates(data, "")
    return data


def ignored_fields(model: BaseModel, prefix: str = "") -> list[str]:
    """Paths of every field in a validated request that the gateway does not honour: unknown fields,
    and the declared ones a wire model lists in its `IGNORED` class variable (accepted because
    clients send them, not acted on). Names only, never values."""
    found = [f"{prefix}{name}" for name in (model.model_extra or {})]
    ignored = getattr(model, "IGNORED", frozenset())
    found += [f"{prefix}{name}" for name in sorted(model.model_fields_set & ignored)]
    for name in type(model).model_fields:
        value = getattr(model, name, None)
        if isinstance(value, BaseModel):
            found += ignored_fields(value, f"{prefix}{name}.")
        elif isinstance(value, list):
            for index, item in enumerate(value):
                if isinstance(item, BaseModel):
                    found += ignored_fields(item, f"{prefix}{name}[{index}].")
    return found


def note_ignored(model: BaseModel) -> None:
    fields = ignored_fields(model)
    if fields:
        log_event(log, "ignored_fields", path=request.path, fields=fields[:50])


def parse_body(model: type[Model]) -> Model:
    parsed = parse_model(model, json_body())
    note_ignored(parsed)
    return parsed


# ---- multipart forms -----------------------------------------------------------------------------


@dataclass
class Upload:
    """A file part of a form: its bytes are in a (spooled) temporary file, not in memory."""

    field: str
    filename: str
    content_type: str
    stream: IO[bytes]
    size: int

    def read(self) -> bytes:
        """The whole file, for the callers that need it in memory (small images)."""
        self.stream.seek(0)
        return self.stream.read()


@dataclass
class Form:
    fields: dict[str, list[str]]
    files: dict[str, list[Upload]]

    def value(self, name: str) -> str | None:
        """A text field, also found under `name[]` (how the SDKs send arrays)."""
        values = self.fields.get(name) or self.fields.get(f"{name}[]")
        return values[0] if values else None

    def values(self, name: str) -> list[str]:
        return [*self.fields.get(name, []), *self.fields.get(f"{name}[]", [])]

    def file(self, name: str) -> Upload | None:
        found = self.files.get(name) or self.files.get(f"{name}[]")
        return found[0] if found else None

    def scalars(self) -> dict[str, Any]:
        """Text fields as a dict for a pydantic model: one value each; a field sent as `name[]` or more
        than once is a list of every value, in the order sent."""
        values: dict[str, list[str]] = {}
        listed: set[str] = set()
        for name, sent in self.fields.items():
            base = name.removesuffix("[]")
            values.setdefault(base, []).extend(sent)
            if name != base:
                listed.add(base)
        return {name: (got if name in listed or len(got) > 1 else got[0]) for name, got in values.items()}


def _size(storage: FileStorage) -> int:
    stream = storage.stream
    position = stream.tell()
    stream.seek(0, 2)
    size = stream.tell()
    stream.seek(position)
    return size


SPOOL_BYTES = 500 * 1024
"""A file part stays in memory up to this size, then moves to disk (werkzeug's own threshold)."""


class FileTooLarge(RequestEntityTooLarge):
    """A file part passed the per-file cap while it was being spooled."""


class _CappedSpool(tempfile.SpooledTemporaryFile):  # type: ignore[type-arg]
    """A file part's temporary file that refuses to grow past a cap, so an oversized upload is cut
    off as it arrives rather than spooled whole and refused afterwards."""

    def __init__(self, cap: int) -> None:
        super().__init__(max_size=SPOOL_BYTES, mode="rb+")
        self._cap = cap
        self._written = 0

    def write(self, data: Any) -> int:
        self._written += len(data)
        if self._written > self._cap:
            raise FileTooLarge()
        return super().write(data)


def form_body(
    *,
    max_bytes: int,
    max_parts: int = 64,
    max_field_bytes: int = 1024 * 1024,
    max_file_bytes: int | None = None,
    file_param: str | None = None,
) -> Form:
    """The multipart form of this request, read under `max_bytes` in all and, with `max_file_bytes`,
    each file part under that size too (a 413 naming `file_param` as soon as one passes it)."""
    if request.mimetype != "multipart/form-data":
        raise UnsupportedMediaTypeError(
            f"Unsupported Content-Type {request.mimetype or 'none'!r}: send the body as multipart/form-data."
        )
    # werkzeug's chunked reader refuses a body that reaches its limit (it cannot tell it from one cut
    # there), so a chunked body gets one byte of room to be treated like a declared one.
    request.max_content_length = max_bytes if request.content_length is not None else max_bytes + 1
    request.max_form_parts = max_parts
    # werkzeug measures this against each 64 KiB read of the body, file parts included: below that a
    # file upload would be refused as an oversized field.
    request.max_form_memory_size = max(max_field_bytes, 128 * 1024)
    if max_file_bytes is not None:
        cap = max_file_bytes
        # werkzeug asks the request for each file part's container; this request's answer is capped.
        request._get_file_stream = lambda *args, **kwargs: _CappedSpool(cap)  # type: ignore[method-assign]
    try:
        fields = {name: request.form.getlist(name) for name in request.form}
        files = {
            name: [
                Upload(name, storage.filename or "", storage.mimetype or "application/octet-stream",
                       storage.stream, _size(storage))
                for storage in request.files.getlist(name)
            ]
            for name in request.files
        }
    except FileTooLarge:
        raise PayloadTooLargeError(
            f"Maximum content size limit ({max_file_bytes}) exceeded: a file in the form is larger.",
            param=file_param,
        ) from None
    except RequestEntityTooLarge:
        raise PayloadTooLargeError(
            f"The request body is too large: at most {max_bytes} bytes, {max_parts} parts and "
            f"{max_field_bytes} bytes per text field are accepted."
        ) from None
    if None in fields or None in files:  # a part whose Content-Disposition names no field
        raise InvalidRequestError("A part of the multipart form has no field name (Content-Disposition: "
                                  'form-data; name="...").')
    return Form(fields, files)


def parse_form(model: type[Model], form: Form) -> Model:
    parsed = parse_model(model, form.scalars())
    note_ignored(parsed)
    return parsed
