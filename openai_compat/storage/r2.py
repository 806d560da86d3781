"""Cloudflare R2 (S3 over HTTP) as the object store, through boto3.

R2 needs what boto3 does not default to: region `auto`, SigV4, and since boto3 1.36 checksums only
when required (R2 rejects the CRC32 trailers current boto3 adds to every upload by default). The
client is made once per worker and pooled; timeouts are bounded so a slow or unreachable store is a
prompt 502, not a hung request.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping
from typing import IO, Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from openai_compat.core.logs import log_event
from openai_compat.storage.base import (
    CHUNK_BYTES,
    ObjectInfo,
    ObjectNotFound,
    ObjectStore,
    StorageError,
    check_key,
    redacted,
)

_MISSING = {"404", "NoSuchKey", "NotFound"}
log = logging.getLogger("openai_compat.storage")


def _code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


def _reason(exc: Exception) -> str:
    if isinstance(exc, ClientError):
        error = exc.response.get("Error", {})
        return f"{error.get('Code', 'error')}: {error.get('Message', '')}".strip(": ")
    return type(exc).__name__


class R2Store(ObjectStore):
    backend = "r2"

    def __init__(
        self,
        *,
        endpoint_url: str,
        bucket: str,
        access_key_id: str,
        secret_access_key: str,
        region: str = "auto",
        timeout_seconds: float = 10.0,
        pool_size: int = 50,
    ) -> None:
        self.bucket = bucket
        self._client = boto3.session.Session().client(
            "s3",
            endpoint_url=endpoint_url,
            region_name=region,
            aws_access_key_id=access_key_id,
            aws_secret_access_key=secret_access_key,
            config=Config(
                signature_version="s3v4",
                connect_timeout=min(5.0, timeout_seconds),
                read_timeout=timeout_seconds,
                retries={"max_attempts": 3, "mode": "standard"},
                max_pool_connections=pool_size,
                request_checksum_calculation="when_required",
                response_checksum_validation="when_required",
                s3={"addressing_style": "path"},
            ),
        )

    def _fail(self, action: str, key: str, exc: Exception) -> StorageError:
        """The client is told what failed and why, not which object or bucket (an id that was never
        stored must not reach it); the log line names them for the operator."""
        log_event(log, "storage_failed", level=logging.WARNING, action=action, key=redacted(key),
                  bucket=self.bucket, reason=_reason(exc))
        return StorageError(f"R2 could not {action} an object ({_reason(exc)}).")

    def check(self) -> None:
        try:
            self._client.head_bucket(Bucket=self.bucket)
        except ClientError as exc:
            code = _code(exc)
            if code in ("404", "NoSuchBucket", "NotFound"):
                raise StorageError(f"R2 bucket {self.bucket!r} does not exist: create it or set R2_BUCKET.") from None
            if code in ("401", "403", "AccessDenied", "InvalidAccessKeyId", "SignatureDoesNotMatch"):
                raise StorageError(
                    f"R2 refused the credentials for bucket {self.bucket!r}: check R2_ACCESS_KEY_ID and "
                    "R2_SECRET_ACCESS_KEY."
                ) from None
            raise StorageError(f"R2 bucket {self.bucket!r} is not usable ({_reason(exc)}).") from None
        except BotoCoreError as exc:
            raise StorageError(
                f"R2 at its endpoint cannot be reached ({_reason(exc)}): check R2_ENDPOINT_URL."
            ) from None

    def put(
        self, key: str, data: bytes | IO[bytes], *, content_type: str, metadata: Mapping[str, str] | None = None
    ) -> ObjectInfo:
        check_key(key)
        try:
            self._client.put_object(
                Bucket=self.bucket, Key=key, Body=data, ContentType=content_type, Metadata=dict(metadata or {})
            )
        except (ClientError, BotoCoreError) as exc:
            raise self._fail("store", key, exc) from None
        info = self.head(key)
        if info is None:
            raise StorageError(f"R2 did not keep {key!r} in bucket {self.bucket!r}.")
        return info

    def _info(self, key: str, head: Mapping[str, Any]) -> ObjectInfo:
        modified = head.get("LastModified")
        return ObjectInfo(
            key=key,
            size=int(head.get("ContentLength", head.get("Size", 0)) or 0),
            content_type=str(head.get("ContentType") or "application/octet-stream"),
            etag=str(head.get("ETag", "")).strip('"'),
            last_modified=modified.timestamp() if modified is not None else 0.0,
            metadata=dict(head.get("Metadata") or {}),
        )

    def head(self, key: str) -> ObjectInfo | None:
        check_key(key)
        try:
            return self._info(key, self._client.head_object(Bucket=self.bucket, Key=key))
        except ClientError as exc:
            if _code(exc) in _MISSING:
                return None
            raise self._fail("read", key, exc) from None
        except BotoCoreError as exc:
            raise self._fail("read", key, exc) from None

    def open(self, key: str) -> tuple[ObjectInfo, Iterator[bytes]]:
        check_key(key)
        try:
            reply = self._client.get_object(Bucket=self.bucket, Key=key)
        except ClientError as exc:
            if _code(exc) in _MISSING:
                raise ObjectNotFound(key) from None
            raise self._fail("read", key, exc) from None
        except BotoCoreError as exc:
            raise self._fail("read", key, exc) from None
        body = reply["Body"]

        def chunks() -> Iterator[bytes]:
            try:
                yield from body.iter_chunks(CHUNK_BYTES)
            except (BotoCoreError, OSError) as exc:
                raise self._fail("read", key, exc) from None
            finally:
                body.close()

        return self._info(key, reply), chunks()

    def delete(self, key: str) -> None:
        check_key(key)
        try:
            self._client.delete_object(Bucket=self.bucket, Key=key)
        except (ClientError, BotoCoreError) as exc:
            raise self._fail("delete", key, exc) from None

    def list(self, prefix: str) -> Iterator[ObjectInfo]:
        try:
            for page in self._client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=prefix):
                for item in page.get("Contents", []):
                    yield self._info(str(item["Key"]), {**item, "ContentType": ""})
        except (ClientError, BotoCoreError) as exc:
            raise self._fail("list", prefix, exc) from None

    def presigned_url(self, key: str, ttl_seconds: int) -> str | None:
        check_key(key)
        return self._client.generate_presigned_url(
            "get_object", Params={"Bucket": self.bucket, "Key": key}, ExpiresIn=ttl_seconds
        )
