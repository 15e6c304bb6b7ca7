"""MLflow REST traces and assessments (/api/3.0/mlflow/traces/...) through the app: bad input is
a 400 that stores nothing, and never leaves the experiment's traces unreadable."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import orjson
import pytest

API = "/api/3.0/mlflow"
INT64_MAX = 2**63 - 1
UINT64_MAX = 2**64 - 1
YEAR_10000_MS = 253_402_300_800_000
TOKEN_USAGE = "mlflow.trace.tokenUsage"  # noqa: S105 (not a secret)


def _info(experiment_id: str, **fields: Any) -> dict[str, Any]:
    return {
        "trace_id": "tr-" + uuid.uuid4().hex,
        "trace_location": {
            "type": "MLFLOW_EXPERIMENT",
            "mlflow_experiment": {"experiment_id": experiment_id},
        },
        "request_time": "2025-01-01T00:00:00.000Z",
        "execution_duration": "0.5s",
        "state": "OK",
        **fields,
    }


def _start(http: httpx.Client, info: dict[str, Any]) -> httpx.Response:
    return http.post(f"{API}/traces", json={"trace": {"trace_info": info}})


def _bad(resp: httpx.Response, says: str) -> None:
    assert resp.status_code == 400, resp.text
    assert resp.json()["error_code"] == "INVALID_PARAMETER_VALUE"
    assert says in resp.json()["message"]


def _trace(http: httpx.Client, trace_id: str) -> dict[str, Any]:
    resp = http.get(f"{API}/traces/get", params={"trace_id": trace_id})
    assert resp.status_code == 200, resp.text
    trace: dict[str, Any] = resp.json()["trace"]
    return trace


def _assert_readable(http: httpx.Client, experiment_id: str, trace_ids: list[str]) -> None:
    """Every way of reading the experiment's traces answers 200 with exactly `trace_ids`."""
    for trace_id in trace_ids:
        _trace(http, trace_id)
        assert http.get(f"{API}/traces/{trace_id}").status_code == 200
    got = http.get(f"{API}/traces/batchGet", params={"trace_ids": trace_ids})
    assert got.status_code == 200, got.text
    assert [t["trace_info"]["trace_id"] for t in got.json()["traces"]] == trace_ids
    location = {"type": "MLFLOW_EXPERIMENT", "mlflow_experiment": {"experiment_id": experiment_id}}
    found = http.post(f"{API}/traces/search", json={"locations": [location]})
    assert found.status_code == 200, found.text
    assert {t["trace_id"] for t in found.json().get("traces", [])} == set(trace_ids)
    legacy = http.get("/api/2.0/mlflow/traces", params={"experiment_ids": [experiment_id]})
    assert legacy.status_code == 200, legacy.text
    heron = http.get("/api/2.0/heron/traces/search", params={"experiment_ids": [experiment_id]})
    assert heron.status_code == 200, heron.text


@pytest.fixture
def trace_id(http: httpx.Client, experiment_id: str) -> str:
    info = _info(experiment_id)
    resp = _start(http, info)
    assert resp.status_code == 200, resp.text
    return str(info["trace_id"])


@pytest.mark.parametrize(
    ("fields", "says"),
    [
        ({"execution_duration": "9" * 5000 + "s"}, "execution_duration"),
        ({"execution_duration": "99999999999999999999s"}, "execution_duration"),
        ({"execution_duration": UINT64_MAX}, "execution_duration"),
        ({"execution_duration": INT64_MAX}, "execution_duration"),
        ({"execution_duration": "-99999999999999999999s"}, "execution_duration"),
        ({"request_time": INT64_MAX}, "request_time"),
        ({"request_time": YEAR_10000_MS}, "request_time"),
        ({"request_time": "9999-12-31T23:59:59-05:00"}, "request_time"),
        ({"request_time": -1}, "request_time"),
        ({"state": ["OK"]}, "state"),
        ({"state": {"a": 1}}, "state"),
        ({"assessments": 1}, "assessments"),
    ],
    ids=[
        "duration-5000-digits", "duration-20-digits", "duration-uint64", "duration-int64-max",
        "duration-negative-20-digits", "request-time-int64-max", "request-time-year-10000",
        "request-time-past-9999-by-its-offset", "request-time-negative", "state-list",
        "state-object", "assessments-not-a-list",
    ],
)  # fmt: skip
def test_start_trace_refuses_out_of_range_or_mistyped_fields(
    http: httpx.Client, experiment_id: str, fields: dict[str, Any], says: str
) -> None:
    info = _info(experiment_id, **fields)
    _bad(_start(http, info), says)
    assert http.get(f"{API}/traces/get", params={"trace_id": info["trace_id"]}).status_code == 404


