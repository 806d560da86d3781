"""Incremental parser for the Server-Sent Events that Workers AI streams.

Network chunks split events anywhere: inside a line, between CR and LF, inside a multi-byte
UTF-8 character. The parser works on bytes throughout (the JSON decoder takes bytes and checks
their UTF-8 itself), and hands over each event's data the moment its terminating blank line arrives,
so nothing waits for the next chunk. It is pushed chunks rather than pulling them, so its reader
decides when to wait for the next one (and can notice a silence meanwhile).
"""

from __future__ import annotations


class EventParser:
    """`feed` network chunks, get the `data` of every event they complete (multi-line data joined
    with newlines); `close` at the end of the body for an event left without its blank line."""

    def __init__(self) -> None:
        self._buffer = b""
        self._data: list[bytes] = []
        self._pending_cr = False

    def feed(self, chunk: bytes) -> list[bytes]:
        if not chunk:
            return []
        if self._pending_cr and chunk.startswith(b"\n"):
            chunk = chunk[1:]  # the LF of a CRLF split across two chunks
        self._pending_cr = chunk.endswith(b"\r")
        text = self._buffer + chunk if self._buffer else chunk
        if b"\r" in text:
            text = text.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
        lines = text.split(b"\n")
        self._buffer = lines.pop()
        events: list[bytes] = []
        data = self._data
        for line in lines:
            if not line:
                if data:
                    events.append(data[0] if len(data) == 1 else b"\n".join(data))
                    data.clear()
            elif line.startswith(b"data:"):
                data.append(_value(line))
            elif line == b"data":
                data.append(b"")
            # other fields (event, id, retry) and comments (":...") carry nothing the gateway reads
        return events

    def close(self) -> list[bytes]:
        tail = self._buffer.strip()
        self._buffer = b""
        if tail.startswith(b"data:"):
            self._data.append(_value(tail))
        if not self._data:
            return []
        event, self._data = b"\n".join(self._data), []
        return [event]


def _value(line: bytes) -> bytes:
    """A `data:` line's value: one space after the colon is part of the syntax, any more are data."""
    value = line[5:]
    return value[1:] if value.startswith(b" ") else value
