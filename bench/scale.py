"""The scale run (``python -m bench --scale``): two gateway instances behind a round-robin proxy.

What a deployment on a PaaS does when it scales out, on loopback: storage in moto's S3 server (the R2
backend, as production sets ``STORAGE_BACKEND=r2``), rate limits on (a named key with per-minute
limits) and shared through one Redis, the same ``URL_SIGNING_SECRET`` on both instances, and
``bench.rrproxy`` in front as the router. It measures:

- the same load through the proxy with one instance in its pool, then with both: non-streamed chat,
  and Responses stored (each one a write to the bucket and reads and writes in Redis);
- that storage is shared: a response created on one instance is read back through the other;
- failover: the Responses load through both instances while one of them is stopped (SIGTERM, as a
  PaaS stops an instance) a third of the way in; every request must still succeed.

Every process shares the same two cores, so CPU cannot double; what can is the capacity a router
adds with each instance. Each instance therefore gets one gevent worker admitting
``INSTANCE_CONNECTIONS`` requests at a time (``GUNICORN_WORKER_CONNECTIONS``, as a PaaS caps an
instance's concurrency), and the load keeps ``CONCURRENCY`` requests in flight, twice what one
instance admits: one instance is the bottleneck, two should carry twice as much, up to what the direct
call carries at that concurrency (measured too, as the ceiling).
"""

from __future__ import annotations

import hashlib
import json
import secrets
import threading
import time
import urllib.request
import uuid
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench import metrics
from bench.loadclient import LoadGenerator
from bench.procstat import box_ticks, box_usage, cpu_seconds
from bench.scenarios import CHAT_MODEL, MAX_TOKENS
from bench.servers import WorkerConfig, set_emulator_pacing, start_bench_gateway, start_paced_emulator, start_proxy
from harness.processes import (
    EMULATOR_TOKEN,
    MOTO_ACCESS_KEY,
    MOTO_SECRET_KEY,
    Service,
    create_bucket,
    emulator_account_url,
    post_json,
    process_tree,
    start_moto,
    start_redis,
)

INSTANCE_CONNECTIONS = 4
CONCURRENCY = 8
PHASE_SECONDS = 8.0
STOP_AT = 1 / 3  # of the failover phase
SCALE_KEY = "sk-bench-scale-key"
TOKENS = 16


@dataclass(frozen=True)
class ScaleOptions:
    log_dir: Path
    ttft_ms: float
    quick: bool = False

    @property
    def phase_seconds(self) -> float:
        return 2.0 if self.quick else PHASE_SECONDS


def named_keys() -> str:
    """One named key with limits far above the load, so every request is counted in Redis and none refused."""
    digest = hashlib.sha256(SCALE_KEY.encode()).hexdigest()
    return json.dumps({"bench-scale": {"secret_sha256": digest, "requests_per_minute": 10_000_000,
                                       "tokens_per_minute": 1_000_000_000}})


def instance_env(moto: Service, bucket: str, redis: Service, secret: str) -> dict[str, str]:
    return {
        "STORAGE_BACKEND": "r2", "R2_ENDPOINT_URL": moto.url, "R2_BUCKET": bucket,
        "R2_ACCESS_KEY_ID": MOTO_ACCESS_KEY, "R2_SECRET_ACCESS_KEY": MOTO_SECRET_KEY,
        "REDIS_URL": redis.url, "URL_SIGNING_SECRET": secret, "NAMED_API_KEYS": named_keys(),
    }


def workloads(proxy_url: str, emulator: Service) -> dict[str, dict[str, list[dict[str, Any]]]]:
    """Each workload's call through a proxy, and the same request straight to the emulator."""
    headers = {"Authorization": f"Bearer {SCALE_KEY}", "Content-Type": "application/json"}
    native_headers = {"Authorization": f"Bearer {EMULATOR_TOKEN}", "Content-Type": "application/json"}
    text = "Say hello to the scale run."
    native = {"url": f"{emulator_account_url(emulator)}/run/{CHAT_MODEL}", "headers": native_headers,
              "body": json.dumps({"messages": [{"role": "user", "content": text}], "max_tokens": MAX_TOKENS})}
    chat = {"url": f"{proxy_url}/v1/chat/completions", "headers": headers,
            "body": json.dumps({"model": CHAT_MODEL, "messages": [{"role": "user", "content": text}],
                                "max_tokens": MAX_TOKENS})}
    responses = {"url": f"{proxy_url}/v1/responses", "headers": headers,
                 "body": json.dumps({"model": CHAT_MODEL, "input": text, "max_output_tokens": MAX_TOKENS})}
    return {"chat": {"gateway": [chat], "direct": [native]}, "responses_stored": {"gateway": [responses],
                                                                                  "direct": [native]}}


