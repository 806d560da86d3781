"""Responses state shared through R2 (moto's S3 server): two instances, storage failures, dead workers."""

from __future__ import annotations

import json
import os
import signal
import time
import uuid
from collections.abc import Iterator

import openai
import pytest
import requests

from harness import processes
from tests.support.emulator import EmulatorHandle, running
from tests.support.gateway import GatewayHandle, start_gateway

CLASSIC = "@cf/meta/llama-3.3-70b-instruct-fp8-fast"


@pytest.fixture(scope="module")
def moto() -> Iterator[processes.Service]:
    with running(processes.start_moto, "moto") as service:
        yield service


def r2_env(moto: processes.Service, bucket: str) -> dict[str, str]:
    return {"STORAGE_BACKEND": "r2", "R2_ENDPOINT_URL": moto.url, "R2_BUCKET": bucket,
            "R2_ACCESS_KEY_ID": processes.MOTO_ACCESS_KEY, "R2_SECRET_ACCESS_KEY": processes.MOTO_SECRET_KEY,
            "STORAGE_TIMEOUT_SECONDS": "2"}


def test_two_instances_on_one_bucket_serve_and_continue_each_others_responses(
    emulator: EmulatorHandle, moto: processes.Service
) -> None:
    bucket = f"shared-{uuid.uuid4().hex[:10]}"
    processes.create_bucket(moto, bucket)
    with start_gateway(emulator, **r2_env(moto, bucket)) as one, start_gateway(emulator, **r2_env(moto, bucket)) as two:
        a, b = one.client(), two.client()
        first = a.responses.create(model=CLASSIC, input="remember apples")
        assert b.responses.retrieve(first.id).output_text == first.output_text
        second = b.responses.create(model=CLASSIC, input="and pears", previous_response_id=first.id)
        third = a.responses.create(model=CLASSIC, input="what did I say", previous_response_id=second.id)
        assert [item.content[0].text for item in b.responses.input_items.list(third.id).data] == ["what did I say"]
        queued = a.responses.create(model=CLASSIC, input="background on one", background=True)
        deadline = time.monotonic() + 20
        while b.responses.retrieve(queued.id).status != "completed" and time.monotonic() < deadline:
            time.sleep(0.1)
        assert b.responses.retrieve(queued.id).output_text == "Hello! You said: background on one"
        b.responses.delete(first.id)
        with pytest.raises(openai.NotFoundError):
            a.responses.retrieve(first.id)


def test_storage_down_is_a_502_and_no_id_is_handed_out(emulator: EmulatorHandle) -> None:
    with running(processes.start_moto, "moto-doomed") as doomed:
        bucket = f"doomed-{uuid.uuid4().hex[:10]}"
        processes.create_bucket(doomed, bucket)
        with start_gateway(emulator, UPSTREAM_MAX_RETRIES="0", **r2_env(doomed, bucket)) as gateway:
            client = gateway.client(max_retries=0)
            client.responses.create(model=CLASSIC, input="stored fine")
            doomed.stop()
            with pytest.raises(openai.APIStatusError) as caught:
                client.responses.create(model=CLASSIC, input="cannot be stored")
            assert caught.value.status_code == 502 and caught.value.body["code"] == "storage_error"
            with pytest.raises(openai.APIStatusError) as background:
                client.responses.create(model=CLASSIC, input="nor this", background=True)
            assert background.value.status_code == 502
            unstored = client.responses.create(model=CLASSIC, input="not stored", store=False)
            assert unstored.output_text  # store=false never touches the store


def worker_pids(gateway: GatewayHandle) -> list[int]:
    return processes.children(gateway.process.pid)


def test_a_background_response_whose_worker_dies_is_reported_failed(emulator: EmulatorHandle,
                                                                   upstream: EmulatorHandle) -> None:
    upstream.set_faults(ttft_ms=20_000)
    with start_gateway(emulator, RESPONSES_LEASE_SECONDS="1.5") as gateway:
        client = gateway.client()
        queued = client.responses.create(model=CLASSIC, input="never finishes", background=True)
        time.sleep(0.5)
        assert client.responses.retrieve(queued.id).status in ("queued", "in_progress")  # the lease is kept
        time.sleep(1.5)
        assert client.responses.retrieve(queued.id).status in ("queued", "in_progress")  # still kept, renewed
        for pid in worker_pids(gateway):
            os.kill(pid, signal.SIGKILL)
        deadline = time.monotonic() + 20
        status = None
        while time.monotonic() < deadline:
            try:
                got = client.responses.retrieve(queued.id)
            except openai.APIConnectionError:
                time.sleep(0.2)  # gunicorn is starting a new worker
                continue
            status = got.status
            if status == "failed":
                break
            time.sleep(0.2)
        assert status == "failed"
        assert "stopped before it finished" in got.error.message


def test_a_response_stream_cut_by_shutdown_ends_with_error_and_response_failed(
    emulator: EmulatorHandle, upstream: EmulatorHandle
) -> None:
    upstream.set_faults(token_delay_ms=150, tokens=200)
    with start_gateway(emulator, GRACEFUL_TIMEOUT_SECONDS="1") as gateway:
        response = requests.post(f"{gateway.base_url}/responses", stream=True, timeout=30,
                                 headers={"Authorization": f"Bearer {gateway.api_key}"},
                                 json={"model": CLASSIC, "input": "a long one", "stream": True})
        lines = response.iter_lines()
        first = next(line for line in lines if line.startswith(b"data: "))
        assert json.loads(first[6:])["type"] == "response.created"
        gateway.process.send_signal(signal.SIGTERM)
        events = [json.loads(line[6:]) for line in lines if line.startswith(b"data: ")]
    assert [e["type"] for e in events[-2:]] == ["error", "response.failed"]
    assert events[-2]["code"] == "server_shutting_down"
    sequence = [e["sequence_number"] for e in events]
    assert sequence == sorted(set(sequence))  # still increasing (events cut by the shutdown are skipped)
