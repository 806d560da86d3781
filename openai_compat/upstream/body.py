"""What the gateway sends Workers AI: JSON, raw bytes with a content type, or multipart form data.

Most models take JSON; the ASR models also take the raw audio with its content type, and FLUX-2
takes `multipart/form-data`. A body can be bytes or a file opened for reading (a spooled upload),
so a large upload is sent from disk in pieces and never held whole in memory; a file body is
rewound before each retry. Models that want the audio inside JSON (base64 for whisper-large-v3-turbo,
an array of byte values for whisper) get it from `json_with_file_body`: the JSON is produced from the
file as it is sent, with its exact length known beforehand.
"""

from __future__ import annotations

import base64
import io
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import IO, Any, Literal

from urllib3.filepost import encode_multipart_formdata

from openai_compat.core import jsonio

FilePart = tuple[str, bytes, str]
"""(file name, bytes, content type) of a multipart file field."""


@dataclass(frozen=True)
class Body:
    content_type: str
    data: bytes | IO[bytes]

    @property
    def length(self) -> int:
        if isinstance(self.data, bytes | bytearray):
            return len(self.data)
        return _seek_length(self.data)

    def rewound(self) -> bytes | IO[bytes]:
        """The data ready to be sent from its start (a retry sends the file again)."""
        if not isinstance(self.data, bytes | bytearray):
            self.data.seek(0)
        return self.data


def _seek_length(handle: IO[bytes]) -> int:
    position = handle.tell()
    handle.seek(0, os.SEEK_END)
    size = handle.tell()
    handle.seek(position)
    return size


def json_body(payload: Any) -> Body:
    return Body("application/json", jsonio.dumps(payload))


def raw_body(data: bytes | IO[bytes], content_type: str) -> Body:
    return Body(content_type, data)


def multipart_body(fields: Sequence[tuple[str, str | FilePart]]) -> Body:
    """A `multipart/form-data` body (urllib3's encoder); text fields and (name, bytes, type) files."""
    data, content_type = encode_multipart_formdata(list(fields))
    return Body(content_type, data)


FileEncoding = Literal["base64", "byte_array"]
"""How a file's bytes stand in JSON: a base64 string, or an array of integers 0-255."""
READ_BYTES = 48 * 1024  # a multiple of 3: base64 of each read needs no padding but the last
_UNDER_10 = bytes(range(10))
_UNDER_100 = bytes(range(100))


def _byte_array_length(size: int, handle: IO[bytes]) -> int:
    """Characters of `1, 2, 255` for the whole file: every byte is one to three digits, and every
    byte but the first has a `, ` before it. Counted from the file in pieces, not from a copy."""
    digits = 0
    handle.seek(0)
    while chunk := handle.read(READ_BYTES):
        digits += len(chunk) + len(chunk.translate(None, _UNDER_10)) + len(chunk.translate(None, _UNDER_100))
    handle.seek(0)
    return digits + 2 * max(0, size - 1)


class JsonWithFile(io.RawIOBase):
    """A JSON object, one of whose fields holds a file's bytes, produced as it is read.

    `fields` come first, then `"<key>": "<base64>"` or `"<key>": [1, 2, ...]`. Its size is known
    before a byte is sent (the upstream needs a Content-Length), and it can be rewound for a retry;
    seeking anywhere else is refused.
    """

    def __init__(self, fields: dict[str, Any], key: str, handle: IO[bytes], encoding: FileEncoding) -> None:
        super().__init__()
        self._handle = handle
        self._encoding = encoding
        opener, closer = (b'"', b'"') if encoding == "base64" else (b"[", b"]")
        members = b"".join(jsonio.dumps(name) + b":" + jsonio.dumps(value) + b"," for name, value in fields.items())
        self._head = b"{" + members + jsonio.dumps(key) + b":" + opener
        self._tail = closer + b"}"
        file_size = _seek_length(handle)
        base64_size = 4 * ((file_size + 2) // 3)
        encoded = base64_size if encoding == "base64" else _byte_array_length(file_size, handle)
        self.size = len(self._head) + encoded + len(self._tail)
        self._pieces: Iterator[bytes] = iter(())
        self._pending = b""
        self._position = 0
        self.seek(0)

    def _generate(self) -> Iterator[bytes]:
        yield self._head
        first = True
        while chunk := self._handle.read(READ_BYTES):
            if self._encoding == "base64":
                yield base64.b64encode(chunk)
            else:
                # `str(list(...))` writes the numbers in C: `[1, 2, 3]`, brackets trimmed.
                yield (b"" if first else b", ") + str(list(chunk))[1:-1].encode("ascii")
            first = False
        yield self._tail

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        wanted = len(buffer)
        while len(self._pending) < wanted:
            piece = next(self._pieces, None)
            if piece is None:
                break
            self._pending += piece
        taken, self._pending = self._pending[:wanted], self._pending[wanted:]
        buffer[: len(taken)] = taken
        self._position += len(taken)
        return len(taken)

    def tell(self) -> int:
        return self._position

    def seek(self, offset: int, whence: int = os.SEEK_SET) -> int:
        if whence == os.SEEK_END and offset == 0:
            # Only to learn the size (what `Body.length` does); the next read ends at once.
            self._pieces, self._pending, self._position = iter(()), b"", self.size
        elif whence == os.SEEK_SET and offset == 0:
            self._handle.seek(0)
            self._pieces, self._pending, self._position = self._generate(), b"", 0
        elif not (whence == os.SEEK_SET and offset == self._position):
            raise io.UnsupportedOperation("a JSON body streamed from a file can only be rewound")
        return self._position


def json_with_file_body(fields: dict[str, Any], key: str, handle: IO[bytes], encoding: FileEncoding) -> Body:
    """JSON carrying a file in `key` (base64 or a byte array), read from the file as it is sent."""
    return Body("application/json", JsonWithFile(fields, key, handle, encoding))
