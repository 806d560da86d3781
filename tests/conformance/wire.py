"""Every body and every streamed event a client under test receives, checked against OpenAI's spec.

The clients keep their own HTTP stack: httpx2, on which the Python SDK 3.x builds its default clients
(and so LangChain's and pydantic-ai's). A transport wrapped around httpx2's own hands each response to a
:class:`SpecCheck` on its way in: JSON bodies are read and validated before the client sees them, SSE
streams are validated event by event as they pass (nothing is buffered), binary bodies go through
untouched. The Node SDK's bodies arrive as a log of exchanges from its `fetch` wrapper and go through the
same checks.

Problems are collected, not raised inside the client (an exception there would turn into the SDK's
retry and `APIConnectionError`): the conformance conftest fails the test that saw one. Where
../shared's spec is absent the validation is left out and only counted as such.
"""

from __future__ import annotations

import base64
import json
import re
from collections import Counter
from collections.abc import AsyncIterator, Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx2

from tests.support import openai_spec

Selector = Callable[[Any], str]

# (method, path under /v1, schema of a JSON body or a selector, how its SSE events are checked)
# Stream kinds: ("chunk", Schema) validates each data event as Schema; ("union", Union) validates each
# event as the member of Union its `type` names.
ROUTES: list[tuple[str, re.Pattern[str], str | Selector | None, tuple[str, str] | None]] = []


def _route(method: str, path: str, body: str | Selector | None, stream: tuple[str, str] | None = None) -> None:
    ROUTES.append((method, re.compile(path + r"/?"), body, stream))


def _transcription(body: Any) -> str:
    verbose = isinstance(body, dict) and any(k in body for k in ("segments", "words", "task", "duration"))
    return "CreateTranscriptionResponseVerboseJson" if verbose else "CreateTranscriptionResponseJson"


def _translation(body: Any) -> str:
    verbose = isinstance(body, dict) and any(k in body for k in ("segments", "task", "duration"))
    return "CreateTranslationResponseVerboseJson" if verbose else "CreateTranslationResponseJson"


_route("GET", r"models", "ListModelsResponse")
_route("GET", r"models/.+", "Model")
_route("POST", r"chat/completions", "CreateChatCompletionResponse", ("chunk", "CreateChatCompletionStreamResponse"))
_route("POST", r"completions", "CreateCompletionResponse", ("chunk", "CreateCompletionResponse"))
_route("POST", r"embeddings", "CreateEmbeddingResponse")
_route("POST", r"responses", "Response", ("union", "ResponseStreamEvent"))
_route("POST", r"responses/[^/]+/cancel", "Response")
_route("GET", r"responses/[^/]+/input_items", "ResponseItemList")
_route("GET", r"responses/[^/]+", "Response", ("union", "ResponseStreamEvent"))
_route("DELETE", r"responses/[^/]+", None)  # the spec documents no body for it
_route("POST", r"audio/transcriptions", _transcription, ("union", "CreateTranscriptionResponseStreamEvent"))
_route("POST", r"audio/translations", _translation)
_route("POST", r"audio/speech", None, ("union", "CreateSpeechResponseStreamEvent"))
_route("POST", r"images/(generations|edits|variations)", "ImagesResponse")
_route("POST", r"moderations", "CreateModerationResponse")


def _is_base64_floats(value: Any) -> bool:
    try:
        return isinstance(value, str) and len(base64.b64decode(value, validate=True)) % 4 == 0
    except ValueError:
        return False


@dataclass(frozen=True)
class SpecGap:
    """A place where OpenAI's spec is stricter than OpenAI's own API (openai-api.md §4, §10): an error at
    `path` of `schema` is not counted when the value there passes `accepts`."""

    schema: str
    path: re.Pattern[str]
    accepts: Callable[[Any], bool]
    why: str


SPEC_GAPS = (
    SpecGap("CreateCompletionResponse", re.compile(r"choices/\d+/finish_reason"), lambda v: v is None,
            "OpenAI's legacy completion stream sends finish_reason null until the last chunk; the spec's enum "
            "has no null"),
    SpecGap("CreateEmbeddingResponse", re.compile(r"data/\d+/embedding"), _is_base64_floats,
            "with encoding_format=base64 (the SDKs' default) OpenAI sends each embedding as base64 float32; "
            "the spec describes only the float list"),
)


def _gap(schema: str, error: Any) -> bool:
    where = "/".join(map(str, error.absolute_path))
    return any(g.schema == schema and g.path.fullmatch(where) and g.accepts(error.instance) for g in SPEC_GAPS)


def _v1_path(url: httpx2.URL | str) -> str:
    path = httpx2.URL(str(url)).path
    _, found, rest = path.partition("/v1/")
    return rest if found else path.lstrip("/")


