"""One benchmark run: start everything, drive each scenario on every side, collect the figures.

Sides run one after another, never together, so the baseline, the two floors and the gateway each
get the whole machine that the emulator and the load generator leave over; the peer gets the same.
"""

from __future__ import annotations

import platform
import secrets
import subprocess
import time
import urllib.error
import urllib.request
from contextlib import ExitStack
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from bench import metrics, profiling, targets
from bench.loadclient import LoadGenerator
from bench.peer_litellm import PeerUnavailable, start_peer
from bench.procstat import TreeWatch, box_ticks, box_usage
from bench.scenarios import CHAT_MODEL, FAMILIES, Endpoints, Scenario, Targets
from bench.servers import (
    WorkerConfig,
    set_emulator_pacing,
    start_bench_gateway,
    start_paced_emulator,
    start_store_server,
)
from harness.processes import EMULATOR_TOKEN, GATEWAY_KEY, Service, emulator_account_url, post_json

BAD_ERROR_RATE = 0.01  # above this a scenario "errors badly" and the run exits non-zero
FLOORS = ("floor", "relay")  # sides that are references for the gateway, not judged themselves
SIDES = ("baseline", *FLOORS, "gateway", "peer")


@dataclass
class RunOptions:
    scenarios: list[Scenario]
    config: WorkerConfig
    ttft_ms: float
    token_delay_ms: float
    quick: bool
    peer: str | None
    peer_workers: int
    log_dir: Path
    gateway_env: dict[str, str] = field(default_factory=dict)
    profile_dir: Path | None = None
    floor: bool = True
    relay: bool = True


def machine() -> dict[str, Any]:
    def run(argv: list[str]) -> str:
        try:
            return subprocess.run(argv, capture_output=True, text=True, timeout=10, check=False).stdout.strip()
        except OSError:
            return ""

    model = next((line.split(":", 1)[1].strip() for line in run(["lscpu"]).splitlines()
                  if line.startswith("Model name")), platform.processor())
    nproc = run(["nproc"])
    mem_kib = next((int(line.split()[1]) for line in Path("/proc/meminfo").read_text().splitlines()
                    if line.startswith("MemTotal")), 0)
    return {
        "nproc": nproc, "cpu": model, "mem_gib": round(mem_kib / 1024 / 1024, 1),
        "python": platform.python_version(), "kernel": platform.release(),
        "summary": f"{nproc} x {model}, {mem_kib / 1024 / 1024:.0f} GiB, Python {platform.python_version()}",
    }


def load_spec(scn: Scenario, calls: list[dict[str, Any]], tg: Targets, ramp_s: float) -> dict[str, Any]:
    return {"calls": calls, "concurrency": scn.concurrency, "max_requests": scn.max_requests,
            "max_seconds": scn.max_seconds, "timeout_s": scn.timeout_s, "expect_tokens": tg.expect_tokens,
            "ramp_s": ramp_s}


def warm_up(server: Service, emulator: Service, *, native: bool = False) -> None:
    """A few sequential requests so imports, pools and lazily built state are not billed to scenario 1.

    ``native``: the server relays the emulator's own routes (bench.relay_app), so it gets native bodies.
    """
    set_emulator_pacing(emulator, ttft_ms=0, token_delay_ms=0, tokens=8)
    headers = {"Authorization": f"Bearer {EMULATOR_TOKEN if native else GATEWAY_KEY}"}
    url = f"{emulator_account_url(server)}/run/{CHAT_MODEL}" if native else f"{server.url}/v1/chat/completions"
    for i in range(24):
        messages = [{"role": "user", "content": "warm up"}]
        body = {"messages": messages, "stream": i % 2 == 1}
        if not native:
            body["model"] = CHAT_MODEL
        status, text = post_json(url, body, headers, timeout=30)
        if status != 200:
            raise RuntimeError(f"{server.name} warm-up request failed with {status}: {text[:300]!r}")


def probe(call: dict[str, Any], timeout: float) -> tuple[int, bytes]:
    """One request as the load generator will send it (JSON, or a body from a file, or a GET)."""
    if call.get("method") == "GET":
        try:
            with urllib.request.urlopen(call["url"], timeout=timeout) as response:
                return response.status, response.read(300)
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read()
    data = Path(call["body_file"]).read_bytes() if call.get("body_file") else call["body"].encode()
    request = urllib.request.Request(call["url"], data=data, method="POST", headers=call["headers"])
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def image_putter(storage_dir: Path, secret: str, gateway_url: str) -> Any:
    """Puts a stored image of a given size where the gateway keeps them, and makes its signed link:
    the retrieval scenarios' fixture, written as the gateway itself writes it."""
    from openai_compat.media.links import LinkSigner, new_key
    from openai_compat.storage.local import LocalStore

    store, signer = LocalStore(storage_dir), LinkSigner(secret.encode())

    def put(size: int) -> tuple[str, str]:
        key = new_key("png")
        head = b"\x89PNG\r\n\x1a\n"
        store.put(key, head + secrets.token_bytes(max(0, size - len(head))), content_type="image/png")
        return key, f"{gateway_url}/v1/images/{key.removeprefix('images/')}?{signer.query(key, 3600)}"

    return put


