"""Span attributes and events, and assessments, on a server with --sensitive-keys on SQLite and
PostgreSQL: attributes and event attributes of sensitive keys (and the keys that copy a call's
messages), rationales and expectations' values are ciphertext in the database and plaintext
through every read (traces/get, Heron's search, the trace page, `heron export`); feedback
values stay in clear for the overview's sums; searches on sealed values are refused; tampering
and a revoked key fail closed; `heron keys seal`, `heron status` and rotation cover them."""

from __future__ import annotations

import html
import json
import sqlite3
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest
from tests.server.test_field_encryption import API, SECRET, change, heron, raw, server
from tests.server.test_field_sealing import PATTERNS, dump

from heron.client.http.traces import otlp_body
from heron.entities.trace import Span, SpanEvent, SpanStatusCode
from heron.store.crypto.fields import PREFIX
from heron.store.crypto.keys import retire_key, rotate_key_file

V3 = "/api/3.0/mlflow"
PROMPT = "summarise the " + "patient- record"
RATIONALE = "the answer leaks the " + "patient- name"
EXPECTED = "a summary without " + "the patient- name"
PLAINTEXTS = (SECRET, PROMPT, RATIONALE, EXPECTED)


def _ok(answer: httpx.Response) -> Any:
    assert answer.status_code == 200, answer.text
    return answer.json()


def _experiment(http: httpx.Client) -> str:
    made = http.post(f"{API}/experiments/create", json={"name": f"e-{uuid.uuid4().hex[:6]}"})
    return str(_ok(made)["experiment_id"])


def _log_trace(http: httpx.Client, experiment_id: str) -> str:
    """A trace of two spans: the root's attributes hold a sensitive key, a prompt (the OTel
    GenAI key) and a plain key; the child's event holds a sensitive key and a plain one."""
    trace_id = "tr-" + uuid.uuid4().hex
    start = time.time_ns()
    root_id, child_id = uuid.uuid4().hex[:16], uuid.uuid4().hex[:16]
    root = Span(
        trace_id=trace_id, span_id=root_id, parent_span_id=None, name="agent",
        span_type="AGENT", status=SpanStatusCode.OK, start_time_ns=start,
        end_time_ns=start + 2_000_000, inputs={"q": "hello"}, outputs="hi",
        attributes={"db_password": SECRET, "gen_ai.prompt": PROMPT, "model": "gpt-x",
                    "secret.limits": {"calls": 3}},
    )  # fmt: skip
    child = Span(
        trace_id=trace_id, span_id=child_id, parent_span_id=root_id, name="lookup",
        span_type="TOOL", status=SpanStatusCode.ERROR, start_time_ns=start + 10,
        end_time_ns=start + 1_000_000, attributes={"tool": "db"},
        events=[SpanEvent(name="retry", time_unix_nano=start + 20,
                          attributes={"api_password": SECRET, "attempt": 2})],
    )  # fmt: skip
    sent = http.post(
        "/v1/traces",
        content=otlp_body([root, child]),
        headers={"Content-Type": "application/x-protobuf", "x-mlflow-experiment-id": experiment_id},
    )
    assert sent.status_code == 200, sent.text
    feedback = {
        "assessment_name": "leaks", "feedback": {"value": False}, "rationale": RATIONALE,
        "source": {"source_type": "HUMAN", "source_id": "ann"},
    }  # fmt: skip
    expectation = {
        "assessment_name": "expected_response", "expectation": {"value": EXPECTED},
        "source": {"source_type": "HUMAN", "source_id": "ann"},
    }  # fmt: skip
    for assessment in (feedback, expectation):
        path = f"{V3}/traces/{trace_id}/assessments"
        _ok(http.post(path, json={"assessment": assessment}))
    return trace_id


def _read(http: httpx.Client, trace_id: str) -> tuple[Any, ...]:
    """What a client reads of the trace: MLflow's traces/get (spans, attributes as JSON text)
    and Heron's search (spans decoded)."""
    got = _ok(http.get(f"{V3}/traces/get", params={"trace_id": trace_id}))["trace"]
    spans = {s["name"]: s for s in got["spans"]}
    attributes = {a["key"]: a["value"] for a in spans["agent"]["attributes"]}
    events = spans["lookup"]["events"]
    assessments = {a["assessment_name"]: a for a in got["trace_info"].get("assessments", [])}
    experiment_id = got["trace_info"]["trace_location"]["mlflow_experiment"]["experiment_id"]
    searched = {"experiment_ids": [experiment_id]}
    found = _ok(http.get("/api/2.0/heron/traces/search", params=searched))
    return attributes, events, assessments, found["traces"]


