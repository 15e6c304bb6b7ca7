"""The batcher: compatible jobs share a call, rows are counted, the latency bound holds."""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence

import orjson
import pytest

from heron.serving import protocol
from heron.serving.batching import Batcher, CostModel, Overloaded
from heron.serving.scoring import Job, Outcome, batch_key


def split_job(rows: int, done: list[Outcome], columns: Sequence[str] = ("a",)) -> Job:
    request = protocol.parse_json(
        orjson.dumps(
            {"dataframe_split": {"columns": list(columns), "data": [[1.0] * len(columns)] * rows}}
        )
    )
    key, n = batch_key(request)
    return Job(request, done.append, rows=n, key=key)


def test_cost_model_learns_fixed_and_per_row_cost() -> None:
    cost = CostModel()
    for rows in (1, 10, 100, 1, 10, 100):
        cost.observe(rows, 0.010 + 0.001 * rows)
    fixed, per_row = cost.coefficients()
    assert fixed == pytest.approx(0.010)
    assert per_row == pytest.approx(0.001)
    assert cost.seconds(2000, max_batch_rows=1000) == pytest.approx(2 * 0.010 + 2.0)


def test_jobs_queued_while_busy_go_in_one_call_up_to_max_rows() -> None:
    calls: list[list[int]] = []
    gate = threading.Event()

    def score(jobs: Sequence[Job]) -> None:
        gate.wait(5)
        calls.append([job.rows for job in jobs])
        for job in jobs:
            job.done(Outcome(200, b"{}"))

    done: list[Outcome] = []
    batcher = Batcher(score, max_batch_rows=10)
    batcher.submit(split_job(1, done))  # taken at once, held at the gate
    time.sleep(0.2)
    for rows in (4, 4, 4, 3):
        batcher.submit(split_job(rows, done))
    batcher.submit(split_job(2, done, columns=("b",)))  # another key: its own call
    gate.set()
    batcher.close()
    assert calls == [[1], [4, 4], [4, 3], [2]]
    assert len(done) == 6


def test_a_job_that_cannot_meet_the_bound_is_refused() -> None:
    def score(jobs: Sequence[Job]) -> None:
        time.sleep(0.2)
        for job in jobs:
            job.done(Outcome(200, b"{}"))

    done: list[Outcome] = []
    batcher = Batcher(score, max_batch_rows=1, max_latency_s=0.5)
    batcher.cost.observe(1, 0.2)  # as if one call had been seen
    batcher.submit(split_job(1, done))  # scored at once: 0.2 s
    batcher.submit(split_job(1, done))  # queued: answered within 0.4 s
    with pytest.raises(Overloaded) as refused:
        batcher.submit(split_job(1, done))
    assert refused.value.retry_after_s >= 1
    batcher.close()


def test_rows_of_different_columns_or_params_are_not_batched_together() -> None:
    a = protocol.parse_json(b'{"dataframe_split": {"columns": ["x"], "data": [[1]]}}')
    b = protocol.parse_json(b'{"dataframe_split": {"columns": ["y"], "data": [[1]]}}')
    c = protocol.parse_json(
        b'{"dataframe_split": {"columns": ["x"], "data": [[1]]}, "params": {"k": 1}}'
    )
    indexed = protocol.parse_json(
        b'{"dataframe_split": {"columns": ["x"], "data": [[1]], "index": [7]}}'
    )
    keys = [batch_key(r)[0] for r in (a, b, c)]
    assert len(set(keys)) == 3
    assert batch_key(indexed)[0] is None