@dataclass
class SpecCheck:
    """What one test's clients received: counts of what was validated, and every problem found."""

    problems: list[str] = field(default_factory=list)
    validated: Counter[str] = field(default_factory=Counter)
    unvalidated: Counter[str] = field(default_factory=Counter)

    @property
    def spec_present(self) -> bool:
        return openai_spec.validator() is not None

    def _validate(self, schema: str, payload: Any, where: str) -> None:
        errors = openai_spec.spec_errors(schema, payload)
        if errors is None:
            self.unvalidated["spec absent"] += 1
            return
        kept = [f"{'/'.join(map(str, e.absolute_path)) or '<root>'}: {e.message[:200]}"
                for e in errors if not _gap(schema, e)]
        self.validated[schema] += 1
        if kept:
            self.problems.append(f"{where} is not a valid {schema}: {kept}")

    def _validate_event(self, union: str, event: Any, where: str) -> None:
        schemas = openai_spec.event_schemas(union)
        if not schemas:
            self.unvalidated["spec absent"] += 1
            return
        kind = event.get("type") if isinstance(event, dict) else None
        if kind not in schemas:
            self.problems.append(f"{where}: {kind!r} is not an event of {union}")
            return
        self._validate(schemas[kind], event, where)

    def route(self, method: str, url: httpx2.URL | str) -> tuple[str | Selector | None, tuple[str, str] | None, str]:
        path = _v1_path(url)
        for route_method, pattern, body, stream in ROUTES:
            if route_method == method and pattern.fullmatch(path):
                return body, stream, path
        return None, None, path

    def body(self, method: str, url: httpx2.URL | str, status: int, content_type: str, data: bytes) -> None:
        schema, _, path = self.route(method, url)
        where = f"{method} /v1/{path} ({status})"
        if "json" not in content_type:
            self.unvalidated[f"{content_type.split(';')[0] or 'no content type'} body"] += 1
            return
        try:
            payload = json.loads(data)
        except ValueError:
            self.problems.append(f"{where}: a JSON content type with a body that is not JSON: {data[:200]!r}")
            return
        if status >= 400:
            self._validate("ErrorResponse", payload, where)
        elif schema is None:
            self.unvalidated[f"{method} /v1/{path.split('/')[0]} (no schema in OpenAI's spec)"] += 1
        else:
            self._validate(schema if isinstance(schema, str) else schema(payload), payload, where)

    def event(self, method: str, url: httpx2.URL | str, name: str | None, data: str, index: int) -> None:
        _, stream, path = self.route(method, url)
        where = f"{method} /v1/{path} event {index}"
        if data.startswith("[DONE]"):
            return
        try:
            payload = json.loads(data)
        except ValueError:
            self.problems.append(f"{where}: data that is not JSON: {data[:200]!r}")
            return
        if stream is None:
            self.unvalidated[f"{method} /v1/{path.split('/')[0]} event (no schema in OpenAI's spec)"] += 1
        elif stream[0] == "chunk":
            if name is not None:
                self.problems.append(f"{where}: a named event ({name!r}) where OpenAI sends data-only events")
            if isinstance(payload, dict) and "error" in payload:
                self._validate("ErrorResponse", payload, where)
            else:
                self._validate(stream[1], payload, where)
        else:
            if name is not None and isinstance(payload, dict) and name != payload.get("type"):
                self.problems.append(f"{where}: event name {name!r} differs from its type {payload.get('type')!r}")
            self._validate_event(stream[1], payload, where)

    def exchange(self, record: dict[str, Any]) -> None:
        """One exchange as the Node SDK's fetch wrapper logs it: method, url, status, contentType, body."""
        method, url, status = record["method"], record["url"], record["status"]
        content_type = record.get("contentType") or ""
        if "text/event-stream" in content_type:
            decoder = SSEDecoder()
            events = list(decoder.feed(record["body"].encode())) + list(decoder.end())
            for index, (name, data) in enumerate(events):
                self.event(method, url, name, data, index)
        elif record.get("body") is not None:
            self.body(method, url, status, content_type, record["body"].encode())
        else:
            self.unvalidated["node body not logged (binary)"] += 1

    def total(self) -> int:
        return sum(self.validated.values())


class SSEDecoder:
    """Incremental SSE framing as the SDKs read it: CR, LF or CRLF line ends, comments skipped."""

    def __init__(self) -> None:
        self._buffer = b""
        self._name: str | None = None
        self._data: list[str] = []

    def feed(self, chunk: bytes) -> Iterator[tuple[str | None, str]]:
        self._buffer += chunk
        while True:
            match = re.search(rb"\r\n|\n|\r", self._buffer)
            if match is None or (match.group() == b"\r" and match.end() == len(self._buffer)):
                return  # a lone CR at the end may be half of a CRLF
            line, self._buffer = self._buffer[: match.start()], self._buffer[match.end() :]
            event = self._line(line.decode("utf-8"))
            if event is not None:
                yield event

    def end(self) -> Iterator[tuple[str | None, str]]:
        """The body ended: its last line (and a pending CR) ends too, and so does an event still open."""
        yield from self.feed(b"\n")
        event = self._line("")
        if event is not None:
            yield event

    def _line(self, line: str) -> tuple[str | None, str] | None:
        if not line:
            if self._name is None and not self._data:
                return None
            event = (self._name, "\n".join(self._data))
            self._name, self._data = None, []
            return event
        if line.startswith(":"):
            return None
        name, _, value = line.partition(":")
        value = value.removeprefix(" ")
        if name == "event":
            self._name = value
        elif name == "data":
            self._data.append(value)
        return None