def proxy_stats(proxy: Service) -> dict[str, Any]:
    with urllib.request.urlopen(f"{proxy.url}/__proxy/stats", timeout=5) as reply:
        return json.loads(reply.read())


def stats_delta(before: dict[str, Any], after: dict[str, Any], names: dict[str, str]) -> dict[str, Any]:
    """What one phase did at the proxy, with instance URLs replaced by their names."""
    return {
        "served": {names[u]: n - before["served"][u] for u, n in after["served"].items()},
        "moved": {names[u]: n - before["moved"][u] for u, n in after["moved"].items()},
        "failed": after["failed"] - before["failed"],
    }


def phase(load: LoadGenerator, calls: list[dict[str, Any]], seconds: float,
          watched: dict[str, Service]) -> dict[str, Any]:
    """One load phase, with the CPU each process (tree) used in it: on a shared box, where the time went."""
    spec = {"calls": calls, "concurrency": CONCURRENCY, "max_requests": 1_000_000, "max_seconds": seconds,
            "timeout_s": 30.0, "ramp_s": 0.2}
    box_before = box_ticks()
    before = {name: _tree_cpu(service) for name, service in watched.items()}
    result, load_cpu = load.run(spec)
    figures = metrics.side_figures(result, None, load_cpu)
    figures["cpu_s"] = {name: round(_tree_cpu(service) - before[name], 2) for name, service in watched.items()}
    figures["cpu_s"]["load generator"] = round(load_cpu, 2)
    figures.update(box_usage(box_before, box_ticks()))
    return figures


def _tree_cpu(service: Service) -> float:
    return sum(cpu_seconds(pid) for pid in process_tree(service.process.pid)) if service.alive() else 0.0


def _ratio(a: float, b: float) -> float | None:
    return a / b if b else None


def summary(side: dict[str, Any]) -> dict[str, Any]:
    keys = ("ok", "errors", "error_kinds", "error_samples", "rps", "latency_ms", "cpu_s", "box_busy_pct")
    return {k: side[k] for k in keys}


def shared_store_check(a: Service, b: Service) -> dict[str, Any]:
    """A stored response made on one instance, read back through the other."""
    headers = {"Authorization": f"Bearer {SCALE_KEY}"}
    status, body = post_json(f"{a.url}/v1/responses", {"model": CHAT_MODEL, "input": f"shared {uuid.uuid4()}"},
                             headers)
    if status != 200:
        return {"ok": False, "detail": f"create on {a.name}: {status} {body[:200]!r}"}
    made = json.loads(body)
    request = urllib.request.Request(f"{b.url}/v1/responses/{made['id']}", headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=10) as reply:
            read = json.loads(reply.read())
    except OSError as exc:
        return {"ok": False, "detail": f"read on {b.name}: {exc}"}
    same = read.get("output") == made.get("output")
    return {"ok": same, "detail": f"{made['id']} made on {a.name}, read on {b.name}: "
                                  + ("same output" if same else "different output")}


def warm(instance: Service) -> None:
    headers = {"Authorization": f"Bearer {SCALE_KEY}"}
    for i in range(6):
        path, body = (("/v1/chat/completions", {"model": CHAT_MODEL, "messages": [{"role": "user", "content": "w"}]})
                      if i % 2 else ("/v1/responses", {"model": CHAT_MODEL, "input": "warm up"}))
        status, text = post_json(f"{instance.url}{path}", body, headers, timeout=30)
        if status != 200:
            raise RuntimeError(f"{instance.name} warm-up failed with {status}: {text[:300]!r}")


