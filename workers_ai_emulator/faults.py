"""Fault injection: delays, forced errors, cut streams, forced lengths.

Each knob can come from three layers, most specific first: a per-request
``x-emulator-*`` header, the runtime control API (``POST /__emulator/faults``)
and the CLI flag given at start. Layering lets a benchmark set a global
latency on the command line while one test overrides it for one request.

``fail_times`` makes a failure transient so retry logic can be tested:
- runtime layer: the next N run requests fail, then the failure fields clear;
- header layer: the first N requests carrying the same fault headers on the
  same path fail, later ones succeed (the gateway replays the client's
  headers on every retry). Those counters reset on ``DELETE /__emulator/faults``.
CLI failures never clear.

Besides forced error envelopes, the upstream can break the way networks and proxies do:
``reset`` drops the connection with a TCP reset instead of answering (a failure, so
``fail_times`` makes it transient too); ``hang_ms`` waits that long before anything is
answered (the gateway's read timeout); ``malformed_json`` cuts a JSON reply in half;
``content_type`` replaces the Content-Type of whatever is answered; ``truncate_bytes`` drops
the connection after that many bytes of a binary reply (an image or speech) whose full
length was declared; ``pad_bytes`` adds that many bytes to a binary reply (an oversized
body). :mod:`.breakage` carries them out.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

from .envelope import ApiError, code_for_status, default_message, status_for_code

N = TypeVar("N", int, float)


def _parse_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("1", "true", "yes", "on"):
        return True
    if text in ("0", "false", "no", "off", ""):
        return False
    raise ValueError(f"not a boolean: {value!r}")


def _non_negative(kind: Callable[[Any], N]) -> Callable[[Any], N]:
    def parse(value: Any) -> N:
        if isinstance(value, bool):
            raise ValueError("booleans are not numbers")
        number = kind(value)
        if number < 0:
            raise ValueError("must be >= 0")
        return number

    return parse


_parse_nonneg_int = _non_negative(int)
_parse_nonneg_float = _non_negative(float)


# field -> (request header, parser)
FIELDS: dict[str, tuple[str, Callable[[Any], Any]]] = {
    "ttft_ms": ("x-emulator-ttft-ms", _parse_nonneg_float),
    "token_delay_ms": ("x-emulator-token-delay-ms", _parse_nonneg_float),
    "fail_status": ("x-emulator-fail-status", _parse_nonneg_int),
    "fail_code": ("x-emulator-fail-code", _parse_nonneg_int),
    "fail_message": ("x-emulator-fail-message", str),
    "fail_times": ("x-emulator-fail-times", _parse_nonneg_int),
    "retry_after": ("x-emulator-retry-after", str),
    "cut_after": ("x-emulator-cut-after", _parse_nonneg_int),
    "tokens": ("x-emulator-tokens", _parse_nonneg_int),
    "stream_as_json": ("x-emulator-stream-as-json", _parse_bool),
    "hold_after_done_ms": ("x-emulator-hold-after-done-ms", _parse_nonneg_float),
    "empty_when_streamed": ("x-emulator-empty-when-streamed", _parse_bool),
    "reset": ("x-emulator-reset", _parse_bool),
    "hang_ms": ("x-emulator-hang-ms", _parse_nonneg_float),
    "malformed_json": ("x-emulator-malformed-json", _parse_bool),
    "content_type": ("x-emulator-content-type", str),
    "truncate_bytes": ("x-emulator-truncate-bytes", _parse_nonneg_int),
    "pad_bytes": ("x-emulator-pad-bytes", _parse_nonneg_int),
}
FAILURE_FIELDS = ("fail_status", "fail_code", "fail_message", "fail_times", "retry_after", "reset")


class ResetConnection(Exception):
    """The forced failure ``reset``: the connection is dropped with a TCP reset, nothing answered."""


def parse_fields(raw: Mapping[str, Any], source: str) -> dict[str, Any]:
    """Validate a field mapping; ``None`` values mean "not set"."""
    parsed: dict[str, Any] = {}
    for name, value in raw.items():
        if name not in FIELDS:
            raise ValueError(f"unknown fault field {name!r} in {source}")
        if value is None:
            continue
        try:
            parsed[name] = FIELDS[name][1](value)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"bad value for {name} in {source}: {exc}") from exc
    return parsed


def header_fields(headers: Mapping[str, str]) -> dict[str, Any]:
    raw = {name: headers[header] for name, (header, _) in FIELDS.items() if header in headers}
    try:
        return parse_fields(raw, "headers")
    except ValueError as exc:
        raise ApiError(5006, f"AiError: Bad input: Error: {exc}") from exc


@dataclass(frozen=True)
class Faults:
    """The effective, non-failure knobs for one request."""

    ttft_ms: float = 0.0
    token_delay_ms: float = 0.0
    cut_after: int | None = None
    tokens: int | None = None
    stream_as_json: bool = False
    hold_after_done_ms: float = 0.0  # keep a stream's body open this long after [DONE]
    empty_when_streamed: bool = False  # gpt-oss's reported quirk: `stream: true` -> `{"result": {}}`
    hang_ms: float = 0.0  # nothing at all is answered for this long
    malformed_json: bool = False  # a JSON reply's body is cut in half
    content_type: str | None = None  # replaces the reply's Content-Type
    truncate_bytes: int | None = None  # a binary reply stops after this many of its declared bytes
    pad_bytes: int = 0  # a binary reply grows by this many bytes


@dataclass
class FaultState:
    """Holds the CLI and runtime layers and the transient-failure counters."""

    cli: dict[str, Any] = field(default_factory=dict)
    runtime: dict[str, Any] = field(default_factory=dict)
    _runtime_failures_left: int | None = None
    _header_failures: dict[tuple[Any, ...], int] = field(default_factory=dict)

    def set_runtime(self, raw: Mapping[str, Any]) -> None:
        """Replace the runtime layer (a POST is a full description, not a patch)."""
        self.runtime = parse_fields(raw, "control body")
        self._runtime_failures_left = self.runtime.get("fail_times")

    def clear_runtime(self) -> None:
        self.runtime = {}
        self._runtime_failures_left = None
        self._header_failures.clear()

    def describe(self) -> dict[str, Any]:
        return {"cli": dict(self.cli), "runtime": dict(self.runtime)}

    def resolve(self, headers: Mapping[str, str]) -> tuple[Faults, dict[str, Any]]:
        """Effective knobs plus the parsed header layer (needed by :meth:`failure`)."""
        from_headers = header_fields(headers)
        merged = {**self.cli, **self.runtime, **from_headers}
        faults = Faults(
            ttft_ms=merged.get("ttft_ms", 0.0),
            token_delay_ms=merged.get("token_delay_ms", 0.0),
            cut_after=merged.get("cut_after"),
            tokens=merged.get("tokens"),
            stream_as_json=merged.get("stream_as_json", False),
            hold_after_done_ms=merged.get("hold_after_done_ms", 0.0),
            empty_when_streamed=merged.get("empty_when_streamed", False),
            hang_ms=merged.get("hang_ms", 0.0),
            malformed_json=merged.get("malformed_json", False),
            content_type=merged.get("content_type"),
            truncate_bytes=merged.get("truncate_bytes"),
            pad_bytes=merged.get("pad_bytes", 0),
        )
        return faults, from_headers

    def failure(self, from_headers: dict[str, Any], path: str, model: str) -> ApiError | ResetConnection | None:
        """The forced error for this request, if any, consuming one ``fail_times`` use."""
        retry_after = {**self.cli, **self.runtime, **from_headers}.get("retry_after")
        if _fails(from_headers):
            times = from_headers.get("fail_times")
            if times is not None:
                key = (path, *(from_headers.get(name) for name in FAILURE_FIELDS))
                used = self._header_failures.get(key, 0)
                if used >= times:
                    return None
                self._header_failures[key] = used + 1
            return _forced_error(from_headers, retry_after, model)
        if _fails(self.runtime):
            error = _forced_error(self.runtime, retry_after, model)
            if self._runtime_failures_left is not None:
                self._runtime_failures_left -= 1
                if self._runtime_failures_left <= 0:
                    for name in FAILURE_FIELDS:
                        self.runtime.pop(name, None)
                    self._runtime_failures_left = None
            return error
        if _fails(self.cli):
            return _forced_error(self.cli, retry_after, model)
        return None


def _fails(layer: Mapping[str, Any]) -> bool:
    """A layer forces failure when it names a status, a code or a reset (fail_times 0 = no-op)."""
    if layer.get("fail_times") == 0:
        return False
    return layer.get("fail_status") is not None or layer.get("fail_code") is not None or bool(layer.get("reset"))


def _forced_error(layer: Mapping[str, Any], retry_after: str | None, model: str) -> ApiError | ResetConnection:
    if layer.get("reset") and layer.get("fail_status") is None and layer.get("fail_code") is None:
        return ResetConnection()
    status = layer.get("fail_status")
    code = layer.get("fail_code")
    if code is None:
        code = code_for_status(status)
    if status is None:
        status = status_for_code(code)
    message = layer.get("fail_message") or default_message(code, model=model, what="emulated failure")
    headers = {"Retry-After": str(retry_after)} if retry_after is not None else {}
    return ApiError(code, message, status=status, headers=headers)
