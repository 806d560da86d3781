"""The soak's short version (`python -m tests.soak` runs it for minutes): mixed traffic over every family
with faults injected, then no unexpected 5xx, nothing stored lost, no growth of open file descriptors,
memory grown by under 10 % after warm-up."""

from __future__ import annotations

import os

from tests.soak.soak import run

SECONDS = float(os.environ.get("SOAK_SECONDS", "30"))


def test_a_short_soak_with_faults_loses_nothing_and_does_not_grow() -> None:
    report = run(SECONDS, clients=6, warmup=10)
    summary = report.as_json()
    print("soak:", summary)
    assert report.requests > 250, summary
    assert set(report.by_family) >= {"chat", "chat_stream", "responses_background", "images", "image_edit",
                                     "transcriptions", "speech", "speech_sse", "rerank", "moderations"}, summary
    assert sum(report.faults_injected.values()) >= 10, summary
    assert not report.unexpected, summary
    assert not report.lost and report.stored_links > 10 and report.stored_responses > 10, summary
    assert report.fds_after <= report.fds_before + 8, summary
    assert report.rss_growth < 0.10, summary
