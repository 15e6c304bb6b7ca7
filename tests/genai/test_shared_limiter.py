"""Judge limiters in different processes share one endpoint's minute of tokens and its 429
pauses through the tracking server (SQLite and PostgreSQL): each limiter merges what it used
into the server's bucket and paces itself by what all of them used."""

from __future__ import annotations

import subprocess
import sys

import pytest

from heron.client import HeronClient
from heron.genai.judges.endpoint import JudgeEndpoint
from heron.genai.judges.limiter import AdaptiveLimiter, limiter_for, share_limits

ENDPOINT = "http://judge.invalid/v1"


def _limiter(client: HeronClient, endpoint: str = ENDPOINT) -> AdaptiveLimiter:
    """A limiter as another process would have it: its own, sharing the server's bucket."""
    limiter = AdaptiveLimiter(16, tokens_per_minute=1000)
    limiter.share(client.backend.judge_limits, endpoint)
    return limiter


@pytest.mark.parametrize("live_server", ["sqlite", "postgresql"], indirect=True)
def test_two_limiters_share_the_minute_and_a_429(live_server: str) -> None:
    with HeronClient(live_server) as one, HeronClient(live_server) as two:
        worker, server = _limiter(one), _limiter(two)
        elsewhere = _limiter(two, "http://another-judge.invalid/v1")
        worker.succeeded(900, 0.0)
        worker.merge()
        server.merge()
        assert server.stats().shared
        assert server.stats().tokens_last_minute == 900  # the worker's tokens
        assert server.wait_s(50) == 0  # 950 of 1000: room left
        assert server.wait_s(200) > 0  # 1100: it waits for the minute, or the next merge
        elsewhere.merge()
        assert elsewhere.wait_s(200) == 0  # another endpoint's bucket

        server.throttled(30.0)  # a 429 with Retry-After: 30, told to the others at once
        worker.merge()
        assert 25 < worker.stats().paused_s <= 30
        assert worker.wait_s(0) > 25


OTHER_PROCESS = """
import sys
from heron.client import HeronClient
from heron.genai.judges.limiter import AdaptiveLimiter
with HeronClient(sys.argv[1]) as client:
    limiter = AdaptiveLimiter(16, tokens_per_minute=1000)
    limiter.share(client.backend.judge_limits, sys.argv[2])
    limiter.succeeded(700, 0.0)
    limiter.throttled(20.0)  # merged at once
    limiter.merge()
"""


def test_another_process_uses_the_same_bucket(live_server: str) -> None:
    endpoint = "http://judge-of-two-processes.invalid/v1"
    subprocess.run(
        [sys.executable, "-c", OTHER_PROCESS, live_server, endpoint], check=True, timeout=120
    )
    with HeronClient(live_server) as client:
        here = _limiter(client, endpoint)
        here.merge()
        assert here.stats().tokens_last_minute == 700
        assert 15 < here.stats().paused_s <= 20


def test_evaluations_and_monitoring_share_their_clients_bucket(live_server: str) -> None:
    endpoint = JudgeEndpoint(base_url="http://shared-judge.invalid/v1", model="m")
    with HeronClient(live_server) as client:
        try:
            share_limits(client.backend.judge_limits)
            limiter = limiter_for(endpoint)
            assert limiter.stats().shared
        finally:
            share_limits(None)
        assert not limiter.stats().shared
