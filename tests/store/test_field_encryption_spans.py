"""Span attributes and events, and judges' cached rationales, sealed by the stores on SQLite and
PostgreSQL: values of every JSON type come back as they went in (PostgreSQL decodes the
attributes itself, SQLite hands back text), only the keys the settings name are sealed, and
a value sealed in the database is refused without a key."""

from __future__ import annotations

import json
import time
import uuid
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from heron.entities.assessment import Assessment, AssessmentKind
from heron.entities.evaluation import CachedVerdict
from heron.entities.trace import Span, SpanEvent, SpanStatusCode
from heron.errors import KeyUnavailable
from heron.store.crypto.fields import PREFIX, field_cipher
from heron.store.sql import SqlStores, open_sql_stores
from heron.store.sql.sealed_backfill import clear_counts, seal_clear
from heron.store.sql.tables import assessments, spans
from heron.store.sql.tables_evaluation import judge_cache
from heron.store.sql.traces_sealed_spans import sealed_attribute_key

SECRET = "hunter2-" + "not-a-real-secret"
EXPECTATION = AssessmentKind.EXPECTATION
ODD = 'quotes " and \\ backslashes, ünïcode ✓, "key": "heron-enc:1:not-sealed"'
ATTRIBUTES: dict[str, Any] = {
    "db_password": SECRET,
    "secret.number": 42,
    "secret.float": 0.5,
    "secret.flag": False,
    "secret.none": None,
    "secret.list": [1, "two", {"three": 3}],
    "secret.object": {"nested": ODD},
    "secret.odd": ODD,
    "mlflow.spanInputs": {"leaked": "copy"},
    "gen_ai.prompt.0.content": "a prompt",
    "model": "gpt-x",
    "plain.odd": ODD,
}


def _stores(uri: str, key_file: Path | None) -> SqlStores:
    fields = None
    if key_file is not None:
        fields = field_cipher(str(key_file), cache_s=0, sensitive_keys=["*password*", "secret.*"])
    return open_sql_stores(uri, default_artifact_root="mlflow-artifacts:", fields=fields)


def _span(trace_id: str) -> Span:
    start = time.time_ns()
    event = SpanEvent(
        name="retry", time_unix_nano=start + 1, attributes={"api_password": ODD, "n": 1}
    )
    return Span(
        trace_id=trace_id, span_id=uuid.uuid4().hex[:16], parent_span_id=None, name="root",
        span_type="CHAIN", status=SpanStatusCode.OK, start_time_ns=start,
        end_time_ns=start + 5, attributes=dict(ATTRIBUTES),
        events=[event, SpanEvent(name="plain", time_unix_nano=start + 2, attributes={"n": 2})],
    )  # fmt: skip


def test_sealed_keys() -> None:
    def never(key: str) -> bool:
        return False

    for key in ("mlflow.spanInputs", "mlflow.spanOutputs", "gen_ai.prompt.0.content",
                "gen_ai.completion", "gen_ai.input.messages", "input.value",
                "llm.output_messages.0.message.content"):  # fmt: skip
        assert sealed_attribute_key(never, key), key
    for key in ("mlflow.spanType", "gen_ai.usage.input_tokens", "model", "MLFLOW.SPANINPUTS"):
        assert not sealed_attribute_key(never, key), key
    assert sealed_attribute_key(lambda k: k == "db_password", "db_password")


def test_attributes_of_every_type_round_trip_sealed(database_uri: str, key_file: Path) -> None:
    stores = _stores(database_uri, key_file)
    try:
        experiment_id = "0"
        trace_id = "tr-" + uuid.uuid4().hex
        stores.traces.log_spans(experiment_id, [_span(trace_id)])
        (read,) = stores.traces.get_traces([trace_id])[0].spans
        with stores.database.read() as conn:
            attributes, events = conn.execute(
                select(spans.c.attributes, spans.c.events).where(spans.c.trace_id == trace_id)
            ).one()
    finally:
        stores.close()
    assert dict(read.attributes) == ATTRIBUTES
    assert [(e.name, dict(e.attributes)) for e in read.events] == [
        ("retry", {"api_password": ODD, "n": 1}),
        ("plain", {"n": 2}),
    ]
    stored = attributes if isinstance(attributes, dict) else json.loads(attributes)
    clear = {"model", "plain.odd"}
    for key, value in stored.items():
        assert (key in clear) != (isinstance(value, str) and value.startswith(PREFIX)), key
    assert stored["plain.odd"] == ODD
    assert SECRET not in json.dumps(stored)
    assert "a prompt" not in json.dumps(stored)
    assert "ünïcode" not in json.loads(events)[0]["attributes"]["api_password"]


