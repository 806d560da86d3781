"""The one storage layer: images and stored Responses live here, in a local directory or in R2.

`open_store(settings)` picks the backend from `STORAGE_BACKEND`; callers only see `ObjectStore`.
"""

from __future__ import annotations

from openai_compat.settings import Settings
from openai_compat.storage.base import ObjectInfo, ObjectNotFound, ObjectStore, StorageError, check_key, redacted

__all__ = ["ObjectInfo", "ObjectNotFound", "ObjectStore", "StorageError", "check_key", "open_store", "redacted"]


def open_store(settings: Settings) -> ObjectStore:
    if settings.storage_backend == "r2":
        from openai_compat.storage.r2 import R2Store  # boto3 is loaded only where R2 is used

        assert settings.r2_bucket and settings.r2_access_key_id and settings.r2_secret_access_key
        return R2Store(
            endpoint_url=settings.r2_endpoint,
            bucket=settings.r2_bucket,
            access_key_id=settings.r2_access_key_id.get_secret_value(),
            secret_access_key=settings.r2_secret_access_key.get_secret_value(),
            region=settings.r2_region,
            timeout_seconds=settings.storage_timeout_seconds,
            pool_size=min(settings.concurrency_per_worker, 200),
        )
    from openai_compat.storage.local import LocalStore

    return LocalStore(settings.storage_dir)
