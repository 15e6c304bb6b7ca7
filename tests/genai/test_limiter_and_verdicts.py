"""The adaptive limiter (concurrency halved on 429 and raised back, Retry-After pauses, tokens
a minute, a dollar budget) and the verdict parser (what small models answer)."""

from __future__ import annotations

import contextlib
import threading
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from heron.errors import InvalidParameter
from heron.genai.judges.endpoint import endpoint_from_env
from heron.genai.judges.limiter import AdaptiveLimiter, BudgetExceeded
from heron.genai.judges.verdict import Unreadable, ValueType, read_verdict


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_429_halves_the_concurrency_and_successes_raise_it_back() -> None:
    clock = Clock()
    limiter = AdaptiveLimiter(16, clock=clock)
    limiter.throttled(None)
    assert limiter.stats().limit == 8
    limiter.throttled(None)  # the same burst: counted once a second
    assert limiter.stats().limit == 8
    clock.now += 1.5
    limiter.throttled(None)
    assert limiter.stats().limit == 4
    for _ in range(200):
        limiter.succeeded(10, 0.0)
    assert limiter.stats().limit == 16  # never past the endpoint's maximum
    assert limiter.stats().throttled == 3


def test_calls_beyond_the_limit_wait_for_a_free_slot() -> None:
    limiter = AdaptiveLimiter(2)
    inside = threading.Semaphore(0)
    release = threading.Event()
    entered: list[int] = []

    def call(i: int) -> None:
        with limiter.slot():
            entered.append(i)
            inside.release()
            release.wait(10)

    threads = [threading.Thread(target=call, args=(i,)) for i in range(3)]
    for t in threads:
        t.start()
    assert inside.acquire(timeout=5)
    assert inside.acquire(timeout=5)
    assert not inside.acquire(timeout=0.3)  # the third waits
    assert limiter.stats().in_flight == 2
    release.set()
    assert inside.acquire(timeout=5)
    for t in threads:
        t.join(5)
    assert sorted(entered) == [0, 1, 2]


def test_retry_after_pauses_new_calls() -> None:
    clock = Clock()
    limiter = AdaptiveLimiter(4, clock=clock)
    limiter.throttled(30.0)
    waited = threading.Event()

    def call() -> None:
        with limiter.slot():
            waited.set()

    thread = threading.Thread(target=call)
    thread.start()
    assert not waited.wait(0.3)
    clock.now += 31
    assert waited.wait(5)
    thread.join(5)


def test_the_token_budget_of_a_minute_paces_calls() -> None:
    clock = Clock()
    limiter = AdaptiveLimiter(8, tokens_per_minute=1000, clock=clock)
    with limiter.slot(600):
        limiter.succeeded(600, 0.0)
    done = threading.Event()

    def call() -> None:
        with limiter.slot(600):
            done.set()

    thread = threading.Thread(target=call)
    thread.start()
    assert not done.wait(0.3)  # 600 + 600 > 1000 within the minute
    clock.now += 61
    assert done.wait(5)
    thread.join(5)


def test_a_spent_budget_refuses_more_calls() -> None:
    limiter = AdaptiveLimiter(4, budget_usd=0.01)
    with limiter.slot():
        limiter.succeeded(100, 0.02)
    with pytest.raises(BudgetExceeded, match=r"budget of \$0.01 is spent"), limiter.slot():
        pass


@pytest.mark.parametrize(
    ("answer", "value", "rationale"),
    [
        ('{"rationale": "ok", "result": "yes"}', "yes", "ok"),
        ('Sure!\n```json\n{"result": "No", "reason": "bad"}\n```\nHope that helps', "no", "bad"),
        ('Verdict: {"verdict": "PASS", "explanation": "fine"} -- done', "yes", "fine"),
        ('{"result": true}', "yes", None),
        ('{"rationale": "r", "result": "Yes."}', "yes", "r"),
    ],
    ids=["plain", "fenced-in-prose", "other-keys", "boolean", "punctuated"],
)
def test_yes_no_verdicts_are_read_from_what_models_answer(
    answer: str, value: str, rationale: str | None
) -> None:
    assert read_verdict(answer, ValueType()) == (value, rationale)


@pytest.mark.parametrize(
    ("answer", "value_type", "message"),
    [
        ("I think yes", ValueType(), "no JSON object"),
        ('{"rationale": "r"}', ValueType(), 'no "result"'),
        ('{"result": "maybe"}', ValueType(), 'not "yes" or "no"'),
        ('{"result": 9}', ValueType("number", low=1, high=5), "from 1 to 5"),
        ('{"result": "blue"}', ValueType("options", ("red", "green")), "one of"),
    ],
    ids=["prose", "no-result", "maybe", "out-of-range", "not-an-option"],
)
def test_unreadable_verdicts_say_why(answer: str, value_type: ValueType, message: str) -> None:
    with pytest.raises(Unreadable, match=message):
        read_verdict(answer, value_type)


@given(st.text(max_size=300))
def test_any_answer_is_read_or_refused_never_crashes(answer: str) -> None:
    for value_type in (ValueType(), ValueType("number"), ValueType("any")):
        with contextlib.suppress(Unreadable):
            read_verdict(answer, value_type)


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"HERON_JUDGE_MAX_CONCURRENCY": "0"}, "positive integer"),
        ({"HERON_JUDGE_BUDGET_USD": "lots"}, "positive number"),
        ({"HERON_JUDGE_PRICES": "1"}, "input,output"),
    ],
    ids=["concurrency", "budget", "prices"],
)
def test_bad_judge_settings_are_refused(env: dict[str, Any], message: str) -> None:
    with pytest.raises(InvalidParameter, match=message):
        endpoint_from_env(env)


def test_judge_settings_come_from_the_environment() -> None:
    endpoint = endpoint_from_env(
        {
            "OPENAI_BASE_URL": "http://127.0.0.1:9/v1",
            "OPENAI_API_KEY": "k",
            "HERON_JUDGE_MODEL": "gpt-4o",
            "HERON_JUDGE_TOKENS_PER_MINUTE": "5000",
        }
    )
    assert (endpoint.base_url, endpoint.api_key, endpoint.model) == (
        "http://127.0.0.1:9/v1",
        "k",
        "gpt-4o",
    )
    assert endpoint.tokens_per_minute == 5000
    assert endpoint.price_in_per_mtok == 2.5  # the list price of gpt-4o
    assert endpoint.with_model("openai:/gpt-4o-mini").model == "gpt-4o-mini"
