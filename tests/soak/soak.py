"""A bounded soak on loopback: mixed traffic over every family through a gunicorn gateway (two gevent
workers, R2 through the fault proxy), with upstream and storage faults injected all along, then the
checks: no unexpected 5xx, every returned link and response id still readable, no growth of the
workers' open file descriptors, their memory grown by under 10 % after warm-up.

    python -m tests.soak --seconds 300 [--clients 8] [--json report.json]

`tests/soak/test_soak.py` runs a short version in the suite.
"""

from __future__ import annotations

import argparse
import io
import itertools
import json
import random
import tempfile
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests
from PIL import Image

from harness import processes
from tests.support.audio import make_wav
from tests.support.emulator import EmulatorHandle, running, start_emulator
from tests.support.gateway import GatewayHandle, start_gateway
from tests.support.s3_proxy import FlakyS3Proxy

LLAMA = "@cf/meta/llama-3.3-70b-instruct-fp8-fast"
WAV = make_wav("en|A soak test line.|And another one.", seconds=2.0)


def _png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (96, 64), (30, 140, 90)).save(out, format="PNG")
    return out.getvalue()


PNG = _png()


@dataclass
class Report:
    seconds: float = 0.0
    requests: int = 0
    by_family: Counter[str] = field(default_factory=Counter)
    statuses: Counter[int] = field(default_factory=Counter)
    unexpected: list[str] = field(default_factory=list)
    expected_faults: int = 0
    """Requests a fault window was allowed to fail: a stream cut mid-way ends with an error."""
    stored_links: int = 0
    stored_responses: int = 0
    lost: list[str] = field(default_factory=list)
    fds_before: int = 0
    fds_after: int = 0
    fd_samples: list[int] = field(default_factory=list)
    """The workers' descriptors every few seconds through the soak: a leak climbs, pools level off."""
    fd_kinds_before: dict[str, int] = field(default_factory=dict)
    fd_kinds_after: dict[str, int] = field(default_factory=dict)
    rss_before_kb: int = 0
    rss_after_kb: int = 0
    faults_injected: Counter[str] = field(default_factory=Counter)

    @property
    def pooled_sockets_after(self) -> int:
        return self.fd_kinds_after.get("emulator", 0) + self.fd_kinds_after.get("store", 0)

    def other_fds(self, kinds: dict[str, int]) -> int:
        """Descriptors that are not pooled connections to the upstream or the store: files, pipes, listeners."""
        return sum(count for kind, count in kinds.items() if kind not in ("emulator", "store"))

    @property
    def rss_growth(self) -> float:
        return (self.rss_after_kb - self.rss_before_kb) / max(1, self.rss_before_kb)

    def as_json(self) -> dict[str, Any]:
        return {
            "seconds": round(self.seconds, 1), "requests": self.requests, "by_family": dict(self.by_family),
            "statuses": {str(k): v for k, v in sorted(self.statuses.items())}, "unexpected": self.unexpected[:50],
            "expected_faults": self.expected_faults, "stored_links": self.stored_links,
            "stored_responses": self.stored_responses, "lost": self.lost[:50], "fds_before": self.fds_before,
            "fds_after": self.fds_after, "fd_samples": self.fd_samples, "fd_kinds_before": self.fd_kinds_before,
            "fd_kinds_after": self.fd_kinds_after, "rss_before_kb": self.rss_before_kb,
            "rss_after_kb": self.rss_after_kb,
            "rss_growth": round(self.rss_growth, 4), "faults_injected": dict(self.faults_injected),
        }


class Cut(Exception):
    """A stream that ended with an error event or broke off: expected only inside a fault window."""


