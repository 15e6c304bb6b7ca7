"""The judge endpoints' shared token buckets on SQLite and PostgreSQL: what every caller used
in the current minute adds up, a new minute starts from zero, the longest 429 pause holds,
and bad keys and counts are refused."""

from __future__ import annotations

import hashlib
from typing import Any

import pytest

from heron.errors import InvalidParameter
from heron.services import AllowAll
from heron.services.judge_limits import MAX_PAUSE_MS, WINDOW_MS, JudgeLimitService

KEY = hashlib.sha256(b"http://judge.example/v1").hexdigest()


def test_callers_share_the_minute_and_the_longest_pause(stores: Any) -> None:
    bucket = stores.judge_limits
    first = bucket.merge_limits(KEY, 300, 0, 1_000_000, WINDOW_MS)
    assert (first.window_tokens, first.window_left_ms, first.pause_left_ms) == (300, 60_000, 0)
    # another process, 10 s later, asked to wait 30 s by a 429
    second = bucket.merge_limits(KEY, 200, 1_040_000, 1_010_000, WINDOW_MS)
    assert (second.window_tokens, second.window_left_ms, second.pause_left_ms) == (
        500, 50_000, 30_000
    )  # fmt: skip
    shorter = bucket.merge_limits(KEY, 0, 1_015_000, 1_012_000, WINDOW_MS)
    assert shorter.pause_left_ms == 28_000  # the longer pause holds
    other = bucket.merge_limits("0" * 64, 7, 0, 1_012_000, WINDOW_MS)
    assert other.window_tokens == 7  # one bucket per endpoint
    later = bucket.merge_limits(KEY, 40, 0, 1_060_000, WINDOW_MS)
    assert (later.window_tokens, later.window_left_ms, later.pause_left_ms) == (40, 60_000, 0)


def test_the_service_refuses_bad_keys_and_counts(stores: Any) -> None:
    service = JudgeLimitService(stores.judge_limits, AllowAll())
    assert service.merge_limits(KEY, 10).window_tokens == 10
    merged = service.merge_limits(KEY, 5, pause_ms=2_000)
    assert merged.window_tokens == 15
    assert 0 < merged.pause_left_ms <= 2_000
    for key, tokens, pause in (
        ("not-a-digest", 1, 0),
        (KEY.upper(), 1, 0),
        (KEY, -1, 0),
        (KEY, 1, -5),
        (KEY, 1, MAX_PAUSE_MS + 1),
    ):
        with pytest.raises(InvalidParameter):
            service.merge_limits(key, tokens, pause)