def _check_clear(http: httpx.Client, trace_id: str) -> None:
    attributes, events, assessments, searched = _read(http, trace_id)
    assert attributes["db_password"] == {"string_value": SECRET}
    assert attributes["gen_ai.prompt"] == {"string_value": PROMPT}
    assert attributes["model"] == {"string_value": "gpt-x"}
    event_attributes = {a["key"]: a["value"] for a in events[0]["attributes"]}
    assert event_attributes["api_password"] == {"string_value": SECRET}
    assert assessments["leaks"]["rationale"] == RATIONALE
    assert assessments["leaks"]["feedback"]["value"] is False
    assert assessments["expected_response"]["expectation"]["value"] == EXPECTED
    spans = {s["name"]: s for s in searched[0]["spans"]}
    assert spans["agent"]["attributes"]["secret.limits"] == {"calls": 3}
    assert spans["agent"]["attributes"]["db_password"] == SECRET
    assert spans["lookup"]["events"][0]["attributes"] == {"api_password": SECRET, "attempt": 2}


def test_span_attributes_events_and_assessments_are_sealed_and_read_in_clear(
    serve_settings: Any, database_uri: str, tmp_path: Path, key_file: Path
) -> None:
    with server(serve_settings, database_uri, tmp_path, key_file) as http:
        experiment_id = _experiment(http)
        trace_id = _log_trace(http, experiment_id)
        _check_clear(http, trace_id)
        # The trace page: the root span's attributes, the child's event, the rationale.
        page = http.get(f"/traces/{trace_id}")
        assert page.status_code == 200
        for text in (SECRET, PROMPT, "gpt-x", RATIONALE, EXPECTED):
            assert text in html.unescape(page.text), text
        (child_id,) = raw(database_uri, "SELECT span_id FROM spans WHERE name = 'lookup'")[0]
        page = http.get(f"/traces/{trace_id}", params={"span": child_id})
        assert "api_password" in page.text
        assert SECRET in html.unescape(page.text)
        assert PREFIX not in page.text

    rows = raw(database_uri, "SELECT name, attributes, events FROM spans")
    stored = {name: (a if isinstance(a, dict) else json.loads(a), e) for name, a, e in rows}
    agent, _ = stored["agent"]
    assert agent["model"] == "gpt-x"
    assert agent["db_password"].startswith(PREFIX)
    assert agent["gen_ai.prompt"].startswith(PREFIX)
    assert agent["secret.limits"].startswith(PREFIX)
    assert PREFIX in stored["lookup"][1]
    assert '"attempt":2' in stored["lookup"][1]
    assessed = {
        r[0]: r[1:]
        for r in raw(
            database_uri, "SELECT name, value, value_text, rationale, score FROM assessments"
        )
    }
    assert assessed["leaks"][:2] == ("false", "false")  # the feedback's value stays in clear
    assert assessed["leaks"][2].startswith(PREFIX)  # its rationale is sealed
    assert assessed["leaks"][3] == 0.0  # the overview sums it
    value, value_text, rationale, score = assessed["expected_response"]
    assert value.startswith(PREFIX)
    assert (value_text, rationale, score) == (None, None, None)
    everything = dump(database_uri)
    for text in PLAINTEXTS:
        assert text not in everything

    # heron export reads them in clear, into a data directory without a key.
    target = tmp_path / "exported"
    flags = ["--backend-store-uri", database_uri, "--encryption-key", str(key_file)]
    heron("export", str(target), *flags, "--artifacts-destination", str(tmp_path / "artifacts"))
    with sqlite3.connect(target / "heron.db") as conn:
        rows = conn.execute("SELECT attributes, events FROM spans").fetchall()
        rows += conn.execute("SELECT rationale, value FROM assessments").fetchall()
    copied = " ".join(str(value) for row in rows for value in row)
    for text in PLAINTEXTS:
        assert text in copied


@pytest.mark.parametrize(
    ("filter_", "field"),
    [
        ("span.attributes.db_password = 'x'", "span attribute 'db_password'"),
        ("span.attributes.gen_ai.prompt LIKE '%record%'", "span attribute 'gen_ai.prompt'"),
        ("span.attributes.mlflow.spanInputs LIKE '%q%'", "span attribute 'mlflow.spanInputs'"),
        ("expectation.expected_response = 'x'", "expectation 'expected_response'"),
    ],
    ids=["sensitive-attribute", "prompt-attribute", "span-inputs", "expectation"],
)
def test_searches_on_sealed_span_attributes_and_expectations_are_refused(
    serve_settings: Any, tmp_path: Path, key_file: Path, filter_: str, field: str
) -> None:
    uri = f"sqlite:///{tmp_path}/heron.db"
    with server(serve_settings, uri, tmp_path, key_file) as http:
        experiment_id = _experiment(http)
        trace_id = _log_trace(http, experiment_id)
        searched = {"experiment_ids": [experiment_id], "filter": filter_}
        answer = http.get("/api/2.0/heron/traces/search", params=searched)
        assert answer.status_code == 400, answer.text
        assert answer.json()["error_code"] == "INVALID_PARAMETER_VALUE"
        assert field in answer.json()["message"]
        assert "encrypted" in answer.json()["message"]
        v3 = http.post(f"{V3}/traces/search", json={"locations": [], **searched})
        assert v3.status_code == 400, v3.text
        # The other attributes, presence, and feedback values still answer.
        for fine in (
            "span.attributes.model = 'gpt-x'",
            "expectation.expected_response IS NOT NULL",
            "feedback.leaks = 'false'",
        ):
            found = http.get(
                "/api/2.0/heron/traces/search",
                params={"experiment_ids": [experiment_id], "filter": fine},
            )
            assert [t["trace_id"] for t in _ok(found)["traces"]] == [trace_id], fine


