"""The object store (R2: moto's S3 server behind a fault-injecting proxy) slow, refusing, down, or failing
one write of several: no URL or response id for an object that was not stored, partial writes cleaned
up, background responses ending as `failed`, and the gateway recovering without a restart."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
import requests

from harness import processes
from tests.support.emulator import EmulatorHandle, running
from tests.support.gateway import GatewayHandle, start_gateway
from tests.support.s3_proxy import FlakyS3Proxy

LLAMA = "@cf/meta/llama-3.3-70b-instruct-fp8-fast"
IMAGES = {"model": "dall-e-2", "prompt": "a lake", "size": "256x256", "n": 3}
TIMEOUT = 1


@pytest.fixture(scope="module")
def moto() -> Iterator[processes.Service]:
    with running(processes.start_moto, "moto") as service:
        yield service


@pytest.fixture(scope="module")
def store(moto: processes.Service) -> Iterator[tuple[FlakyS3Proxy, str]]:
    bucket = f"faults-{uuid.uuid4().hex[:10]}"
    processes.create_bucket(moto, bucket)
    proxy = FlakyS3Proxy(moto.url).start()
    try:
        yield proxy, bucket
    finally:
        proxy.stop()


@pytest.fixture(scope="module")
def gateway(emulator: EmulatorHandle, store: tuple[FlakyS3Proxy, str]) -> Iterator[GatewayHandle]:
    proxy, bucket = store
    env = {"STORAGE_BACKEND": "r2", "R2_ENDPOINT_URL": proxy.url, "R2_BUCKET": bucket,
           "R2_ACCESS_KEY_ID": processes.MOTO_ACCESS_KEY, "R2_SECRET_ACCESS_KEY": processes.MOTO_SECRET_KEY,
           "STORAGE_TIMEOUT_SECONDS": str(TIMEOUT), "RESPONSES_LEASE_SECONDS": "4", "IMAGES_MAX_CONCURRENCY": "1",
           "URL_SIGNING_SECRET": "storage-fault-tests-signing-secret"}
    with start_gateway(emulator, **env) as handle:
        yield handle


@pytest.fixture(autouse=True)
def store_back_up(store: tuple[FlakyS3Proxy, str]) -> Iterator[None]:
    yield
    store[0].up()


def keys(moto: processes.Service, bucket: str, prefix: str) -> list[str]:
    client = boto3.client("s3", endpoint_url=moto.url, region_name="us-east-1",
                          aws_access_key_id=processes.MOTO_ACCESS_KEY, aws_secret_access_key=processes.MOTO_SECRET_KEY)
    return [o["Key"] for o in client.list_objects_v2(Bucket=bucket, Prefix=prefix).get("Contents", [])]


def eventually_empty(moto: processes.Service, bucket: str, prefix: str, within: float = 30) -> list[str]:
    deadline = time.monotonic() + within
    while (left := keys(moto, bucket, prefix)) and time.monotonic() < deadline:
        time.sleep(0.25)
    return left


def post(gateway: GatewayHandle, path: str, body: dict[str, Any], **kwargs: Any) -> requests.Response:
    return requests.post(f"{gateway.base_url}{path}", json=body, timeout=60,
                         headers={"Authorization": f"Bearer {gateway.api_key}"}, **kwargs)


def get(gateway: GatewayHandle, path: str) -> requests.Response:
    return requests.get(f"{gateway.base_url}{path}", timeout=30, headers={"Authorization": f"Bearer {gateway.api_key}"})


def storage_error(reply: requests.Response) -> dict[str, Any]:
    assert reply.status_code == 502, reply.text[:300]
    error = reply.json()["error"]
    assert error["code"] == "storage_error" and set(error) == {"message", "type", "param", "code"}
    return error


def sse(text: str) -> list[dict[str, Any]]:
    return [json.loads(line[6:]) for line in text.splitlines() if line.startswith("data: ")]


# ---- images ------------------------------------------------------------------------------------------------


def test_one_failed_write_of_several_fails_the_request_and_leaves_nothing(
    gateway: GatewayHandle, store: tuple[FlakyS3Proxy, str], moto: processes.Service
) -> None:
    proxy, bucket = store
    before = set(keys(moto, bucket, "images/"))
    proxy.seen_keys, proxy.failing_keys = [], {2}  # the second image's every write fails, boto's retries too
    reply = post(gateway, "/images/generations", IMAGES)
    storage_error(reply)
    assert "url" not in reply.text
    assert len(proxy.seen_keys) == 2, "the third image is not made once the second cannot be stored"
    assert set(eventually_empty(moto, bucket, "images/", within=15)) - before == set()
    proxy.up()
    made = post(gateway, "/images/generations", IMAGES)
    assert made.status_code == 200 and all(requests.get(d["url"], timeout=10).status_code == 200
                                           for d in made.json()["data"])


@pytest.mark.parametrize("fault", ["refusing", "down"])
def test_a_refusing_or_unreachable_store_gives_no_link_and_recovers_without_a_restart(
    gateway: GatewayHandle, store: tuple[FlakyS3Proxy, str], moto: processes.Service, fault: str
) -> None:
    proxy, bucket = store
    before = set(keys(moto, bucket, "images/"))
    if fault == "refusing":
        proxy.status = 503
    else:
        proxy.down = True
    started = time.monotonic()
    error = storage_error(post(gateway, "/images/generations", {**IMAGES, "n": 1}))
    assert "R2" in error["message"] and time.monotonic() - started < 20
    ready = requests.get(f"{gateway.url}/ready", timeout=30)
    assert ready.status_code == 503 and ready.json()["checks"]["storage"].startswith("error")
    proxy.up()
    assert requests.get(f"{gateway.url}/ready", timeout=10).status_code == 200
    made = post(gateway, "/images/generations", {**IMAGES, "n": 1})
    assert made.status_code == 200
    assert set(keys(moto, bucket, "images/")) - before == {made.json()["data"][0]["url"].split("/v1/")[1]
                                                           .split("?")[0]}


def test_a_slow_store_within_its_timeout_still_serves(gateway: GatewayHandle, store: tuple[FlakyS3Proxy, str]) -> None:
    proxy, _ = store
    proxy.delay = TIMEOUT * 0.3
    made = post(gateway, "/images/generations", {**IMAGES, "n": 2})
    assert made.status_code == 200
    assert all(requests.get(d["url"], timeout=10).content.startswith(b"\x89PNG") for d in made.json()["data"])


def test_a_store_slower_than_its_timeout_is_a_502_and_late_writes_are_removed(
    gateway: GatewayHandle, store: tuple[FlakyS3Proxy, str], moto: processes.Service
) -> None:
    proxy, bucket = store
    before = set(keys(moto, bucket, "images/"))
    proxy.delay = TIMEOUT + 0.5  # every write still lands, after the gateway gave up on it
    started = time.monotonic()
    storage_error(post(gateway, "/images/generations", {**IMAGES, "n": 1}))
    assert time.monotonic() - started < 15
    time.sleep(TIMEOUT + 1)
    proxy.up()
    deadline = time.monotonic() + 30
    while set(keys(moto, bucket, "images/")) - before and time.monotonic() < deadline:
        time.sleep(0.25)
    assert set(keys(moto, bucket, "images/")) - before == set(), "an image written late was left behind"


# ---- stored responses ------------------------------------------------------------------------------------


def test_a_stored_response_is_never_answered_with_an_id_the_store_did_not_keep(
    gateway: GatewayHandle, store: tuple[FlakyS3Proxy, str], upstream: EmulatorHandle
) -> None:
    proxy, _ = store
    proxy.down = True
    reply = post(gateway, "/responses", {"model": LLAMA, "input": "hi"})
    storage_error(reply)
    assert "resp_" not in reply.text
    background = post(gateway, "/responses", {"model": LLAMA, "input": "hi", "background": True})
    storage_error(background)
    assert "resp_" not in background.text
    streamed = sse(post(gateway, "/responses", {"model": LLAMA, "input": "hi", "stream": True}).text)
    assert streamed[-1]["type"] == "response.failed" and streamed[-2]["type"] == "error"
    assert not any(e["type"] == "response.completed" for e in streamed)
    unstored = post(gateway, "/responses", {"model": LLAMA, "input": "hi", "store": False})
    assert unstored.status_code == 200, "a response that is not stored does not need the store"
    proxy.up()
    made = post(gateway, "/responses", {"model": LLAMA, "input": "hi"})
    assert made.status_code == 200
    assert get(gateway, f"/responses/{made.json()['id']}").json()["status"] == "completed"


def test_a_background_response_the_store_fails_under_ends_failed(
    gateway: GatewayHandle, store: tuple[FlakyS3Proxy, str], upstream: EmulatorHandle
) -> None:
    proxy, _ = store
    upstream.set_faults(tokens=40, token_delay_ms=100)  # a four-second run
    created = post(gateway, "/responses", {"model": LLAMA, "input": "hi", "background": True})
    assert created.status_code == 200
    response_id = created.json()["id"]
    time.sleep(1.0)
    proxy.down = True  # the store goes away while it runs
    time.sleep(TIMEOUT * 4)
    streams_before = requests.get(f"{upstream.url}/__emulator/streams", timeout=5).json()
    assert streams_before["open"] == 0, "the run's upstream call was closed when it could not be stored"
    proxy.up()
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:  # its lease may run out first (`failed` too); the real reason follows
        current = get(gateway, f"/responses/{response_id}").json()
        assert current["status"] in ("in_progress", "failed"), current["status"]
        if "could not be stored" in (current.get("error") or {}).get("message", ""):
            break
        time.sleep(0.25)
    assert current["status"] == "failed" and "could not be stored" in current["error"]["message"], current
    events = sse(requests.get(f"{gateway.base_url}/responses/{response_id}?stream=true", timeout=30,
                              headers={"Authorization": f"Bearer {gateway.api_key}"}).text)
    assert events[-1]["type"] == "response.failed"
    assert post(gateway, "/responses", {"model": LLAMA, "input": "again", "background": True}).status_code == 200