def run_side(load: LoadGenerator, scn: Scenario, calls: list[dict[str, Any]], tg: Targets, ramp_s: float,
             watch_pid: int | None, profile_to: Path | None = None) -> dict[str, Any]:
    spec = load_spec(scn, calls, tg, ramp_s)
    box_before = box_ticks()
    with ExitStack() as stack:
        watch = stack.enter_context(TreeWatch(watch_pid)) if watch_pid is not None else None
        if profile_to is not None and watch_pid is not None:
            stack.enter_context(profiling.Profiler(watch_pid, profile_to))
        result, load_cpu = load.run(spec)
    if profile_to is not None and profile_to.exists():
        profile_to.with_suffix(".summary.txt").write_text(profiling.summarize(profile_to))
    figures = metrics.side_figures(result, watch.usage if watch else None, load_cpu)
    figures.update(box_usage(box_before, box_ticks()))
    return figures


def run_scenario(scn: Scenario, opts: RunOptions, ep: Endpoints, services: dict[str, Service],
                 load: LoadGenerator) -> dict[str, Any]:
    pacing = scn.pacing(opts.ttft_ms, opts.token_delay_ms)
    ramp_s = scn.ramp_seconds(pacing)
    record: dict[str, Any] = {"name": scn.name, "family": scn.family, "stream": scn.stream,
                              "concurrency": scn.concurrency,
                              "max_requests": scn.max_requests, "max_seconds": scn.max_seconds,
                              "ramp_s": ramp_s, "pacing": pacing, "note": scn.note}
    tg = FAMILIES[scn.family](scn, ep)
    set_emulator_pacing(services["emulator"], **pacing)
    status, body = probe(tg.gateway[0], timeout=scn.timeout_s)
    if status == 404:
        record["skipped"] = f"the gateway answers 404 for {tg.gateway[0]['url'].split('/', 3)[-1]}"
        return record
    if status != 200:
        record["probe_error"] = f"{status}: {body[:300].decode(errors='replace')}"
    record["baseline"] = base = run_side(load, scn, tg.baseline, tg, ramp_s, None)
    sides = []
    # The floors first, so the gateway's targets can be read against them.
    if "floor" in services and tg.floor:
        sides.append(("floor", tg.floor, services["floor"]))
    if "relay" in services and tg.relay:
        sides.append(("relay", tg.relay, services["relay"]))
    sides.append(("gateway", tg.gateway, services["gateway"]))
    if "peer" in services and tg.peer:
        sides.append(("peer", tg.peer, services["peer"]))
    for name, calls, service in sides:
        profile_to = opts.profile_dir / f"{scn.name}-{name}.raw.txt" if opts.profile_dir else None
        side = run_side(load, scn, calls, tg, ramp_s, service.process.pid, profile_to)
        side["vs_baseline"] = metrics.compare(side, base)
        if name not in FLOORS:
            side["upload_mb"] = scn.upload_bytes / 1024 / 1024 if scn.upload_bytes else None
            side["object_mb"] = scn.object_mb or None
            side["targets"] = targets.evaluate(scn.checks, side, {f: record.get(f) for f in FLOORS})
        record[name] = side
        if not service.alive():
            raise RuntimeError(f"{service.name} died during {scn.name}:\n{service.log_tail()}")
    return record


def progress_line(record: dict[str, Any]) -> str:
    if record.get("skipped") or record.get("error"):
        return f"{record['name']}: {record.get('skipped') or record.get('error')}"
    parts = []
    for side_name in SIDES:
        side = record.get(side_name)
        if side:
            p50 = side["latency_ms"]["p50"] or 0.0
            parts.append(f"{side_name} {side['ok']} ok / {side['errors']} err, p50 {p50:.1f} ms")
    return f"{record['name']}: " + "; ".join(parts)


def badly_failed(record: dict[str, Any]) -> list[str]:
    """Why a scenario counts as a failure of the run (errors, not missed targets)."""
    problems = []
    if record.get("error"):
        problems.append(record["error"])
    for side_name in ("baseline", "gateway"):
        side = record.get(side_name)
        if side is None:
            continue
        total = side["ok"] + side["errors"]
        if side["ok"] == 0:
            problems.append(f"{side_name}: no request succeeded ({side['error_kinds']})")
        elif side["errors"] > BAD_ERROR_RATE * total:
            problems.append(f"{side_name}: {side['errors']}/{total} requests failed ({side['error_kinds']})")
    return problems


