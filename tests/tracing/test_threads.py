"""Trace context across threads: heron.tracing.copy_context carries the current span (and
the active run) into a thread pool, so spans started there are children of the caller's."""

from __future__ import annotations

import threading
import uuid
from concurrent.futures import ThreadPoolExecutor

import heron
from heron import tracing


@tracing.trace(span_type="TOOL")
def _lookup(q: str) -> str:
    return q.upper()


def test_spans_in_a_thread_pool_are_children_of_the_callers_span(destination: str) -> None:
    heron.set_experiment(f"th-{uuid.uuid4().hex[:8]}")
    questions = [f"q{i}" for i in range(8)]
    with tracing.start_span("fan-out") as root, ThreadPoolExecutor(max_workers=4) as pool:
        answers = list(pool.map(tracing.copy_context(_lookup), questions))
    assert answers == [q.upper() for q in questions]
    trace_id = tracing.get_last_active_trace_id()
    assert trace_id is not None
    assert tracing.flush(timeout_s=30)

    trace = tracing.get_trace(trace_id)
    lookups = [s for s in trace.spans if s.name == "_lookup"]
    assert len(lookups) == len(questions)
    assert {s.parent_span_id for s in lookups} == {root.span_id}
    assert sorted(s.inputs["q"] for s in lookups) == sorted(questions)


def test_a_plain_thread_sees_the_active_run_and_span_only_through_copy_context(
    destination: str,
) -> None:
    heron.set_experiment(f"th-{uuid.uuid4().hex[:8]}")
    seen: dict[str, object] = {}

    def look(label: str) -> None:
        span = tracing.get_current_active_span()
        run = heron.active_run()
        seen[label] = (span.span_id if span else None, run.info.run_id if run else None)

    with heron.start_run() as run, tracing.start_span("caller") as span:
        for label, target in (("bare", look), ("copied", tracing.copy_context(look))):
            thread = threading.Thread(target=target, args=(label,))
            thread.start()
            thread.join()
    assert seen["copied"] == (span.span_id, run.info.run_id)
    assert seen["bare"] == (None, None)
