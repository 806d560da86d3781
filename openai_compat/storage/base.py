"""The storage interface every backend implements, and its errors.

Objects are written whole before anyone is told their key (a URL or an id is handed out only after
`put` returned), read back as a stream of chunks, and listed by prefix. Keys are relative paths of
safe characters chosen by the gateway; `check_key` refuses anything else, so no caller can reach
outside the prefix it owns.
"""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import IO, Any

from openai_compat.core import jsonio
from openai_compat.errors import APIError

CHUNK_BYTES = 256 * 1024
"""Read size when streaming an object: at 64 KiB a 12 MB image served at 0.56 of a static file server's
rate (per-chunk overhead), at 256 KiB at 0.86 (bench image_get_12mb); a few of these per request in flight."""
_KEY = re.compile(r"^(?!/)(?!.*//)[A-Za-z0-9._=-]+(/[A-Za-z0-9._=-]+)*$")


class StorageError(APIError):
    """The object store failed or could not be reached: the request cannot be completed honestly."""

    status = 502
    error_type = "server_error"
    default_code = "storage_error"


class ObjectNotFound(Exception):
    """No object has that key (a caller decides what that means for its client)."""


def check_key(key: str) -> str:
    """The key, if it is a plain relative path with no `.` or `..` segment; else ValueError."""
    if len(key) > 512 or not _KEY.match(key) or any(part in (".", "..") for part in key.split("/")):
        raise ValueError(f"not a storage key: {key[:80]!r}")
    return key


def redacted(key: str) -> str:
    """What a log line may show of a key: its folders and the first characters of its name (an
    image's key is the secret part of its public link, so never whole)."""
    head, _, name = key.rpartition("/")
    return f"{head}/{name[:6]}..."


@dataclass(frozen=True)
class ObjectInfo:
    key: str
    size: int
    content_type: str
    etag: str
    last_modified: float
    """Seconds since the epoch."""
    metadata: Mapping[str, str] = field(default_factory=dict)


class ObjectStore(ABC):
    backend: str

    @abstractmethod
    def put(
        self, key: str, data: bytes | IO[bytes], *, content_type: str, metadata: Mapping[str, str] | None = None
    ) -> ObjectInfo:
        """Store the object whole; readers see the old object or the new one, never a part."""

    @abstractmethod
    def open(self, key: str) -> tuple[ObjectInfo, Iterator[bytes]]:
        """The object's description and its bytes as chunks; ObjectNotFound when there is none.

        The chunk iterator holds the open object until it is exhausted or closed."""

    @abstractmethod
    def head(self, key: str) -> ObjectInfo | None:
        """The object's description, or None."""

    @abstractmethod
    def delete(self, key: str) -> None:
        """Remove the object; removing one that is not there is not an error."""

    @abstractmethod
    def list(self, prefix: str) -> Iterator[ObjectInfo]:
        """Objects whose key starts with `prefix`, in key order (content type and metadata may be
        left empty: listing does not read them)."""

    def presigned_url(self, key: str, ttl_seconds: int) -> str | None:
        """A time-limited URL the store itself serves the object at, where the backend has one."""
        return None

    @abstractmethod
    def check(self) -> None:
        """Raise StorageError (one line) when the store cannot be used: for start-up and readiness."""

    def read(self, key: str, max_bytes: int) -> tuple[ObjectInfo, bytes]:
        info, chunks = self.open(key)
        body = bytearray()
        try:
            for chunk in chunks:
                body.extend(chunk)
                if len(body) > max_bytes:
                    raise StorageError(f"The stored object {key!r} is larger than expected.")
        finally:
            close = getattr(chunks, "close", None)
            if close is not None:
                close()
        return info, bytes(body)

    def put_json(self, key: str, value: Any, metadata: Mapping[str, str] | None = None) -> ObjectInfo:
        return self.put(key, jsonio.dumps(value), content_type="application/json", metadata=metadata)

    def get_json(self, key: str, max_bytes: int = 64 * 1024 * 1024) -> Any:
        """The decoded JSON object; ObjectNotFound when there is none."""
        _, body = self.read(key, max_bytes)
        try:
            return jsonio.loads(body)
        except ValueError:
            raise StorageError(f"The stored object {key!r} is not valid JSON.") from None

    def delete_many(self, keys: list[str]) -> None:
        for key in keys:
            self.delete(key)
