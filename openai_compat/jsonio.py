"""The gateway's JSON codec: orjson for speed, the standard library where orjson says no.

JSON is most of the gateway's own work on the big payloads: a 1,000-input embeddings answer is
768,000 floats, which the standard library takes ~360 ms to encode and orjson ~30 ms; decoding
Workers AI's replies and every streamed chunk gains likewise. orjson is stricter, so whatever
it refuses goes through the standard library exactly as before: lone surrogates (which are escaped,
so a stream never breaks on them), integers past 64 bits, NaN from upstream, JSON nested past
orjson's depth limit. Decoding errors are `ValueError`s from either library, as callers expect.

Client request bodies are not decoded here (see `json_body`): orjson reads integers past 64 bits
as floats, which is harmless in Workers AI's replies but must not change a client's numbers.
"""

from __future__ import annotations

import json
from typing import Any

import orjson
from flask import Response
from flask.json.provider import JSONProvider


def loads(data: bytes | str) -> Any:
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError:
        return json.loads(data)


def dumps(value: Any) -> bytes:
    """Compact JSON, UTF-8, keys in insertion order (the order OpenAI's own bodies use)."""
    try:
        return orjson.dumps(value)
    except TypeError:
        return json.dumps(value, separators=(",", ":")).encode()


class FlaskJSON(JSONProvider):
    """Makes `jsonify` and `request.get_json` use this codec, and hands Flask bytes, not a str to re-encode."""

    def dumps(self, obj: Any, **kwargs: Any) -> str:
        return dumps(obj).decode()

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        return json.loads(s)  # client input: exact integers (see the module docstring)

    def response(self, *args: Any, **kwargs: Any) -> Response:
        return self._app.response_class(dumps(self._prepare_response_obj(args, kwargs)), mimetype="application/json")