def _events(check: SpecCheck, request: httpx2.Request) -> Callable[[Iterable[tuple[str | None, str]]], None]:
    counter = iter(range(1_000_000))

    def seen(events: Iterable[tuple[str | None, str]]) -> None:
        for name, data in events:
            check.event(request.method, request.url, name, data, next(counter))

    return seen


class _CheckedStream(httpx2.SyncByteStream):
    def __init__(self, inner: httpx2.SyncByteStream, seen: Callable[[Iterable[tuple[str | None, str]]], None]) -> None:
        self._inner, self._seen, self._decoder = inner, seen, SSEDecoder()

    def __iter__(self) -> Iterator[bytes]:
        for chunk in self._inner:
            self._seen(self._decoder.feed(chunk))
            yield chunk
        self._seen(self._decoder.end())

    def close(self) -> None:
        self._inner.close()


class _AsyncCheckedStream(httpx2.AsyncByteStream):
    def __init__(self, inner: httpx2.AsyncByteStream, seen: Callable[[Iterable[tuple[str | None, str]]], None]) -> None:
        self._inner, self._seen, self._decoder = inner, seen, SSEDecoder()

    async def __aiter__(self) -> AsyncIterator[bytes]:
        async for chunk in self._inner:
            self._seen(self._decoder.feed(chunk))
            yield chunk
        self._seen(self._decoder.end())

    async def aclose(self) -> None:
        await self._inner.aclose()


def _kind(response: httpx2.Response) -> str:
    content_type = response.headers.get("content-type", "")
    if "text/event-stream" in content_type:
        return "sse"
    return "json" if "json" in content_type else "other"


def _already_read(response: httpx2.Response) -> bool:
    """A transport may answer with the body already read (httpx's MockTransport does); real ones stream."""
    try:
        response.content  # noqa: B018
    except httpx2.ResponseNotRead:
        return False
    return True


def _rebuilt(response: httpx2.Response, raw: bytes) -> httpx2.Response:
    return httpx2.Response(response.status_code, headers=response.headers, stream=httpx2.ByteStream(raw),
                          extensions=response.extensions)


def _decoded(response: httpx2.Response, raw: bytes) -> bytes:
    return httpx2.Response(response.status_code, headers=response.headers, content=raw).content


class SpecTransport(httpx2.BaseTransport):
    """httpx's own transport, with every response shown to a :class:`SpecCheck` on the way in."""

    def __init__(self, check: SpecCheck, inner: httpx2.BaseTransport | None = None) -> None:
        self.check, self.inner = check, inner or httpx2.HTTPTransport()

    def handle_request(self, request: httpx2.Request) -> httpx2.Response:
        response = self.inner.handle_request(request)
        kind = _kind(response)
        if kind == "sse":
            seen = _events(self.check, request)
            if _already_read(response):
                decoder = SSEDecoder()
                seen([*decoder.feed(response.content), *decoder.end()])
            else:
                assert isinstance(response.stream, httpx2.SyncByteStream)
                response.stream = _CheckedStream(response.stream, seen)
            return response
        if kind == "json":
            try:
                raw = b"".join(response.iter_raw())
            except httpx2.StreamConsumed:  # a transport that answers with the body already read
                raw = response.content
            finally:
                response.close()
            self.check.body(request.method, request.url, response.status_code,
                            response.headers.get("content-type", ""), _decoded(response, raw))
            return _rebuilt(response, raw)
        self.check.body(request.method, request.url, response.status_code, response.headers.get("content-type", ""),
                        b"")
        return response

    def close(self) -> None:
        self.inner.close()


class AsyncSpecTransport(httpx2.AsyncBaseTransport):
    """The async twin of :class:`SpecTransport` (LangChain's and pydantic-ai's async clients)."""

    def __init__(self, check: SpecCheck, inner: httpx2.AsyncBaseTransport | None = None) -> None:
        self.check, self.inner = check, inner or httpx2.AsyncHTTPTransport()

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        response = await self.inner.handle_async_request(request)
        kind = _kind(response)
        if kind == "sse":
            seen = _events(self.check, request)
            if _already_read(response):
                decoder = SSEDecoder()
                seen([*decoder.feed(response.content), *decoder.end()])
            else:
                assert isinstance(response.stream, httpx2.AsyncByteStream)
                response.stream = _AsyncCheckedStream(response.stream, seen)
            return response
        if kind == "json":
            try:
                raw = b"".join([chunk async for chunk in response.aiter_raw()])
            except httpx2.StreamConsumed:
                raw = response.content
            finally:
                await response.aclose()
            self.check.body(request.method, request.url, response.status_code,
                            response.headers.get("content-type", ""), _decoded(response, raw))
            return _rebuilt(response, raw)
        self.check.body(request.method, request.url, response.status_code, response.headers.get("content-type", ""),
                        b"")
        return response

    async def aclose(self) -> None:
        await self.inner.aclose()
