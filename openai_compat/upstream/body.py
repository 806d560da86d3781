"""What the gateway sends Workers AI: JSON, raw bytes with a content type, or multipart form data.

Most models take JSON; the ASR models also take the raw audio with its content type, and FLUX-2
takes `multipart/form-data`. A body can be bytes or a file opened for reading (a spooled upload),
so a large upload is sent from disk in pieces and never held whole in memory; a file body is
rewound before each retry.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from typing import IO, Any

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