@dataclass
class Soak:
    gateway: GatewayHandle
    emulator: EmulatorHandle
    proxy: FlakyS3Proxy
    report: Report = field(default_factory=Report)
    links: list[str] = field(default_factory=list)
    response_ids: list[str] = field(default_factory=list)
    background_ids: list[str] = field(default_factory=list)
    cut_window: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.gateway.api_key}"}

    # ---- the traffic -----------------------------------------------------------------------------

    def _post(self, session: requests.Session, path: str, body: dict[str, Any] | None = None,
              **kwargs: Any) -> requests.Response:
        return session.post(f"{self.gateway.base_url}{path}", json=body, headers=self.headers, timeout=60, **kwargs)

    @staticmethod
    def _events(text: str) -> list[Any]:
        out = []
        for block in text.split("\n\n"):
            data = [line[6:] for line in block.splitlines() if line.startswith("data: ")]
            if data:
                out.append("[DONE]" if data[0] == "[DONE]" else json.loads("\n".join(data)))
        return out

    def _stream_ok(self, reply: requests.Response, finish: tuple[str, ...]) -> None:
        events = self._events(reply.text)
        last = events[-1] if events else None
        if last == "[DONE]" or (isinstance(last, dict) and last.get("type") in finish):
            return
        raise Cut(str(last)[:120])

    def families(self) -> dict[str, Callable[[requests.Session], requests.Response]]:
        chat = {"model": LLAMA, "messages": [{"role": "user", "content": "soak"}]}

        def chat_stream(s: requests.Session) -> requests.Response:
            reply = self._post(s, "/chat/completions", {**chat, "stream": True})
            if reply.status_code == 200:
                self._stream_ok(reply, ())
            return reply

        def responses_stored(s: requests.Session) -> requests.Response:
            reply = self._post(s, "/responses", {"model": LLAMA, "input": "soak"})
            if reply.status_code == 200:
                with self.lock:
                    self.response_ids.append(reply.json()["id"])
            return reply

        def responses_stream(s: requests.Session) -> requests.Response:
            reply = self._post(s, "/responses", {"model": LLAMA, "input": "soak", "stream": True})
            if reply.status_code == 200:
                self._stream_ok(reply, ("response.completed",))
                completed = self._events(reply.text)[-1]["response"]
                with self.lock:
                    self.response_ids.append(completed["id"])
            return reply

        def background(s: requests.Session) -> requests.Response:
            reply = self._post(s, "/responses", {"model": LLAMA, "input": "soak", "background": True})
            if reply.status_code == 200:
                with self.lock:
                    self.background_ids.append(reply.json()["id"])
            return reply

        def images(s: requests.Session) -> requests.Response:
            reply = self._post(s, "/images/generations", {"model": "dall-e-2", "prompt": "soak", "size": "256x256",
                                                          "n": random.choice((1, 2))})
            if reply.status_code == 200:
                with self.lock:
                    self.links += [d["url"] for d in reply.json()["data"]]
            return reply

        def image_get(s: requests.Session) -> requests.Response:
            with self.lock:
                link = random.choice(self.links) if self.links else None
            if link is None:
                return images(s)
            return s.get(link, timeout=30)

        def speech(s: requests.Session) -> requests.Response:
            reply = self._post(s, "/audio/speech", {"model": "tts-1", "voice": "alloy", "input": "one two three",
                                                    "response_format": "pcm"}, stream=True)
            try:
                reply.content  # noqa: B018 - read the whole body: a cut one raises here
            except requests.RequestException as exc:
                raise Cut(type(exc).__name__) from None
            return reply

        def speech_sse(s: requests.Session) -> requests.Response:
            reply = self._post(s, "/audio/speech", {"model": "tts-1", "voice": "alloy", "input": "one two three",
                                                    "stream_format": "sse"})
            if reply.status_code == 200:
                self._stream_ok(reply, ("speech.audio.done",))
            return reply

        return {
            "chat": lambda s: self._post(s, "/chat/completions", chat),
            "chat_stream": chat_stream,
            "completions": lambda s: self._post(s, "/completions", {"model": LLAMA, "prompt": "soak"}),
            "embeddings": lambda s: self._post(s, "/embeddings", {"model": "@cf/baai/bge-m3", "input": ["a", "b"]}),
            "responses": responses_stored,
            "responses_stream": responses_stream,
            "responses_background": background,
            "moderations": lambda s: self._post(s, "/moderations", {"input": "soak"}),
            "rerank": lambda s: self._post(s, "/rerank", {"query": "q", "documents": ["a", "b", "c"]}),
            "images": images,
            "image_get": image_get,
            "image_edit": lambda s: self._post(s, "/images/edits", None, files={"image": ("a.png", PNG, "image/png")},
                                               data={"prompt": "soak", "size": "256x256",
                                                     "response_format": "b64_json"}),
            "transcriptions": lambda s: self._post(s, "/audio/transcriptions", None,
                                                   files={"file": ("a.wav", WAV, "audio/wav")},
                                                   data={"model": "whisper-1"}),
            "speech": speech,
            "speech_sse": speech_sse,
        }

    def client(self, stop: threading.Event, seed: int) -> None:
        families = list(self.families().items())
        random.Random(seed).shuffle(families)
        with requests.Session() as session:
            for name, call in itertools.cycle(families):
                if stop.is_set():
                    return
                in_window = self.cut_window.is_set()
                detail = ""
                try:
                    reply = call(session)
                    status = reply.status_code
                except Cut as exc:
                    status = -1
                    detail = str(exc)
                except requests.RequestException as exc:
                    status = -2
                    detail = type(exc).__name__
                with self.lock:
                    self.report.requests += 1
                    self.report.by_family[name] += 1
                    self.report.statuses[status] += 1
                    if status < 0:
                        if in_window or self.cut_window.is_set():
                            self.report.expected_faults += 1
                        else:
                            self.report.unexpected.append(f"{name}: {detail}")
                    elif status != 200:
                        self.report.unexpected.append(f"{name}: HTTP {status} {reply.text[:120]}")

    # ---- the faults ------------------------------------------------------------------------------

    def faults(self, stop: threading.Event) -> None:
        """Transient upstream faults the gateway must absorb, short stream cuts (errors allowed inside
        them), and a slow store (within its timeout), in turn."""
        rng = random.Random(7)
        steps: list[tuple[str, dict[str, Any]]] = [
            ("upstream 503 once", {"fail_status": 503, "fail_times": 1}),
            ("upstream reset twice", {"reset": True, "fail_times": 2}),
            ("upstream 429 once", {"fail_status": 429, "fail_code": 3040, "retry_after": "0", "fail_times": 1}),
            ("slow first token", {"ttft_ms": 400}),
            ("streams cut", {"cut_after": 1}),
            ("slow store", {}),
        ]
        while not stop.wait(rng.uniform(0.5, 1.5)):
            name, faults = rng.choice(steps)
            with self.lock:
                self.report.faults_injected[name] += 1
            if name == "slow store":
                self.proxy.delay = 0.2
                stop.wait(1.0)
                self.proxy.delay = 0.0
                continue
            if name == "streams cut":
                self.cut_window.set()
            self.emulator.set_faults(**faults)
            stop.wait(0.7)
            self.emulator.clear_faults()
            if name == "streams cut":
                stop.wait(1.0)  # streams that began inside the window finish, cut, before it closes
                self.cut_window.clear()

    # ---- the checks --------------------------------------------------------------------------------

    def workers(self) -> list[int]:
        return processes.children(self.gateway.process.pid)

    def fds(self) -> int:
        return sum(len(list(Path(f"/proc/{pid}/fd").iterdir())) for pid in self.workers())

    def fd_kinds(self) -> dict[str, int]:
        """The workers' descriptors by what they are: sockets by the port of their peer (the emulator, the
        store, a client), files, pipes and the rest."""
        peers: dict[str, str] = {}
        for table in ("/proc/net/tcp", "/proc/net/tcp6"):
            for line in Path(table).read_text().splitlines()[1:]:
                fields = line.split()
                local, remote, inode = fields[1], fields[2], fields[9]
                peers[inode] = f"port {int(remote.split(':')[1], 16)}" if int(remote.split(":")[1], 16) else \
                    f"listening {int(local.split(':')[1], 16)}"
        kinds: Counter[str] = Counter()
        names = {self.emulator.url.rsplit(":", 1)[1]: "emulator", self.proxy.url.rsplit(":", 1)[1]: "store"}
        for pid in self.workers():
            for fd in Path(f"/proc/{pid}/fd").iterdir():
                try:
                    target = str(fd.readlink())
                except OSError:
                    continue
                if target.startswith("socket:["):
                    peer = peers.get(target[8:-1], "socket")
                    kinds[names.get(peer.removeprefix("port "), "client or other socket" if peer.startswith("port")
                                    else peer)] += 1
                else:
                    kinds[target.split(":")[0] if ":" in target else "file"] += 1
        return dict(kinds)

    def rss_kb(self) -> int:
        total = 0
        for pid in self.workers():
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        return total

    def run_traffic(self, seconds: float, clients: int, with_faults: bool) -> None:
        stop = threading.Event()
        threads = [threading.Thread(target=self.client, args=(stop, i), daemon=True) for i in range(clients)]
        if with_faults:
            threads.append(threading.Thread(target=self.faults, args=(stop,), daemon=True))

        def sample() -> None:
            while not stop.wait(max(1.0, seconds / 30)):
                self.report.fd_samples.append(self.fds())

        threads.append(threading.Thread(target=sample, daemon=True))
        for thread in threads:
            thread.start()
        stop.wait(seconds)
        stop.set()
        for thread in threads:
            thread.join(timeout=90)
        self.emulator.clear_faults()
        self.proxy.up()

    def settle(self) -> None:
        """Background runs finish and idle connections are let go before anything is counted."""
        deadline = time.monotonic() + 30

        def wait(response_id: str) -> None:
            while time.monotonic() < deadline:
                status = requests.get(f"{self.gateway.base_url}/responses/{response_id}", headers=self.headers,
                                      timeout=30).json().get("status")
                if status not in ("queued", "in_progress"):
                    return
                time.sleep(0.2)

        _each(wait, [*self.response_ids, *self.background_ids])

    def check_stored(self) -> None:
        """Every link and id handed out is read back (a few at a time: hundreds one by one took half a minute)."""

        def image(link: str) -> None:
            reply = requests.get(link, timeout=30)
            if reply.status_code != 200 or not reply.content.startswith(b"\x89PNG"):
                self.report.lost.append(f"image {link.split('?')[0][-20:]}: {reply.status_code}")

        def response(response_id: str) -> None:
            reply = requests.get(f"{self.gateway.base_url}/responses/{response_id}", headers=self.headers, timeout=30)
            if reply.status_code != 200 or reply.json().get("status") != "completed":
                self.report.lost.append(f"response {response_id}: {reply.status_code} {reply.text[:80]}")

        def background(response_id: str) -> None:
            # A background run streams from the model: one that a stream-cut window reached ends `failed`
            # with the upstream's error, honestly; it must never be lost or left running.
            reply = requests.get(f"{self.gateway.base_url}/responses/{response_id}", headers=self.headers, timeout=30)
            body = reply.json() if reply.status_code == 200 else {}
            if body.get("status") == "failed" and "stream" in (body.get("error") or {}).get("message", ""):
                with self.lock:
                    self.report.expected_faults += 1
            elif body.get("status") != "completed":
                self.report.lost.append(f"background {response_id}: {reply.status_code} {reply.text[:80]}")

        _each(image, self.links)
        _each(response, self.response_ids)
        _each(background, self.background_ids)
        self.report.stored_links = len(self.links)
        self.report.stored_responses = len(self.response_ids) + len(self.background_ids)