def _flip(text: str) -> str:
    """The text with a character of its (first) sealed value's ciphertext changed."""
    start = text.index(PREFIX)
    end = text.find('"', start)
    at = (len(text) if end < 0 else end) - 6
    return text[:at] + ("A" if text[at] != "A" else "B") + text[at + 1 :]


def test_tampering_and_revocation_fail_closed(
    serve_settings: Any, database_uri: str, tmp_path: Path, key_file: Path
) -> None:
    with server(serve_settings, database_uri, tmp_path, key_file) as http:
        trace_id = _log_trace(http, _experiment(http))
        (events,) = raw(database_uri, "SELECT events FROM spans WHERE name = 'lookup'")[0]
        flipped = _flip(events).replace("'", "''")
        change(database_uri, f"UPDATE spans SET events = '{flipped}' WHERE name = 'lookup'")
        altered = http.get(f"{V3}/traces/get", params={"trace_id": trace_id})
        assert altered.json()["error_code"] == "DATA_LOSS", altered.text
        assert "api_password" in altered.json()["message"]
        restored = events.replace("'", "''")
        change(database_uri, f"UPDATE spans SET events = '{restored}' WHERE name = 'lookup'")
        (rationale,) = raw(database_uri, "SELECT rationale FROM assessments WHERE name = 'leaks'")[
            0
        ]
        change(
            database_uri,
            f"UPDATE assessments SET rationale = '{_flip(rationale)}' WHERE name = 'leaks'",
        )
        altered = http.get(f"{V3}/traces/get", params={"trace_id": trace_id})
        assert altered.json()["error_code"] == "DATA_LOSS", altered.text
        assert "rationale" in altered.json()["message"]
        change(
            database_uri, f"UPDATE assessments SET rationale = '{rationale}' WHERE name = 'leaks'"
        )
        _check_clear(http, trace_id)

        primary = json.loads(key_file.read_text())["primary"]
        key_file.write_text(key_file.read_text().replace(primary, "k-revoked"))
        time.sleep(1.1)  # a running server looks at the key file once a second
        for path, params in (
            (f"{V3}/traces/get", {"trace_id": trace_id}),
            ("/api/2.0/heron/traces/search", {"experiment_ids": ["1"]}),
        ):
            refused = http.get(path, params=params)
            assert refused.status_code == 503, refused.text
            assert refused.json()["error_code"] == "TEMPORARILY_UNAVAILABLE"
            assert primary in refused.json()["message"]
            for text in (*PLAINTEXTS, PREFIX):
                assert text not in refused.text


def test_seal_status_and_rewrap_cover_spans_and_assessments(
    serve_settings: Any, database_uri: str, tmp_path: Path, key_file: Path
) -> None:
    with server(serve_settings, database_uri, tmp_path, None) as http:  # encryption off
        trace_id = _log_trace(http, _experiment(http))
        before = _read(http, trace_id)
    assert all(text in dump(database_uri) for text in PLAINTEXTS)
    flags = ["--backend-store-uri", database_uri, "--encryption-key", str(key_file)]

    status = heron("status", *flags, "--sensitive-keys", PATTERNS)
    said = " ".join(status.output.split())
    for field in ("spans.attributes 1", "spans.events 1", "assessments.rationale 1",
                  "assessments.value 1"):  # fmt: skip
        assert field in said, said
    sealed = heron("keys", "seal", *flags, "--sensitive-keys", PATTERNS)
    # With the trace's previews and the span's inputs and outputs, always sealed.
    assert "Sealed 8 database values" in sealed.output
    everything = dump(database_uri)
    for text in PLAINTEXTS:
        assert text not in everything
    assert "gpt-x" in everything
    assert "false" in everything
    again = heron("keys", "seal", *flags, "--sensitive-keys", PATTERNS)
    assert "Sealed 0 database values" in again.output
    assert dump(database_uri) == everything
    assert "in clear:    none" in heron("status", *flags, "--sensitive-keys", PATTERNS).output

    with server(serve_settings, database_uri, tmp_path, key_file) as http:
        assert _read(http, trace_id) == before
        first = json.loads(key_file.read_text())["primary"]
        rotate_key_file(key_file)
        heron("keys", "rewrap", *flags)
        retire_key(key_file, first)
        time.sleep(1.1)
        assert _read(http, trace_id) == before
    assert f"{PREFIX}{first}:" not in dump(database_uri)