def run_scale(opts: ScaleOptions, load: LoadGenerator | None = None) -> dict[str, Any]:
    opts.log_dir.mkdir(parents=True, exist_ok=True)
    record: dict[str, Any] = {"instance_connections": INSTANCE_CONNECTIONS, "concurrency": CONCURRENCY,
                              "phase_s": opts.phase_seconds, "ttft_ms": opts.ttft_ms, "tokens": TOKENS}
    config = WorkerConfig(workers=1, worker_connections=INSTANCE_CONNECTIONS)
    with ExitStack() as stack:
        emulator = start_paced_emulator(opts.log_dir, opts.ttft_ms, 0)
        stack.callback(emulator.stop)
        moto = start_moto(opts.log_dir)
        stack.callback(moto.stop)
        bucket = f"bench-scale-{uuid.uuid4().hex[:8]}"
        create_bucket(moto, bucket)
        redis = start_redis(opts.log_dir)
        stack.callback(redis.stop)
        env = instance_env(moto, bucket, redis, secrets.token_urlsafe(24))
        a = start_bench_gateway(emulator, config, opts.log_dir, env, name="instance-a")
        stack.callback(a.stop)
        b = start_bench_gateway(emulator, config, opts.log_dir, env, name="instance-b")
        stack.callback(b.stop)
        one = start_proxy(opts.log_dir, [a.url], name="proxy-one")
        stack.callback(one.stop)
        two = start_proxy(opts.log_dir, [a.url, b.url], name="proxy-two")
        stack.callback(two.stop)
        if load is None:
            load = LoadGenerator(opts.log_dir)
            stack.callback(load.close)
        names = {a.url: a.name, b.url: b.name}
        watched = {"emulator": emulator, "moto": moto, "redis": redis, a.name: a, b.name: b, "proxy-one": one,
                   "proxy-two": two}
        set_emulator_pacing(emulator, ttft_ms=0, token_delay_ms=0, tokens=8)
        warm(a)
        warm(b)
        set_emulator_pacing(emulator, ttft_ms=opts.ttft_ms, token_delay_ms=0, tokens=TOKENS)
        record["shared_store"] = shared_store_check(a, b)
        print(f"  shared store: {record['shared_store']['detail']}", flush=True)
        # Both workloads make the same upstream call, so one direct phase is the ceiling for both.
        direct = summary(phase(load, workloads(one.url, emulator)["chat"]["direct"], opts.phase_seconds, watched))
        for name in ("chat", "responses_stored"):
            figures: dict[str, Any] = {"direct": direct}
            for label, proxy in (("one_instance", one), ("two_instances", two)):
                before = proxy_stats(proxy)
                side = summary(phase(load, workloads(proxy.url, emulator)[name]["gateway"], opts.phase_seconds,
                                     watched))
                side["proxy"] = stats_delta(before, proxy_stats(proxy), names)
                figures[label] = side
            figures["two_over_one"] = _ratio(figures["two_instances"]["rps"], figures["one_instance"]["rps"])
            figures["two_over_direct"] = _ratio(figures["two_instances"]["rps"], direct["rps"])
            record[name] = figures
            print(f"  {name}: direct {direct['rps']:.1f} req/s, one instance {figures['one_instance']['rps']:.1f},"
                  f" two {figures['two_instances']['rps']:.1f} (x{figures['two_over_one'] or 0:.2f})", flush=True)
        record["failover"] = failover(load, two, b, workloads(two.url, emulator)["responses_stored"]["gateway"],
                                      names, opts.phase_seconds, watched)
        f = record["failover"]
        print(f"  failover: {f['ok']} ok, {f['errors']} failed; {b.name} stopped after {f['stopped_at_s']:.1f} s;"
              f" proxy {f['proxy']}", flush=True)
    return record