def _each(check: Callable[[str], None], items: list[str]) -> None:
    """Run `check` over `items` eight at a time; the first failure is raised."""
    with ThreadPoolExecutor(max_workers=8) as pool:
        for _ in pool.map(check, items):
            pass


def run(seconds: float, clients: int = 8, warmup: float | None = None) -> Report:
    warmup = warmup if warmup is not None else min(30.0, max(8.0, seconds / 5))
    with ExitStack() as stack:
        emulator = stack.enter_context(start_emulator())
        soak = stack.enter_context(_soaking(emulator))
        # The warm-up has the faults too, so every pool (upstream, store) has reached its working size.
        soak.run_traffic(warmup, clients, with_faults=True)
        soak.settle()
        time.sleep(1.0)
        soak.report = Report(fds_before=soak.fds(), rss_before_kb=soak.rss_kb(), fd_kinds_before=soak.fd_kinds())
        soak.report.fd_samples.clear()
        soak.links, soak.response_ids, soak.background_ids = [], [], []
        started = time.monotonic()
        soak.run_traffic(seconds, clients, with_faults=True)
        soak.report.seconds = time.monotonic() - started
        soak.settle()
        soak.check_stored()
        time.sleep(1.0)
        soak.report.fds_after, soak.report.rss_after_kb = soak.fds(), soak.rss_kb()
        soak.report.fd_kinds_after = soak.fd_kinds()
        return soak.report


