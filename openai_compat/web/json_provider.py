"""Flask's JSON provider on the gateway's codec: `jsonify` hands Flask bytes, not a str to re-encode."""

from __future__ import annotations

import json
from typing import Any

from flask import Response
from flask.json.provider import JSONProvider

from openai_compat.core import jsonio


class FlaskJSON(JSONProvider):
    def dumps(self, obj: Any, **kwargs: Any) -> str:
        return jsonio.dumps(obj).decode()

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        return json.loads(s)  # client input: exact integers (see jsonio's docstring)

    def response(self, *args: Any, **kwargs: Any) -> Response:
        return self._app.response_class(
            jsonio.dumps(self._prepare_response_obj(args, kwargs)), mimetype="application/json"
        )
