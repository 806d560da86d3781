"""The gateway's Prometheus metrics (`prometheus_client`), and the metering sink that feeds them.

Under gunicorn every worker is its own process, so `gunicorn.conf.py` sets `PROMETHEUS_MULTIPROC_DIR`
before the workers start: each worker then writes its figures to files there, and `GET /metrics`,
whichever worker serves it, adds up every worker's (the library's multiprocess mode). Without it
(one process: tests, `flask run`) the figures are the process's own.

Labels stay few and bounded: routes are the URL rules (not raw paths), models the Workers AI names
the request resolved to, keys the configured key names (never a secret).
"""

from __future__ import annotations

import os
from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.multiprocess import MultiProcessCollector

from openai_compat.core.metering import Measurement

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
PREFIX = "openai_compat"
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300)

REQUESTS = Counter(f"{PREFIX}_requests_total", "HTTP requests served, by route, method, status and model",
                   ["route", "method", "status", "model"])
REQUEST_SECONDS = Histogram(f"{PREFIX}_request_duration_seconds",
                            "Time from the request to its last byte (a stream's whole length)", ["route", "model"],
                            buckets=LATENCY_BUCKETS)
UPSTREAM_SECONDS = Histogram(f"{PREFIX}_upstream_duration_seconds",
                             "Time Workers AI took to answer one call (to its response headers)", ["model"],
                             buckets=LATENCY_BUCKETS)
FIRST_TOKEN_SECONDS = Histogram(f"{PREFIX}_time_to_first_token_seconds",
                                "Time from a streamed request to its first event with content", ["model"],
                                buckets=LATENCY_BUCKETS)
UPSTREAM_ERRORS = Counter(f"{PREFIX}_upstream_errors_total",
                          "Workers AI calls that failed, by the error code the client saw (`stream`: after the "
                          "first byte)", ["model", "status", "code"])
OPEN_STREAMS = Gauge(f"{PREFIX}_open_streams", "SSE streams open now", multiprocess_mode="livesum")
RATE_LIMITED = Counter(f"{PREFIX}_rate_limited_total", "Requests refused by a key's limit or budget",
                       ["key", "limit"])

USAGE_REQUESTS = Counter(f"{PREFIX}_usage_requests_total", "Requests that reported usage", ["model", "key"])
TOKENS = Counter(f"{PREFIX}_tokens_total", "Tokens, input and output", ["model", "key", "direction"])
IMAGES = Counter(f"{PREFIX}_images_total", "Images generated", ["model", "key"])
AUDIO_SECONDS = Counter(f"{PREFIX}_audio_seconds_total", "Seconds of audio transcribed or spoken", ["model", "key"])
CHARACTERS = Counter(f"{PREFIX}_characters_total", "Characters of text turned into speech", ["model", "key"])
COST = Counter(f"{PREFIX}_cost_usd_total", "Cost at Workers AI's published prices, USD", ["model", "key"])
UNPRICED = Counter(f"{PREFIX}_unpriced_requests_total", "Requests whose cost could not be known", ["model", "key"])


UNLISTED = "unlisted"
"""The `model` label of a model neither the catalogue nor an alias names: client-chosen names must
not each become a new time series."""

_children: dict[tuple[Any, tuple[str, ...]], Any] = {}


def child(metric: Any, *labels: str) -> Any:
    """`metric.labels(*labels)`, looked up once per label set: `labels()` validates and locks on every
    call, a measurable share of a request's CPU when several metrics are touched per request. The label
    sets are bounded (routes, statuses, listed models, configured keys), and so is this cache."""
    key = (metric, labels)
    found = _children.get(key)
    if found is None:
        found = _children[key] = metric.labels(*labels)
    return found


def record_usage(measurement: Measurement) -> None:
    """The metering sink: a request's usage and cost, by model and key (the model answered, so it exists)."""
    model, key = measurement.model.upstream, measurement.key or ""
    usage = measurement.usage
    child(USAGE_REQUESTS, model, key).inc()
    if usage.prompt_tokens:
        child(TOKENS, model, key, "input").inc(usage.prompt_tokens)
    if usage.completion_tokens:
        child(TOKENS, model, key, "output").inc(usage.completion_tokens)
    if usage.images:
        child(IMAGES, model, key).inc(usage.images)
    if usage.audio_seconds:
        child(AUDIO_SECONDS, model, key).inc(usage.audio_seconds)
    if usage.characters:
        child(CHARACTERS, model, key).inc(usage.characters)
    if measurement.cost.usd is None:
        child(UNPRICED, model, key).inc()
    elif measurement.cost.usd:
        child(COST, model, key).inc(measurement.cost.usd)


def count_refusal(key: str, limit: str) -> None:
    child(RATE_LIMITED, key, limit).inc()


def exposition() -> tuple[bytes, str]:
    """Every worker's figures when running under gunicorn's several processes, else this process's."""
    if os.environ.get(MULTIPROC_ENV):
        registry = CollectorRegistry()
        MultiProcessCollector(registry)
        return generate_latest(registry), CONTENT_TYPE_LATEST
    return generate_latest(), CONTENT_TYPE_LATEST
