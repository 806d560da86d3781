"""Operations end to end: gunicorn as the Procfile runs it, the emulator upstream, the official SDK.

Cost figures are checked against the catalogue's published prices; limits and budgets with one
instance, then with two instances (two workers each) sharing a real Redis; metrics summed over two
workers; a worker draining an open stream on SIGTERM and exiting cleanly.
"""

from __future__ import annotations

import hashlib
import json
import signal
import threading
import time
from contextlib import ExitStack
from typing import Any

import openai
import pytest
import requests

from tests.support.emulator import EmulatorHandle
from tests.support.gateway import GatewayHandle, start_gateway
from tests.support.prices import unit_price

LLAMA = "@cf/meta/llama-3.3-70b-instruct-fp8-fast"
QWEN = "@cf/qwen/qwen3-embedding-0.6b"
HI = [{"role": "user", "content": "Say hello to the operators"}]
ADMIN = "sk-e2e-admin"


def named_keys(**keys: dict[str, Any]) -> str:
    """`NAMED_API_KEYS` for keys whose secret is `sk-<name>`."""
    return json.dumps({name: {"secret_sha256": hashlib.sha256(f"sk-{name}".encode()).hexdigest(), **limits}
                       for name, limits in keys.items()})


def client_for(gateway: GatewayHandle, name: str) -> openai.OpenAI:
    return openai.OpenAI(base_url=gateway.base_url, api_key=f"sk-{name}", max_retries=0)


def test_cost_of_a_chat_and_an_embedding_at_the_catalogues_prices(gateway: GatewayHandle) -> None:
    client = gateway.client()
    raw = client.chat.completions.with_raw_response.create(model="gpt-4.1", messages=HI)
    usage = raw.parse().usage
    expected = (usage.prompt_tokens * unit_price(LLAMA, "per M input tokens")
                + usage.completion_tokens * unit_price(LLAMA, "per M output tokens")) / 1e6
    assert usage.completion_tokens > 0
    assert float(raw.headers["x-workers-ai-cost-usd"]) == pytest.approx(expected, rel=1e-9)

    raw = client.embeddings.with_raw_response.create(model="text-embedding-3-small", input=["one", "two three"])
    tokens = raw.parse().usage.prompt_tokens
    assert tokens > 0
    assert float(raw.headers["x-workers-ai-cost-usd"]) == pytest.approx(
        tokens * unit_price(QWEN, "per M input tokens") / 1e6, rel=1e-9)


def test_limits_and_budgets_on_one_instance(emulator: EmulatorHandle) -> None:
    keys = named_keys(ci={"requests_per_minute": 2}, intern={"budget_usd_per_day": 0.000001})
    with start_gateway(emulator, NAMED_API_KEYS=keys) as gateway:
        ci = client_for(gateway, "ci")
        for _ in range(2):
            ci.chat.completions.create(model="gpt-4.1", messages=HI)
        with pytest.raises(openai.RateLimitError) as caught:
            ci.chat.completions.create(model="gpt-4.1", messages=HI)
        headers = caught.value.response.headers
        assert caught.value.code == "rate_limit_exceeded"
        assert headers["x-ratelimit-limit-requests"] == "2" and headers["x-ratelimit-remaining-requests"] == "0"
        assert 1 <= int(headers["retry-after"]) <= 60

        intern = client_for(gateway, "intern")
        intern.chat.completions.create(model="gpt-4.1", messages=HI)  # spends more than the day's budget
        with pytest.raises(openai.RateLimitError) as caught:
            intern.chat.completions.create(model="gpt-4.1", messages=HI)
        assert caught.value.code == "insufficient_quota" and "budget" in caught.value.message
        # Plain GATEWAY_API_KEYS keys work as before: unnamed, unlimited.
        for _ in range(3):
            gateway.client().chat.completions.create(model="gpt-4.1", messages=HI)