def empty_record(opts: RunOptions) -> dict[str, Any]:
    """The run's record before any scenario: where, with what, when."""
    return {
        "started_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "machine": machine(),
        "config": {**asdict(opts.config), "label": opts.config.label(), "gateway_env": opts.gateway_env},
        "args": {"ttft_ms": opts.ttft_ms, "token_delay_ms": opts.token_delay_ms, "quick": opts.quick,
                 "peer": opts.peer, "floor": opts.floor, "relay": opts.relay},
        "scenarios": [],
    }


def run(opts: RunOptions) -> tuple[dict[str, Any], list[str]]:
    opts.log_dir.mkdir(parents=True, exist_ok=True)
    record = empty_record(opts)
    failures: list[str] = []
    storage_dir = opts.log_dir / "storage"
    secret = secrets.token_urlsafe(24)
    gateway_env = {"STORAGE_DIR": str(storage_dir), "URL_SIGNING_SECRET": secret, **opts.gateway_env}
    with ExitStack() as stack:
        emulator = start_paced_emulator(opts.log_dir, opts.ttft_ms, opts.token_delay_ms)
        stack.callback(emulator.stop)
        gateway = start_bench_gateway(emulator, opts.config, opts.log_dir, gateway_env)
        stack.callback(gateway.stop)
        services = {"emulator": emulator, "gateway": gateway}
        if opts.floor:
            floor = start_bench_gateway(emulator, opts.config, opts.log_dir, gateway_env,
                                  wsgi_app="bench.floor_app:app", name="floor")
            stack.callback(floor.stop)
            services["floor"] = floor
        if opts.relay:
            relay = start_bench_gateway(emulator, opts.config, opts.log_dir, gateway_env,
                                        wsgi_app="bench.relay_app:create_relay_app()", name="relay")
            stack.callback(relay.stop)
            services["relay"] = relay
        store_server = start_store_server(opts.log_dir, storage_dir / "objects")
        stack.callback(store_server.stop)
        ep = Endpoints(
            emulator_ai=emulator_account_url(emulator),
            emulator_headers={"Authorization": f"Bearer {EMULATOR_TOKEN}", "Content-Type": "application/json"},
            gateway=gateway.url,
            gateway_headers={"Authorization": f"Bearer {GATEWAY_KEY}", "Content-Type": "application/json"},
            floor=services["floor"].url if "floor" in services else None,
            # The relay mirrors the emulator's paths at its own address.
            relay_ai=emulator_account_url(services["relay"]) if "relay" in services else None,
            store_server=store_server.url,
            put_image=image_putter(storage_dir, secret, gateway.url),
        )
        if opts.peer == "litellm":
            try:
                peer = start_peer(emulator, opts.log_dir, opts.peer_workers)
                stack.callback(peer.stop)
                services["peer"] = peer
                peer_headers = {"Authorization": peer.extra["authorization"], "Content-Type": "application/json"}
                ep = replace(ep, peer=peer.url, peer_headers=peer_headers)
                record["peer_status"] = f"LiteLLM proxy ({opts.peer_workers} workers) at {peer.url}"
            except PeerUnavailable as exc:
                record["peer_status"] = f"LiteLLM unavailable, continuing without it: {exc}"
                print(record["peer_status"], flush=True)
        warm_up(gateway, emulator)
        if "floor" in services:
            warm_up(services["floor"], emulator)
        if "relay" in services:
            warm_up(services["relay"], emulator, native=True)
        load = LoadGenerator(opts.log_dir)
        stack.callback(load.close)
        for scn in opts.scenarios:
            scn = scn.quick() if opts.quick else scn
            print(f"running {scn.name} ...", flush=True)
            try:
                result = run_scenario(scn, opts, ep, services, load)
            except Exception as exc:  # keep the figures gathered so far; the run still fails
                result = {"name": scn.name, "concurrency": scn.concurrency, "max_requests": scn.max_requests,
                          "max_seconds": scn.max_seconds, "error": f"{type(exc).__name__}: {exc}"}
            record["scenarios"].append(result)
            print(f"  {progress_line(result)}", flush=True)
            failures += [f"{scn.name}: {p}" for p in badly_failed(result)]
            dead = [name for name, service in services.items() if not service.alive()]
            if dead:
                failures.append(f"{', '.join(dead)} died (exit {[services[n].process.poll() for n in dead]});"
                                " remaining scenarios not run")
                break
    record["finished_at"] = time.strftime("%Y-%m-%dT%H:%M:%S%z")
    record["failures"] = failures
    return record, failures