@contextmanager
def _soaking(emulator: EmulatorHandle) -> Iterator[Soak]:
    with running(processes.start_moto, "moto") as moto:
        bucket = f"soak-{uuid.uuid4().hex[:10]}"
        processes.create_bucket(moto, bucket)
        proxy = FlakyS3Proxy(moto.url).start()
        env = {"STORAGE_BACKEND": "r2", "R2_ENDPOINT_URL": proxy.url, "R2_BUCKET": bucket,
               "R2_ACCESS_KEY_ID": processes.MOTO_ACCESS_KEY, "R2_SECRET_ACCESS_KEY": processes.MOTO_SECRET_KEY,
               "URL_SIGNING_SECRET": "soak-signing-secret-0123456789", "WEB_CONCURRENCY": "2",
               "STORAGE_TIMEOUT_SECONDS": "2", "STORAGE_DIR": tempfile.mkdtemp(prefix="soak-")}
        try:
            with start_gateway(emulator, **env) as gateway:
                yield Soak(gateway, emulator, proxy)
        finally:
            proxy.stop()


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m tests.soak", description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=300.0, help="length of the soak after warm-up")
    parser.add_argument("--clients", type=int, default=8, help="concurrent clients")
    parser.add_argument("--json", type=Path, help="write the report here")
    args = parser.parse_args()
    report = run(args.seconds, args.clients)
    text = json.dumps(report.as_json(), indent=2)
    print(text)
    if args.json:
        args.json.write_text(text)


if __name__ == "__main__":
    main()

