"""What sealing span attributes, events and assessments costs: a trace of 50 spans logged (and
read) on a plain server and on one with field encryption on, side by side on this machine.

    .venv/bin/python bench/field_encryption_spans.py [--spans 50] [--requests 100] [--rounds 3]

Two `heron server`s on fresh directories, as bench/field_encryption.py starts them (one plain,
one with a key file and `--sensitive-keys '*password*,secret.*'`). Each trace has `--spans`
spans, each with 500-character inputs and outputs and ten attributes; in the "sensitive"
traces two of them match the patterns and one is a prompt (`gen_ai.prompt`, always sealed),
and each span has an event with a sensitive attribute. Operations: OTLP ingest of a trace
without and with sensitive attributes; traces/get of a sensitive trace, read again and again,
and of traces each read once (their values never opened before); logging a feedback with a
rationale, and an expectation. Each runs `--requests` times on one server then on the other,
`--rounds` times; medians of wall time and of the server process's CPU time per request.

Prints the table and writes it to --json (default bench-results/field_encryption_spans.json).
"""

from __future__ import annotations

import argparse
import time
import uuid
from collections.abc import Callable
from pathlib import Path

from artifacts import RESULTS, HeronServer
from field_encryption import API, TEXT, report, side_by_side

from heron.client.http.traces import otlp_body
from heron.entities.trace import Span, SpanEvent, SpanStatusCode

V3 = "/api/3.0/mlflow"


def spans_of(trace_id: str, count: int, sensitive: bool) -> list[Span]:
    start = time.time_ns()
    ids = [uuid.uuid4().hex[:16] for _ in range(count)]
    attributes: dict[str, object] = {f"attr.{i}": f"value {i}" for i in range(7)}
    attributes["llm.temperature"] = 0.2
    if sensitive:
        attributes.update({"db_password": "pw", "secret.route": "r-1", "gen_ai.prompt": TEXT})
    else:
        attributes.update({"db_user": "u", "route": "r-1", "prompt_id": TEXT})
    event_attributes = {"api_password" if sensitive else "api_user": "x", "attempt": 1}
    event = SpanEvent(name="retry", time_unix_nano=start + 1, attributes=event_attributes)
    return [
        Span(
            trace_id=trace_id, span_id=ids[i], parent_span_id=None if i == 0 else ids[0],
            name=f"step-{i}", span_type="LLM", status=SpanStatusCode.OK,
            start_time_ns=start + i, end_time_ns=start + 1_000_000,
            inputs={"prompt": TEXT}, outputs=TEXT, attributes=attributes,
            events=[event],
        )
        for i in range(count)
    ]  # fmt: skip


def send(server: HeronServer, experiment_id: str, spans: int, sensitive: bool) -> str:
    trace_id = "tr-" + uuid.uuid4().hex
    headers = {"Content-Type": "application/x-protobuf", "x-mlflow-experiment-id": experiment_id}
    body = otlp_body(spans_of(trace_id, spans, sensitive))
    server.call("POST", "/v1/traces", body, **headers)
    return trace_id


def operations(server: HeronServer, spans: int, reads: int) -> dict[str, Callable[[int], object]]:
    made = server.post(f"{API}/experiments/create", {"name": f"spans-{uuid.uuid4().hex[:6]}"})
    exp = str(made["experiment_id"])
    trace = send(server, exp, spans, True)
    # Traces each read once: their values were never opened (none is in memory).
    unread = iter([send(server, exp, spans, True) for _ in range(reads)])
    human = {"source_type": "HUMAN", "source_id": "ann"}
    feedback = {
        "assessment_name": "correct", "feedback": {"value": True}, "source": human,
        "rationale": TEXT,
    }  # fmt: skip
    expectation = {
        "assessment_name": "expected", "expectation": {"value": TEXT}, "source": human,
    }  # fmt: skip
    return {
        f"ingest {spans} spans, no sensitive attr": lambda i: send(server, exp, spans, False),
        f"ingest {spans} spans, sensitive attrs": lambda i: send(server, exp, spans, True),
        f"traces/get ({spans} spans, sealed)": lambda i: server.call(
            "GET", f"{V3}/traces/get?trace_id={trace}"
        ),
        f"traces/get ({spans} spans), first read": lambda i: server.call(
            "GET", f"{V3}/traces/get?trace_id={next(unread)}"
        ),
        "log feedback with rationale": lambda i: server.post(
            f"{V3}/traces/{trace}/assessments", {"assessment": feedback}
        ),
        "log expectation": lambda i: server.post(
            f"{V3}/traces/{trace}/assessments", {"assessment": expectation}
        ),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--spans", type=int, default=50)
    parser.add_argument("--requests", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--json", type=Path, default=RESULTS / "field_encryption_spans.json")
    args = parser.parse_args()
    reads = (args.requests + 1) * args.rounds
    figures = side_by_side(
        "heron-spans-",
        lambda server: operations(server, args.spans, reads),
        args.requests,
        args.rounds,
    )
    report(figures, args)


if __name__ == "__main__":
    main()
