"""Incremental parser for the Server-Sent Events that Workers AI streams.

Network chunks split events anywhere: inside a line, between CR and LF, inside a multi-byte
UTF-8 character. The parser works on bytes and only decodes complete lines, and yields each
event's data the moment its terminating blank line arrives, so nothing waits for the next chunk.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator


def iter_event_data(chunks: Iterable[bytes]) -> Iterator[str]:
    """Yield the `data` of every event (multi-line data joined with newlines)."""
    buffer = b""
    data_lines: list[str] = []
    pending_cr = False
    for chunk in chunks:
        if not chunk:
            continue
        if pending_cr and chunk.startswith(b"\n"):
            chunk = chunk[1:]  # the LF of a CRLF split across two chunks
        pending_cr = chunk.endswith(b"\r")
        buffer += chunk
        lines = buffer.replace(b"\r\n", b"\n").replace(b"\r", b"\n").split(b"\n")
        buffer = lines.pop()
        for raw in lines:
            line = raw.decode("utf-8")
            if not line:
                if data_lines:
                    yield "\n".join(data_lines)
                    data_lines = []
                continue
            if line.startswith(":"):
                continue
            name, _, value = line.partition(":")
            if name == "data":
                data_lines.append(value.removeprefix(" "))
    tail = buffer.decode("utf-8").strip()
    if tail.startswith("data:"):
        data_lines.append(tail[5:].lstrip(" "))
    if data_lines:
        yield "\n".join(data_lines)