def test_sealed_attributes_without_a_key_are_refused(database_uri: str, key_file: Path) -> None:
    stores = _stores(database_uri, key_file)
    trace_id = "tr-" + uuid.uuid4().hex
    try:
        experiment_id = "0"
        stores.traces.log_spans(experiment_id, [_span(trace_id)])
    finally:
        stores.close()
    keyless = _stores(database_uri, None)
    try:
        with pytest.raises(KeyUnavailable, match="no encryption key"):
            keyless.traces.get_traces([trace_id])
    finally:
        keyless.close()


def test_judges_cached_rationales_are_sealed(database_uri: str, key_file: Path) -> None:
    stores = _stores(database_uri, key_file)
    verdict = CachedVerdict(
        key="k" * 64, scorer_digest="d" * 64, model="openai:/gpt", value="yes", rationale=SECRET
    )
    try:
        stores.judge_cache.put_verdict(verdict)
        got = stores.judge_cache.get_verdict(verdict.key)
        with stores.database.read() as conn:
            stored = conn.execute(select(judge_cache.c.rationale, judge_cache.c.value)).one()
    finally:
        stores.close()
    assert got is not None
    assert (got.rationale, got.value) == (SECRET, "yes")
    assert stored[0].startswith(PREFIX)
    assert stored[1] == '"yes"'  # a verdict's value stays in clear, as feedback values do


def test_seal_without_patterns_seals_only_the_always_sealed_attributes(
    database_uri: str, key_file: Path
) -> None:
    plain = _stores(database_uri, None)
    trace_id = "tr-" + uuid.uuid4().hex
    try:
        plain.traces.log_spans("0", [_span(trace_id)])
    finally:
        plain.close()
    cipher = field_cipher(str(key_file), cache_s=0)
    assert cipher is not None
    stores = _stores(database_uri, None)
    try:
        assert clear_counts(stores.database, cipher)["spans.attributes"] == 1
        assert clear_counts(stores.database, cipher)["spans.events"] == 0  # no pattern: clear
        assert seal_clear(stores.database, cipher) >= 1
        with stores.database.read() as conn:
            (attributes,) = conn.execute(
                select(spans.c.attributes).where(spans.c.trace_id == trace_id)
            ).one()
    finally:
        stores.close()
    stored = attributes if isinstance(attributes, dict) else json.loads(attributes)
    sealed = {k for k, v in stored.items() if isinstance(v, str) and v.startswith(PREFIX)}
    assert sealed == {"mlflow.spanInputs", "gen_ai.prompt.0.content"}
    assert stored["db_password"] == SECRET  # no pattern names it


def test_an_expectation_updated_or_overridden_stays_sealed(
    database_uri: str, key_file: Path
) -> None:
    stores = _stores(database_uri, key_file)
    trace_id = "tr-" + uuid.uuid4().hex
    try:
        stores.traces.log_spans("0", [_span(trace_id)])
        made = stores.assessments.create_assessment(
            Assessment(
                assessment_id="", trace_id=trace_id, name="expected", kind=EXPECTATION,
                value={"facts": [SECRET]}, rationale="first",
            )
        )  # fmt: skip
        stores.assessments.update_assessment(
            trace_id, made.assessment_id, {"value": [ODD], "rationale": ODD}
        )
        newer = stores.assessments.create_assessment(
            Assessment(
                assessment_id="", trace_id=trace_id, name="expected", kind=EXPECTATION,
                value=42, overrides=made.assessment_id,
            )
        )  # fmt: skip
        read = {
            a.assessment_id: a for a in stores.traces.get_traces([trace_id])[0].info.assessments
        }
        with stores.database.read() as conn:
            rows = conn.execute(
                select(assessments.c.value, assessments.c.value_text, assessments.c.score,
                       assessments.c.rationale)
            ).all()  # fmt: skip
    finally:
        stores.close()
    first, second = read[made.assessment_id], read[newer.assessment_id]
    assert (first.value, first.rationale, first.valid) == ([ODD], ODD, False)
    assert (second.value, second.valid) == (42, True)
    assert len(rows) == 2
    for value, value_text, score, rationale in rows:
        assert value.startswith(PREFIX)
        assert (value_text, score) == (None, None)  # no copy of 42 in clear, nor its score
        assert rationale is None or rationale.startswith(PREFIX)
