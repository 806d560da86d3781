"""A moto S3 server on loopback (the R2 stand-in), started once for the session's storage tests."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from harness import processes
from openai_compat.storage.base import ObjectStore
from openai_compat.storage.local import LocalStore
from openai_compat.storage.r2 import R2Store
from tests.support.emulator import running


@pytest.fixture(scope="session")
def moto() -> Iterator[processes.Service]:
    with running(processes.start_moto, "moto") as service:
        yield service


def r2_store(moto: processes.Service, bucket: str, **kwargs: object) -> R2Store:
    return R2Store(endpoint_url=moto.url, bucket=bucket, access_key_id=processes.MOTO_ACCESS_KEY,
                   secret_access_key=processes.MOTO_SECRET_KEY, **kwargs)  # type: ignore[arg-type]


@pytest.fixture(params=["local", "r2"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> ObjectStore:
    """Each contract test runs on both backends."""
    if request.param == "local":
        return LocalStore(tmp_path / "store")
    moto = request.getfixturevalue("moto")
    bucket = f"test-{uuid.uuid4().hex[:12]}"
    processes.create_bucket(moto, bucket)
    return r2_store(moto, bucket)