def test_refused_request_time_leaves_the_experiment_readable(
    http: httpx.Client, experiment_id: str, trace_id: str
) -> None:
    for request_time in (INT64_MAX, YEAR_10000_MS):
        _bad(_start(http, _info(experiment_id, request_time=request_time)), "request_time")
    _assert_readable(http, experiment_id, [trace_id])


def test_last_renderable_request_time_round_trips(http: httpx.Client, experiment_id: str) -> None:
    info = _info(experiment_id, request_time=YEAR_10000_MS - 1)
    assert _start(http, info).status_code == 200
    got = _trace(http, info["trace_id"])["trace_info"]
    assert got["request_time"] == "9999-12-31T23:59:59.999Z"


@pytest.mark.parametrize(
    "usage",
    [
        {"input_tokens": INT64_MAX, "output_tokens": INT64_MAX},
        {"input_tokens": UINT64_MAX},
        {"input_tokens": -5, "output_tokens": 1, "total_tokens": -4},
        {"input_tokens": True},
    ],
    ids=["sum-past-int64", "uint64", "negative", "bool"],
)
def test_unusable_token_usage_is_kept_as_sent_and_not_counted(
    http: httpx.Client, experiment_id: str, usage: dict[str, Any]
) -> None:
    # MLflow compat: tokenUsage is metadata text MLflow never checks, so the trace is kept.
    text = orjson.dumps(usage).decode()
    info = _info(experiment_id, trace_metadata={TOKEN_USAGE: text})
    resp = _start(http, info)
    assert resp.status_code == 200, resp.text
    assert _trace(http, info["trace_id"])["trace_info"]["trace_metadata"][TOKEN_USAGE] == text
    heron = http.get("/api/2.0/heron/traces/search", params={"experiment_ids": [experiment_id]})
    assert heron.status_code == 200, heron.text
    assert "token_usage" not in heron.json()["traces"][0]
    _assert_readable(http, experiment_id, [info["trace_id"]])


def test_token_usage_without_a_total_is_counted_with_their_sum(
    http: httpx.Client, experiment_id: str
) -> None:
    usage = orjson.dumps({"input_tokens": 3, "output_tokens": 4}).decode()
    assert (
        _start(http, _info(experiment_id, trace_metadata={TOKEN_USAGE: usage})).status_code == 200
    )
    heron = http.get("/api/2.0/heron/traces/search", params={"experiment_ids": [experiment_id]})
    assert heron.json()["traces"][0]["token_usage"] == [3, 4, 7]


# -- assessments -------------------------------------------------------------------------------


def _feedback(**fields: Any) -> dict[str, Any]:
    return {"assessment_name": "n", "feedback": {"value": 1}, **fields}


def _create(http: httpx.Client, trace_id: str, assessment: dict[str, Any]) -> httpx.Response:
    return http.post(f"{API}/traces/{trace_id}/assessments", json={"assessment": assessment})


@pytest.mark.parametrize(
    ("fields", "says"),
    [
        ({"create_time": UINT64_MAX}, "create_time"),
        ({"create_time": INT64_MAX}, "create_time"),
        ({"create_time": -INT64_MAX - 1}, "create_time"),
        ({"create_time": YEAR_10000_MS}, "create_time"),
        ({"create_time": -1}, "create_time"),
        ({"last_update_time": INT64_MAX}, "last_update_time"),
        ({"rationale": {"a": 1}}, "rationale"),
        ({"rationale": ["x"]}, "rationale"),
        ({"rationale": INT64_MAX + 1}, "rationale"),
        ({"rationale": 5}, "rationale"),
        ({"rationale": True}, "rationale"),
        ({"overrides": ["x"]}, "overrides"),
        ({"overrides": {"a": 1}}, "overrides"),
        ({"span_id": 1}, "span_id"),
        ({"span_id": {}}, "span_id"),
        ({"span_id": []}, "span_id"),
        ({"span_id": True}, "span_id"),
        ({"source": {"source_type": []}}, "source_type"),
        ({"source": {"source_type": {}}}, "source_type"),
        ({"source": {"source_type": ["HUMAN"]}}, "source_type"),
        ({"source": {"source_type": "HUMAN", "source_id": {"a": 1}}}, "source_id"),
        ({"valid": "no"}, "valid"),
        ({"feedback": {"value": 1, "error": {"error_code": {"a": 1}}}}, "error_code"),
    ],
    ids=[
        "create-time-uint64", "create-time-int64-max", "create-time-int64-min",
        "create-time-year-10000", "create-time-negative", "last-update-time-int64-max",
        "rationale-object", "rationale-list", "rationale-big-int", "rationale-int",
        "rationale-bool", "overrides-list", "overrides-object", "span-id-int", "span-id-object",
        "span-id-list", "span-id-bool", "source-type-list", "source-type-object",
        "source-type-list-of-name", "source-id-object", "valid-string", "error-code-object",
    ],
)  # fmt: skip
def test_create_assessment_refuses_out_of_range_or_mistyped_fields(
    http: httpx.Client, experiment_id: str, trace_id: str, fields: dict[str, Any], says: str
) -> None:
    _bad(_create(http, trace_id, _feedback(**fields)), says)
    assert "assessments" not in _trace(http, trace_id)["trace_info"]
    _assert_readable(http, experiment_id, [trace_id])


