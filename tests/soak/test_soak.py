"""The soak's short version (`python -m tests.soak` runs it for minutes): mixed traffic over every family
with faults injected, then no unexpected 5xx, nothing stored lost, no growth of open file descriptors,
memory grown by under 10 % after warm-up."""

from __future__ import annotations

import os

import pytest

from tests.soak.soak import run

SECONDS = float(os.environ.get("SOAK_SECONDS", "25"))
CLIENTS = 6


@pytest.mark.timeout(300)  # a soak is long by design: its own bound, not the suite's per-test one
def test_a_short_soak_with_faults_loses_nothing_and_does_not_grow() -> None:
    report = run(SECONDS, clients=CLIENTS, warmup=8)
    summary = report.as_json()
    print("soak:", summary)
    assert report.requests > 250, summary
    assert set(report.by_family) >= {"chat", "chat_stream", "responses_background", "images", "image_edit",
                                     "transcriptions", "speech", "speech_sse", "rerank", "moderations"}, summary
    assert sum(report.faults_injected.values()) >= 6, summary  # one every two seconds or so
    assert not report.unexpected, summary
    assert not report.lost and report.stored_links > 10 and report.stored_responses > 10, summary
    # Files, pipes and listeners exactly as before; connections kept in the upstream and store pools may
    # grow with the concurrency the faults caused, never with the number of requests.
    assert report.other_fds(report.fd_kinds_after) == report.other_fds(report.fd_kinds_before), summary
    assert report.pooled_sockets_after <= 2 * 4 * CLIENTS, summary  # two workers, two pools, twice the clients
    assert report.rss_growth < 0.10, summary
