"""The gateway's JSON codec: orjson for speed, the standard library where orjson says no.

JSON is most of the gateway's own work on the big payloads: a 1,000-input embeddings answer is
768,000 floats, which the standard library takes ~360 ms to encode and orjson ~30 ms; decoding
Workers AI's replies and every streamed chunk gains likewise. orjson is stricter, so whatever
it refuses goes through the standard library exactly as before: lone surrogates (which are escaped,
so a stream never breaks on them), integers past 64 bits, NaN from upstream, JSON nested past
orjson's depth limit. Decoding errors are `ValueError`s from either library, as callers expect.

orjson does not refuse integers past 64 bits on input: it reads them as floats, which would change
an ID in a model's tool-call arguments or JSON-mode answer. So text with a run of 19 or more digits
that is not a fraction goes to the standard library (a scan of about 1 ms per MB; false alarms,
like digits inside a string, only cost speed). Client request bodies are read in `json_body`.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import orjson

_DIGIT_SHAPES = b"".join(b"0" if c in b"0123456789" else b"." if c == ord(".") else b" " for c in range(256))
_LONG_INTEGER = b" " + b"0" * 19  # 2**63 has 19 digits


def _may_hold_a_long_integer(raw: bytes) -> bool:
    shapes = raw.translate(_DIGIT_SHAPES)  # digits -> "0", "." kept, everything else -> " "
    return _LONG_INTEGER in shapes or shapes.startswith(_LONG_INTEGER[1:])


def loads(data: bytes | str) -> Any:
    raw = data.encode("utf-8", "surrogatepass") if isinstance(data, str) else data
    if _may_hold_a_long_integer(raw):
        return json.loads(data)
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError:
        return json.loads(data)


def dumps(value: Any, default: Callable[[Any], Any] | None = None) -> bytes:
    """Compact JSON, UTF-8, keys in insertion order (the order OpenAI's own bodies use). `default`
    turns what JSON has no type for into something it has (log lines pass `str`)."""
    try:
        return orjson.dumps(value, default=default, option=orjson.OPT_SERIALIZE_NUMPY)  # embeddings: numpy rows
    except TypeError:
        return json.dumps(value, separators=(",", ":"), default=_plain(default)).encode()


def _plain(default: Callable[[Any], Any] | None) -> Callable[[Any], Any]:
    def plain(value: Any) -> Any:
        tolist = getattr(value, "tolist", None)  # a numpy array, when the standard library has to write it
        if tolist is not None:
            return tolist()
        if default is not None:
            return default(value)
        raise TypeError(f"{type(value).__name__} is not JSON serializable")

    return plain