@pytest.mark.parametrize(
    ("body", "says"),
    [
        ({"assessment": {"rationale": {}}, "update_mask": {"paths": ["rationale"]}}, "rationale"),
        ({"assessment": {"rationale": []}, "update_mask": {"paths": ["rationale"]}}, "rationale"),
        ({"assessment": {"rationale": 9}, "update_mask": {"paths": ["rationale"]}}, "rationale"),
        ({"assessment": {"metadata": [1]}, "update_mask": {"paths": ["metadata"]}}, "metadata"),
        ({"assessment": {"metadata": {"a": 1}}, "update_mask": {"paths": ["metadata"]}},
         "metadata"),
        ({"assessment": {"valid": "x"}, "update_mask": {"paths": ["valid"]}}, "valid"),
        ({"assessment": {"feedback": {"value": 1, "error": {"stack_trace": []}}},
          "update_mask": {"paths": ["feedback"]}}, "stack_trace"),
    ],
    ids=["rationale-object", "rationale-list", "rationale-int", "metadata-list",
         "metadata-int-value", "valid-string", "error-stack-trace-list"],
)  # fmt: skip
def test_update_assessment_refuses_mistyped_fields(
    http: httpx.Client, experiment_id: str, trace_id: str, body: dict[str, Any], says: str
) -> None:
    created = _create(http, trace_id, _feedback(rationale="because"))
    assert created.status_code == 200, created.text
    before = created.json()["assessment"]
    url = f"{API}/traces/{trace_id}/assessments/{before['assessment_id']}"
    _bad(http.patch(url, json=body), says)
    after = http.get(url)
    assert after.status_code == 200, after.text
    assert after.json()["assessment"] == before
    _assert_readable(http, experiment_id, [trace_id])


def test_delete_missing_assessment_is_a_no_op(http: httpx.Client, trace_id: str) -> None:
    # MLflow compat: MLflow's DeleteAssessment of an id the trace does not have answers {}.
    gone = http.delete(f"{API}/traces/{trace_id}/assessments/a-{uuid.uuid4().hex}")
    assert (gone.status_code, gone.json()) == (200, {})
    no_trace = http.delete(f"{API}/traces/tr-{uuid.uuid4().hex}/assessments/a-1")
    assert (no_trace.status_code, no_trace.json()["error_code"]) == (404, "RESOURCE_DOES_NOT_EXIST")


@pytest.mark.parametrize(
    "ms",
    [-62_135_596_800_000, -1, 0, 1_735_689_600_123, 253_402_300_799_999],
    ids=["year-1", "before-epoch", "epoch", "2025", "year-9999"],
)
def test_timestamps_round_trip_across_protos_range(ms: int) -> None:
    from heron.mlflow_json.proto import parse_timestamp, timestamp

    assert parse_timestamp(timestamp(ms), "t") == ms


@pytest.mark.parametrize(
    "ms", [-315_576_000_000_999, -1500, -1, 0, 1500, 315_576_000_000_999],
    ids=["min", "minus-1.5s", "minus-1ms", "zero", "1.5s", "max"],
)  # fmt: skip
def test_durations_round_trip_across_protos_range(ms: int) -> None:
    from heron.mlflow_json.proto import duration, parse_duration

    assert parse_duration(duration(ms), "d") == ms