def test_two_instances_share_limits_budgets_and_usage_through_redis(
    emulator: EmulatorHandle, redis_url: str
) -> None:
    keys = named_keys(ci={"requests_per_minute": 4}, intern={"budget_usd_per_day": 0.000001})
    env = {"NAMED_API_KEYS": keys, "REDIS_URL": redis_url, "ADMIN_API_KEY": ADMIN, "WEB_CONCURRENCY": "2"}
    with ExitStack() as stack:
        first = stack.enter_context(start_gateway(emulator, **env))
        second = stack.enter_context(start_gateway(emulator, **env))
        for gateway in (first, second, first, second):
            client_for(gateway, "ci").chat.completions.create(model="gpt-4.1", messages=HI)
        for gateway in (first, second):
            with pytest.raises(openai.RateLimitError) as caught:
                client_for(gateway, "ci").chat.completions.create(model="gpt-4.1", messages=HI)
            assert caught.value.response.headers["x-ratelimit-remaining-requests"] == "0"

        client_for(first, "intern").chat.completions.create(model="gpt-4.1", messages=HI)
        with pytest.raises(openai.RateLimitError) as caught:
            client_for(second, "intern").chat.completions.create(model="gpt-4.1", messages=HI)
        assert caught.value.code == "insufficient_quota"

        usage = requests.get(f"{second.url}/admin/usage", headers={"Authorization": f"Bearer {ADMIN}"},
                             timeout=5).json()
        assert usage["shared"] is True
        rows = {(r["key"], r["model"]): r for r in usage["data"]}
        assert rows[("ci", LLAMA)]["requests"] == 4 and rows[("intern", LLAMA)]["requests"] == 1
        assert rows[("ci", LLAMA)]["cost_usd"] > 0
        ready = requests.get(f"{first.url}/ready", timeout=5).json()
        assert ready["checks"]["redis"] == "ok"


def metric_value(text: str, name: str, **labels: str) -> float:
    """One sample's value from Prometheus text (0 if absent)."""
    for line in text.splitlines():
        if not line.startswith(name + "{") and line.split(" ")[0] != name:
            continue
        head, _, value = line.rpartition(" ")
        if all(f'{key}="{val}"' in head for key, val in labels.items()):
            return float(value)
    return 0.0


