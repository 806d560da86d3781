"""The storage layer's promises, held by both backends: the local directory and R2 (moto's S3 server)."""

from __future__ import annotations

import io
import threading
from pathlib import Path

import pytest
import requests

from harness import processes
from openai_compat.storage.base import ObjectNotFound, ObjectStore, StorageError, check_key
from openai_compat.storage.local import LocalStore
from tests.storage.conftest import r2_store
from tests.support.emulator import running


def test_put_then_get_returns_the_bytes_type_and_metadata(store: ObjectStore) -> None:
    stored = store.put("images/2026/12/02/a.png", b"\x89PNG" + b"x" * 100_000, content_type="image/png",
                       metadata={"model": "flux"})
    info, chunks = store.open("images/2026/12/02/a.png")
    body = b"".join(chunks)
    assert body == b"\x89PNG" + b"x" * 100_000
    assert info.size == len(body) == stored.size
    assert info.content_type == "image/png" and info.metadata == {"model": "flux"}
    assert info.etag and info.etag == stored.etag


def test_a_large_object_is_read_back_in_several_chunks(store: ObjectStore) -> None:
    store.put("blobs/big", io.BytesIO(b"z" * 300_000), content_type="application/octet-stream")
    _, chunks = store.open("blobs/big")
    parts = list(chunks)
    assert len(parts) > 1 and sum(map(len, parts)) == 300_000


def test_head_and_delete(store: ObjectStore) -> None:
    assert store.head("images/none.png") is None
    store.put("images/one.png", b"1", content_type="image/png")
    assert store.head("images/one.png") is not None
    store.delete("images/one.png")
    store.delete("images/one.png")  # deleting twice is not an error
    assert store.head("images/one.png") is None
    with pytest.raises(ObjectNotFound):
        store.open("images/one.png")


def test_list_by_prefix_in_key_order(store: ObjectStore) -> None:
    for key in ("responses/resp_b/0", "responses/resp_a/1", "responses/resp_a/0", "images/x.png"):
        store.put(key, b"{}", content_type="application/json")
    assert [i.key for i in store.list("responses/resp_a/")] == ["responses/resp_a/0", "responses/resp_a/1"]
    assert [i.key for i in store.list("responses/")] == [
        "responses/resp_a/0", "responses/resp_a/1", "responses/resp_b/0"]
    assert list(store.list("nothing/")) == []


def test_json_round_trip(store: ObjectStore) -> None:
    store.put_json("responses/resp_1.json", {"id": "resp_1", "n": 2**70})
    assert store.get_json("responses/resp_1.json") == {"id": "resp_1", "n": 2**70}


def test_replacing_an_object_is_all_or_nothing_for_readers(store: ObjectStore) -> None:
    store.put("state/x", b"A" * 200_000, content_type="text/plain")
    seen: set[bytes] = set()
    stop = threading.Event()

    def read() -> None:
        while not stop.is_set():
            _, body = store.read("state/x", 1_000_000)
            seen.add(body[:1] + body[-1:] + bytes([len(set(body))]))

    reader = threading.Thread(target=read)
    reader.start()
    for letter in b"BCDE":
        store.put("state/x", bytes([letter]) * 200_000, content_type="text/plain")
    stop.set()
    reader.join()
    assert all(sample[0] == sample[1] and sample[2] == 1 for sample in seen)


@pytest.mark.parametrize("key", ["../etc/passwd", "/abs", "a/../b", "a//b", "a/./b", "", "a b", "x" * 600])
def test_keys_that_leave_their_prefix_are_refused(store: ObjectStore, key: str) -> None:
    with pytest.raises(ValueError):
        check_key(key)
    with pytest.raises(ValueError):
        store.head(key)


def test_local_writes_leave_no_partial_object_when_the_source_fails(tmp_path: Path) -> None:
    store = LocalStore(tmp_path / "s")

    class Broken(io.BytesIO):
        def read(self, size: int | None = -1) -> bytes:
            if self.tell() > 0:
                raise OSError(5, "source broke")
            return super().read(size)

    with pytest.raises(StorageError):
        store.put("images/broken.png", Broken(b"x" * 200_000), content_type="image/png")
    assert store.head("images/broken.png") is None
    assert not list((tmp_path / "s" / "tmp").iterdir())


def test_local_sweep_removes_only_expired_objects(tmp_path: Path) -> None:
    import os
    import time

    store = LocalStore(tmp_path / "s")
    store.put("images/old.png", b"o", content_type="image/png")
    store.put("images/new.png", b"n", content_type="image/png")
    old = time.time() - 3 * 86400
    os.utime(tmp_path / "s" / "objects" / "images" / "old.png", (old, old))
    assert store.sweep("images/", older_than_seconds=86400) == 1
    assert store.head("images/old.png") is None and store.head("images/new.png") is not None


def test_local_check_refuses_an_unwritable_directory(tmp_path: Path) -> None:
    target = tmp_path / "file"
    target.write_text("not a directory")
    with pytest.raises(StorageError) as caught:
        LocalStore(target).check()
    assert "STORAGE_DIR" in caught.value.message


def test_r2_presigned_link_downloads_the_object(moto: processes.Service) -> None:
    processes.create_bucket(moto, "presign-bucket")
    store = r2_store(moto, "presign-bucket")
    store.put("images/p.png", b"png-bytes", content_type="image/png")
    url = store.presigned_url("images/p.png", 60)
    assert url is not None and "Signature" in url
    reply = requests.get(url, timeout=5)
    assert reply.status_code == 200 and reply.content == b"png-bytes"
    assert reply.headers["Content-Type"] == "image/png"


def test_r2_check_names_a_missing_bucket(moto: processes.Service) -> None:
    with pytest.raises(StorageError) as caught:
        r2_store(moto, "no-such-bucket").check()
    assert "no-such-bucket" in caught.value.message and "does not exist" in caught.value.message


def test_r2_check_names_bad_credentials(tmp_path: Path) -> None:
    strict_moto = running(lambda log_dir: processes.start_moto(log_dir, require_auth=True), "moto-auth")
    with strict_moto as strict, pytest.raises(StorageError) as caught:
        r2_store(strict, "any-bucket").check()
    assert "R2_ACCESS_KEY_ID" in caught.value.message


def test_r2_server_down_is_a_storage_error_not_a_hang(tmp_path: Path) -> None:
    with running(processes.start_moto, "moto-down") as doomed:
        processes.create_bucket(doomed, "doomed-bucket")
        store = r2_store(doomed, "doomed-bucket", timeout_seconds=2)
        store.put("images/a.png", b"a", content_type="image/png")
        doomed.stop()
        for action in (lambda: store.head("images/a.png"), lambda: store.put("images/b.png", b"b", content_type="x/y"),
                       lambda: store.open("images/a.png"), lambda: list(store.list("images/"))):
            with pytest.raises(StorageError) as caught:
                action()
            assert caught.value.status == 502