def failover(load: LoadGenerator, proxy: Service, victim: Service, calls: list[dict[str, Any]],
             names: dict[str, str], seconds: float, watched: dict[str, Service]) -> dict[str, Any]:
    """The load through both instances while one is stopped a third of the way in."""
    started = time.monotonic()
    stopped: dict[str, float] = {}

    def stop_victim() -> None:
        time.sleep(0.2 + seconds * STOP_AT)  # after the load's ramp, a third of the way in
        stopped["at"] = time.monotonic() - started
        victim.stop()
        stopped["done"] = time.monotonic() - started

    before = proxy_stats(proxy)
    stopper = threading.Thread(target=stop_victim, name="stop-instance", daemon=True)
    stopper.start()
    side = summary(phase(load, calls, seconds, {k: v for k, v in watched.items() if v is not victim}))
    stopper.join(timeout=30)
    side["proxy"] = stats_delta(before, proxy_stats(proxy), names)
    side["stopped"] = victim.name
    side["stopped_at_s"] = stopped.get("at", float("nan"))
    side["stop_took_s"] = stopped.get("done", float("nan")) - side["stopped_at_s"]
    side["victim_exit"] = victim.process.poll()
    return side


def render(scale: dict[str, Any]) -> str:
    lines = [
        f"scale run: two instances (1 gevent worker admitting {scale['instance_connections']} requests each; "
        f"R2 on moto's S3 server, limits in Redis) behind bench.rrproxy; {scale['concurrency']} requests in "
        f"flight, {scale['phase_s']:g} s per phase, ttft {scale['ttft_ms']} ms",
        f"  shared store: {'ok' if scale['shared_store']['ok'] else 'FAILED'}: {scale['shared_store']['detail']}",
    ]
    for name in ("chat", "responses_stored"):
        figures = scale.get(name)
        if not figures:
            continue
        parts = []
        for label in ("direct", "one_instance", "two_instances"):
            side = figures[label]
            p50 = side["latency_ms"]["p50"] or 0.0
            split = ""
            if "proxy" in side:
                split = " (" + ", ".join(f"{k} {v}" for k, v in side["proxy"]["served"].items()) + ")"
            parts.append(f"{label.replace('_', ' ')} {side['rps']:.1f} req/s, p50 {p50:.0f} ms, "
                         f"{side['errors']} err{split}")
        lines.append(f"  {name}: " + "; ".join(parts))
        for label in ("one_instance", "two_instances"):
            lines.append(f"    CPU s, {label.replace('_', ' ')}: {_cpu_text(figures[label])}")
        lines.append(f"    two instances / one: x{figures['two_over_one'] or 0:.2f}; two / direct: "
                     f"x{figures['two_over_direct'] or 0:.2f}")
    f = scale.get("failover")
    if f:
        lines.append(f"  failover (Responses stored): {f['ok']} ok, {f['errors']} failed {f['error_kinds'] or ''}; "
                     f"{f['stopped']} got SIGTERM at {f['stopped_at_s']:.1f} s and exited ({f['victim_exit']}) "
                     f"{f['stop_took_s']:.1f} s later; served {f['proxy']['served']}, "
                     f"attempts moved off an instance {f['proxy']['moved']}")
    return "\n".join(lines)


def _cpu_text(side: dict[str, Any]) -> str:
    busy = side.get("box_busy_pct")
    spent = ", ".join(f"{name} {cpu:.2f}" for name, cpu in (side.get("cpu_s") or {}).items() if cpu >= 0.01)
    return spent + (f" (box {busy:.0f} % busy)" if busy is not None else "")


def failures(scale: dict[str, Any]) -> list[str]:
    """What makes the scale run fail: a lost request, storage not shared, a phase with errors."""
    problems = []
    if not scale["shared_store"]["ok"]:
        problems.append(f"scale: storage not shared: {scale['shared_store']['detail']}")
    for name in ("chat", "responses_stored"):
        for label in ("one_instance", "two_instances"):
            side = (scale.get(name) or {}).get(label)
            if side and (side["errors"] or not side["ok"]):
                problems.append(f"scale {name} {label}: {side['errors']} errors {side['error_kinds']}")
    f = scale.get("failover")
    if f and (f["errors"] or not f["ok"]):
        problems.append(f"scale failover: {f['errors']} of {f['ok'] + f['errors']} requests failed "
                        f"{f['error_kinds']} {f['error_samples'][:2]}")
    return problems
