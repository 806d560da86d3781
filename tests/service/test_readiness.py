"""`/ready` fails when the object store goes down: R2 (moto's S3 server, stopped mid-test) and a local
directory that can no longer be written. `/health` stays up: the process is alive, just not ready."""

from __future__ import annotations

import uuid
from pathlib import Path

from harness import processes
from openai_compat.web.app import build_app
from tests.support.emulator import running
from tests.unit.factories import make_settings


def test_not_ready_when_r2_goes_down() -> None:
    with running(processes.start_moto, "moto-ready") as moto:
        bucket = f"ready-{uuid.uuid4().hex[:10]}"
        processes.create_bucket(moto, bucket)
        app = build_app(make_settings(
            storage_backend="r2", r2_endpoint_url=moto.url, r2_bucket=bucket, r2_region="us-east-1",
            r2_access_key_id=processes.MOTO_ACCESS_KEY, r2_secret_access_key=processes.MOTO_SECRET_KEY,
            storage_timeout_seconds=2,
        ))
        client = app.test_client()
        assert client.get("/ready").status_code == 200
        moto.stop()
        reply = client.get("/ready")
    assert reply.status_code == 503
    body = reply.get_json()
    assert body["status"] == "not ready"
    assert body["checks"]["storage"].startswith("error: R2") and body["checks"]["settings"] == "ok"
    assert client.get("/health").status_code == 200


def test_not_ready_when_the_storage_directory_cannot_be_written(tmp_path: Path) -> None:
    root = tmp_path / "store"
    app = build_app(make_settings(storage_dir=str(root)))  # start-up checks the store: it is fine now
    client = app.test_client()
    assert client.get("/ready").status_code == 200
    (root / "tmp").rmdir()
    (root / "tmp").write_text("a file where the store's temporary folder must be")
    reply = client.get("/ready")
    assert reply.status_code == 503
    body = reply.get_json()
    assert body["status"] == "not ready" and body["checks"]["storage"].startswith("error: STORAGE_DIR")
    assert client.get("/health").status_code == 200
