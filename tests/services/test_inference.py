"""Inference tables: captured exchanges written off the request path, on SQLite and
PostgreSQL through the real stores and a real artifact directory."""

from __future__ import annotations

import time
import uuid
from pathlib import Path
from typing import Any

import orjson
import pytest

from heron.errors import InvalidParameter
from heron.services.inference_capture import INLINE_LIMIT, Exchange
from heron.services.validation import MAX_USER_ID


@pytest.fixture
def services(services_with_endpoint: Any) -> Any:
    return services_with_endpoint


def _exchange(services: Any, **values: Any) -> Exchange:
    endpoint = services.endpoints.get_endpoint("ep").endpoint
    fields: dict[str, Any] = {
        "request_id": str(uuid.uuid4()), "endpoint_id": endpoint.endpoint_id,
        "endpoint_name": "ep", "request_time": int(time.time() * 1000), "status_code": 200,
        "execution_duration_ms": 3, "served_entity": "a", "served_version": "1",
        "requester": "alice", "request": b'{"inputs": [1]}', "response": b'{"predictions": [2]}',
    }  # fmt: skip
    fields.update(values)
    return Exchange(**fields)


def test_captured_exchanges_are_searchable_with_databricks_columns(services: Any) -> None:
    inference = services.inference
    sent = [_exchange(services, client_request_id=f"c{i}", trace_id=f"tr-{i}") for i in range(5)]
    for exchange in sent:
        assert inference.capture(exchange)
    inference.flush()
    page = inference.search_records("ep", max_results=3)
    assert len(page) == 3
    rest = inference.search_records("ep", max_results=3, page_token=page.next_page_token)
    assert {r.request_id for r in [*page, *rest]} == {x.request_id for x in sent}
    record = inference.get_record(sent[0].request_id)
    assert (record.client_request_id, record.requester, record.status_code) == ("c0", "alice", 200)
    assert (record.request, record.response) == ('{"inputs": [1]}', '{"predictions": [2]}')
    assert record.request_date == time.strftime("%Y-%m-%d", time.gmtime())
    assert [r.request_id for r in inference.records_of_trace("tr-3")] == [sent[3].request_id]
    with pytest.raises(InvalidParameter, match="page_token"):
        inference.search_records("ep", page_token="bm9wZQ==")  # noqa: S106 - not a secret


def test_a_requester_with_a_256_character_name_is_kept(services: Any) -> None:
    """The requester is the caller's name, as long as a user's may be: a batch holding one
    past 250 characters failed on PostgreSQL, again on every retry."""
    exchange = _exchange(services, requester="u" * MAX_USER_ID)
    assert services.inference.capture(exchange)
    services.inference.flush()
    assert services.inference.get_record(exchange.request_id).requester == "u" * MAX_USER_ID


def test_bodies_over_the_inline_limit_are_kept_as_artifacts(services: Any) -> None:
    big = b'{"inputs": "' + b"x" * INLINE_LIMIT + b'"}'
    binary = b"PAR1\xff\xfe"
    exchange = _exchange(services, request=big, response=binary)
    services.inference.capture(exchange)
    services.inference.flush()
    record = services.inference.get_record(exchange.request_id)
    assert (record.request, record.response) == (None, None)
    assert record.request_artifact
    assert record.response_artifact
    assert b"".join(services.inference.read_body(exchange.request_id, "request")) == big
    assert b"".join(services.inference.read_body(exchange.request_id, "response")) == binary


def test_a_streamed_answer_is_kept_as_chunks_and_merged(services: Any) -> None:
    chunks = [
        orjson.dumps({"id": "c1", "object": "chat.completion.chunk",
                      "choices": [{"index": 0, "delta": {"role": "assistant", "content": w}}]})
        for w in ("Hello", " there")
    ]  # fmt: skip
    end = {"id": "c1", "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}
    chunks.append(orjson.dumps(end))
    exchange = _exchange(services, response=b"", chunks=chunks)
    services.inference.capture(exchange)
    services.inference.flush()
    record = services.inference.get_record(exchange.request_id)
    assert len(orjson.loads(record.response_chunks)) == 3
    merged = orjson.loads(record.response)
    assert merged["object"] == "chat.completion"
    assert merged["choices"] == [
        {"index": 0, "message": {"role": "assistant", "content": "Hello there"},
         "finish_reason": "stop"}
    ]  # fmt: skip


def test_close_writes_everything_queued(services: Any, database_uri: str) -> None:
    from heron.store.sql import open_sql_stores

    sent = [_exchange(services) for _ in range(1200)]
    for exchange in sent:
        services.inference.capture(exchange)
    services.inference.close()  # a graceful stop
    stores = open_sql_stores(database_uri, default_artifact_root="mlflow-artifacts:")
    try:
        endpoint_id = sent[0].endpoint_id
        from heron.store.serving import InferenceQuery

        page = stores.inference.search_records(
            InferenceQuery(endpoint_id=endpoint_id, max_results=5000)
        )
        assert {r.request_id for r in page} == {x.request_id for x in sent}
    finally:
        stores.close()


def test_a_full_queue_drops_and_counts(services: Any, database_uri: str, tmp_path: Path) -> None:
    from heron.services import AllowAll
    from heron.services.inference import InferenceService
    from heron.store.sql import open_sql_stores

    stores = open_sql_stores(database_uri, default_artifact_root="mlflow-artifacts:")
    small = InferenceService(stores.inference, stores.endpoints, None, AllowAll(), queue_limit=3)
    try:  # never started: nothing drains the queue
        accepted = [small.capture(_exchange(services)) for _ in range(5)]
        assert accepted == [True, True, True, False, False]
        assert small.dropped == 2
        small.close()
        minutes = services.inference.minutes("ep", since=0)
        assert sum(m.capture_dropped for m in minutes) == 2
        assert len(services.inference.search_records("ep")) == 3
    finally:
        stores.close()


def test_minutes_add_up_every_writer(services: Any, database_uri: str) -> None:
    from heron.services import AllowAll
    from heron.services.inference import InferenceService
    from heron.store.sql import open_sql_stores

    endpoint_id = services.endpoints.get_endpoint("ep").endpoint.endpoint_id
    stores = open_sql_stores(database_uri, default_artifact_root="mlflow-artifacts:")
    other = InferenceService(stores.inference, stores.endpoints, None, AllowAll())
    try:
        for service, status, ms in ((services.inference, 200, 3.0), (other, 500, 700.0)):
            service.observe(endpoint_id, "a", "1", status, ms)
            service.observe(endpoint_id, "a", "1", 200, 3.0)
            service.observe_shadow(endpoint_id, "b", "2", ok=True, agreed=True, latency_diff_ms=1)
            service.flush()
        minutes = services.inference.minutes("ep", since=0)
        served = [m for m in minutes if m.served_entity == "a"]
        assert sum(m.requests for m in served) == 4
        assert sum(m.errors_5xx for m in served) == 1
        assert sum(sum(m.latency_buckets) for m in served) == 4
        shadow = [m for m in minutes if m.served_entity == "b"]
        assert sum(m.shadow_agreed for m in shadow) == 2
    finally:
        other.close()
        stores.close()