def test_metrics_add_up_every_workers_figures(emulator: EmulatorHandle, upstream: EmulatorHandle, tmp_path) -> None:
    from prometheus_client.multiprocess import MultiProcessCollector

    upstream.set_faults(ttft_ms=60)
    labels = {"route": "/v1/chat/completions", "status": "200", "model": LLAMA}
    with start_gateway(emulator, WEB_CONCURRENCY="2", PROMETHEUS_MULTIPROC_DIR=str(tmp_path)) as gateway:
        client = gateway.client()

        def per_worker() -> dict[str, float]:
            counts: dict[str, float] = {}
            for path in tmp_path.glob("counter_*.db"):
                for metric in MultiProcessCollector.merge([str(path)]):
                    for sample in metric.samples:
                        if sample.name == "openai_compat_requests_total" and sample.labels.get("model") == LLAMA:
                            counts[path.name] = counts.get(path.name, 0) + sample.value
            return counts

        sent = 0
        for _ in range(10):  # until both workers have served some (each round: 12 requests at once)
            # A client each: a new connection each, so either worker may accept it (a kept-alive one
            # stays with the worker that accepted it, and a busy machine can leave it all to one).
            threads = [threading.Thread(target=gateway.client().chat.completions.create,
                                        kwargs={"model": "gpt-4.1", "messages": HI}) for _ in range(12)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            sent += len(threads)
            if len([v for v in per_worker().values() if v]) == 2:
                break
        assert len([v for v in per_worker().values() if v]) == 2, "the load never reached both workers"
        time.sleep(0.2)  # the last responses' close hooks
        scrapes = [requests.get(f"{gateway.url}/metrics", headers={"Authorization": f"Bearer {gateway.api_key}"},
                                timeout=5).text for _ in range(4)]
        for text in scrapes:  # whichever worker answers, the figures are every worker's
            assert metric_value(text, "openai_compat_requests_total", **labels) == sent
            assert metric_value(text, "openai_compat_usage_requests_total", model=LLAMA, key="unnamed") == sent
            assert metric_value(text, "openai_compat_request_duration_seconds_count", route=labels["route"],
                                model=LLAMA) == sent
        assert sum(per_worker().values()) == sent

        upstream.set_faults(ttft_ms=0, token_delay_ms=100)
        streams = [client.chat.completions.create(model="gpt-4.1", messages=HI, stream=True) for _ in range(3)]
        for stream in streams:
            next(iter(stream))
        text = requests.get(f"{gateway.url}/metrics", headers={"Authorization": f"Bearer {gateway.api_key}"},
                            timeout=5).text
        assert metric_value(text, "openai_compat_open_streams") == 3
        assert metric_value(text, "openai_compat_time_to_first_token_seconds_count", model=LLAMA) == 3
        for stream in streams:
            list(stream)
        time.sleep(0.2)
        text = requests.get(f"{gateway.url}/metrics", headers={"Authorization": f"Bearer {gateway.api_key}"},
                            timeout=5).text
        assert metric_value(text, "openai_compat_open_streams") == 0


@pytest.mark.parametrize("worker_class", ["gevent", "gthread"])
def test_sigterm_lets_streams_run_for_the_grace_period_then_ends_them_cleanly(
    emulator: EmulatorHandle, upstream: EmulatorHandle, worker_class: str
) -> None:
    upstream.set_faults(token_delay_ms=150, tokens=200)  # a 30 s stream
    with start_gateway(emulator, GRACEFUL_TIMEOUT_SECONDS="2", WEB_CONCURRENCY="2",
                       GUNICORN_WORKER_CLASS=worker_class) as gateway:
        client = gateway.client(max_retries=0)
        client.models.list()  # leaves an idle kept-alive connection in the SDK's pool
        long_stream = client.chat.completions.create(model="gpt-4.1", messages=HI, stream=True)
        chunks = iter(long_stream)
        next(chunks)
        short_result: dict[str, Any] = {}

        def short() -> None:  # a stream that ends within the grace period
            stream = gateway.client(max_retries=0).chat.completions.create(
                model="gpt-4.1", messages=HI, stream=True, max_tokens=4)
            short_result["finish"] = [c.choices[0].finish_reason for c in stream if c.choices][-1]

        thread = threading.Thread(target=short)
        thread.start()
        time.sleep(0.3)
        gateway.process.send_signal(signal.SIGTERM)
        signalled = time.monotonic()
        after: list[float] = []
        with pytest.raises(openai.APIError) as caught:
            for _ in chunks:
                after.append(time.monotonic() - signalled)
        ended = time.monotonic() - signalled
        thread.join(10)
        exit_code = gateway.process.wait(15)
        exited = time.monotonic() - signalled
        log = gateway.log_text()

    assert caught.value.code == "server_shutting_down" and "retry" in caught.value.message.lower()
    assert len(after) >= 5 and after[-1] > 1.0  # tokens kept coming during the grace period
    assert 1.5 <= ended <= 6  # ... and the stream ended at its end
    assert short_result.get("finish") == "length"  # the short one finished normally
    assert exit_code == 0 and exited < 10  # a clean exit, well before gunicorn's own 25 s grace
    assert "graceful timeout" not in log.lower() and "Traceback" not in log
    lines = [json.loads(line) for line in log.splitlines() if line.startswith('{"request_id"')]
    assert any(line.get("stream_error") == "server_shutting_down" for line in lines)
    with pytest.raises(requests.ConnectionError):
        requests.get(f"{gateway.url}/health", timeout=2)
