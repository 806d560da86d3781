"""Choice streams -> SSE bytes, shared by Chat Completions and Completions.

An upstream failure after the first byte can no longer change the HTTP status, so it becomes an
in-band `{"error": ...}` event (the SDKs raise on it) and the stream ends without `[DONE]` and
without a made-up finish reason.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from itertools import repeat
from typing import Any, Protocol

from openai_compat.core.concurrency import merge
from openai_compat.core.logs import note
from openai_compat.core.metering import Usage
from openai_compat.core.sse import DONE, QUIET, Quiet, data_event
from openai_compat.errors import APIError, InternalError
from openai_compat.textgen.choices import ChoiceEnd
from openai_compat.textgen.output import combine_usage
from openai_compat.textgen.stream import Piece

log = logging.getLogger("openai_compat.stream")


class ChunkFormatter(Protocol):
    def role(self, index: int, first: Piece | ChoiceEnd) -> dict[str, Any] | None: ...
    def piece(self, index: int, piece: Piece) -> dict[str, Any] | None: ...
    def finish(self, index: int, finish_reason: str) -> dict[str, Any]: ...
    def usage(self, usage: Usage) -> dict[str, Any]: ...


def choice_events(
    streams: list[Iterator[Piece | ChoiceEnd | Quiet]],
    formatter: ChunkFormatter,
    *,
    include_usage: bool,
    choices_per_prompt: int,
    on_usage: Callable[[Usage], None],
) -> Iterator[bytes | Quiet]:
    """SSE bytes for the merged choice streams (and their silences, `QUIET`); `on_usage` gets the
    request's usage once it is known."""
    opened: set[int] = set()
    usages: dict[int, Usage] = {}
    try:
        # One choice (nearly every request) is read straight from its stream: no layer per event.
        source = zip(repeat(0), streams[0]) if len(streams) == 1 else merge(streams)
        for index, item in source:
            if item is QUIET:
                yield QUIET
                continue
            opening = b""
            if index not in opened:
                # Opened with the choice's first upstream event, so the heartbeat covers the wait, and
                # written together with that event's chunk: one write, so the first token is not
                # a second packet behind the role.
                opened.add(index)
                role = formatter.role(index, item)  # type: ignore[arg-type]
                opening = data_event(role) if role is not None else b""
            if isinstance(item, ChoiceEnd):
                usages[index] = item.usage
                yield opening + data_event(formatter.finish(index, item.finish_reason))
                continue
            chunk = formatter.piece(index, item)
            if chunk is not None:
                yield opening + data_event(chunk)
            elif opening:
                yield opening
    except APIError as exc:
        note(stream_error=exc.code)  # counted in the metrics as an upstream error after the first byte
        yield data_event(exc.body())
        return
    except Exception:
        log.exception("stream failed")
        yield data_event(InternalError("The stream failed inside the gateway.").body())
        return
    usage = combine_usage([usages[i] for i in sorted(usages)], choices_per_prompt)
    on_usage(usage)
    if include_usage:
        yield data_event(formatter.usage(usage))
    yield DONE
