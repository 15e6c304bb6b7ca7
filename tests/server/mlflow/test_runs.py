"""MLflow REST /runs/* through the app: lifecycle, logging, limits and search."""

from __future__ import annotations

import time
from typing import Any

import httpx
import pytest

API = "/api/2.0/mlflow"


def _error(resp: httpx.Response) -> tuple[int, str]:
    return resp.status_code, resp.json()["error_code"]


def _get_run(http: httpx.Client, run_id: str) -> dict[str, Any]:
    resp = http.get(f"{API}/runs/get", params={"run_id": run_id})
    assert resp.status_code == 200, resp.text
    run: dict[str, Any] = resp.json()["run"]
    return run


def test_create_run_shape(http: httpx.Client, experiment_id: str) -> None:
    resp = http.post(
        f"{API}/runs/create",
        json={
            "experiment_id": experiment_id,
            "user_id": "bob",
            "run_name": "r1",
            "start_time": 1_700_000_000_000,
            "tags": [{"key": "t", "value": "1"}],
        },
    )
    assert resp.status_code == 200, resp.text
    run = resp.json()["run"]
    info = run["info"]
    assert info["run_id"] == info["run_uuid"]
    assert info | {"run_id": "", "run_uuid": "", "artifact_uri": ""} == {
        "run_id": "",
        "run_uuid": "",
        "run_name": "r1",
        "experiment_id": experiment_id,
        "user_id": "bob",
        "status": "RUNNING",
        "start_time": 1_700_000_000_000,
        "artifact_uri": "",
        "lifecycle_stage": "active",
    }
    assert "end_time" not in info
    assert {"key": "t", "value": "1"} in run["data"]["tags"]
    assert set(run["data"]) == {"tags"}


def test_create_run_in_missing_experiment_is_404(http: httpx.Client) -> None:
    resp = http.post(f"{API}/runs/create", json={"experiment_id": "987654321"})
    assert _error(resp) == (404, "RESOURCE_DOES_NOT_EXIST")


def test_get_run_by_run_uuid_and_ajax(http: httpx.Client, run_id: str) -> None:
    # MLflow compat: the client sends run_uuid as well as run_id.
    for url in (f"{API}/runs/get", "/ajax-api/2.0/mlflow/runs/get"):
        resp = http.get(url, params={"run_uuid": run_id})
        assert resp.json()["run"]["info"]["run_id"] == run_id


def test_get_missing_run_is_404(http: httpx.Client) -> None:
    resp = http.get(f"{API}/runs/get", params={"run_id": "0123456789abcdef0123456789abcdef"})
    assert _error(resp) == (404, "RESOURCE_DOES_NOT_EXIST")


def test_get_run_without_id_is_400(http: httpx.Client) -> None:
    resp = http.get(f"{API}/runs/get")
    assert resp.json()["message"] == "Missing value for required parameter 'run_id'"


def test_update_run_answers_run_info(http: httpx.Client, run_id: str) -> None:
    resp = http.post(
        f"{API}/runs/update",
        json={
            "run_id": run_id,
            "run_uuid": run_id,
            "status": "FINISHED",
            "end_time": 5_000,
            "run_name": "renamed",
        },
    )
    assert resp.status_code == 200, resp.text
    info = resp.json()["run_info"]  # MLflow compat: not "run"
    assert (info["status"], info["end_time"], info["run_name"]) == ("FINISHED", 5_000, "renamed")


def test_update_run_status_by_number(http: httpx.Client, run_id: str) -> None:
    resp = http.post(f"{API}/runs/update", json={"run_id": run_id, "status": 5})
    assert resp.json()["run_info"]["status"] == "KILLED"


def test_delete_and_restore_run(http: httpx.Client, run_id: str) -> None:
    assert http.post(f"{API}/runs/delete", json={"run_id": run_id}).json() == {}
    assert _get_run(http, run_id)["info"]["lifecycle_stage"] == "deleted"
    assert http.post(f"{API}/runs/restore", json={"run_id": run_id}).json() == {}
    assert _get_run(http, run_id)["info"]["lifecycle_stage"] == "active"


def test_log_metric_param_tag(http: httpx.Client, run_id: str) -> None:
    ok = http.post(
        f"{API}/runs/log-metric",
        json={
            "run_id": run_id,
            "run_uuid": run_id,
            "key": "loss",
            "value": 0.5,
            "timestamp": 1_000,
            "step": 3,
        },
    )
    assert (ok.status_code, ok.json()) == (200, {})
    http.post(f"{API}/runs/log-parameter", json={"run_id": run_id, "key": "lr", "value": "0.1"})
    http.post(f"{API}/runs/set-tag", json={"run_uuid": run_id, "key": "note", "value": "hi"})
    data = _get_run(http, run_id)["data"]
    assert data["metrics"] == [{"key": "loss", "value": 0.5, "timestamp": 1_000, "step": 3}]
    assert data["params"] == [{"key": "lr", "value": "0.1"}]
    assert {"key": "note", "value": "hi"} in data["tags"]


def test_camel_case_run_id(http: httpx.Client, run_id: str) -> None:
    resp = http.post(f"{API}/runs/set-tag", json={"runId": run_id, "key": "k", "value": "v"})
    assert resp.status_code == 200, resp.text


def test_delete_tag(http: httpx.Client, run_id: str) -> None:
    http.post(f"{API}/runs/set-tag", json={"run_id": run_id, "key": "gone", "value": "v"})
    assert http.post(f"{API}/runs/delete-tag", json={"run_id": run_id, "key": "gone"}).json() == {}
    tags = {t["key"] for t in _get_run(http, run_id)["data"].get("tags", [])}
    assert "gone" not in tags
    resp = http.post(f"{API}/runs/delete-tag", json={"run_id": run_id, "key": "never"})
    assert _error(resp) == (404, "RESOURCE_DOES_NOT_EXIST")


def test_param_overwrite_is_400(http: httpx.Client, run_id: str) -> None:
    url = f"{API}/runs/log-parameter"
    assert http.post(url, json={"run_id": run_id, "key": "a", "value": "1"}).status_code == 200
    assert http.post(url, json={"run_id": run_id, "key": "a", "value": "1"}).status_code == 200
    resp = http.post(url, json={"run_id": run_id, "key": "a", "value": "2"})
    assert _error(resp) == (400, "INVALID_PARAMETER_VALUE")


def test_logging_to_missing_run_is_404(http: httpx.Client) -> None:
    resp = http.post(
        f"{API}/runs/log-metric",
        json={"run_id": "0123456789abcdef0123456789abcdef", "key": "m", "value": 1, "timestamp": 1},
    )
    assert _error(resp) == (404, "RESOURCE_DOES_NOT_EXIST")


@pytest.mark.parametrize(
    "change",
    [
        {"step": 1.5},
        {"step": 2**63},
        {"step": "1.5"},
        {"timestamp": -1},
        {"timestamp": 2**64},
        {"value": "abc"},
        {"value": True},
        {"key": 5},
    ],
    ids=[
        "float-step",
        "step-over-int64",
        "float-string-step",
        "negative-timestamp",
        "timestamp-over-int64",
        "word-value",
        "bool-value",
        "number-key",
    ],
)
def test_bad_metric_is_400(http: httpx.Client, run_id: str, change: dict[str, object]) -> None:
    body = {"run_id": run_id, "key": "m", "value": 1.0, "timestamp": 1, "step": 0} | change
    resp = http.post(f"{API}/runs/log-metric", json=body)
    assert _error(resp) == (400, "INVALID_PARAMETER_VALUE")


@pytest.mark.parametrize("missing", ["key", "value", "timestamp"])
def test_metric_required_fields(http: httpx.Client, run_id: str, missing: str) -> None:
    body = {"run_id": run_id, "key": "m", "value": 1.0, "timestamp": 1}
    del body[missing]
    resp = http.post(f"{API}/runs/log-metric", json=body)
    assert resp.json()["message"] == f"Missing value for required parameter '{missing}'"


def test_int64_as_decimal_string(http: httpx.Client, run_id: str) -> None:
    body = {"run_id": run_id, "key": "s", "value": "2.5", "timestamp": "7", "step": "9"}
    assert http.post(f"{API}/runs/log-metric", json=body).status_code == 200
    (point,) = [m for m in _get_run(http, run_id)["data"]["metrics"] if m["key"] == "s"]
    assert point == {"key": "s", "value": 2.5, "timestamp": 7, "step": 9}


def test_nan_and_infinity_round_trip(http: httpx.Client, run_id: str) -> None:
    for key, value in (("nan", "NaN"), ("inf", "Infinity"), ("ninf", "-Infinity")):
        body = {"run_id": run_id, "key": key, "value": value, "timestamp": 1}
        assert http.post(f"{API}/runs/log-metric", json=body).status_code == 200
    metrics = {m["key"]: m["value"] for m in _get_run(http, run_id)["data"]["metrics"]}
    assert metrics == {"nan": "NaN", "inf": "Infinity", "ninf": "-Infinity"}


def test_log_batch(http: httpx.Client, run_id: str) -> None:
    now = int(time.time() * 1000)
    resp = http.post(
        f"{API}/runs/log-batch",
        json={
            "run_id": run_id,
            "metrics": [
                {"key": "m", "value": float(i), "timestamp": now, "step": i} for i in range(5)
            ],
            "params": [{"key": "p", "value": "x"}],
            "tags": [{"key": "t", "value": "y"}],
        },
    )
    assert (resp.status_code, resp.json()) == (200, {})
    data = _get_run(http, run_id)["data"]
    assert data["metrics"] == [{"key": "m", "value": 4.0, "timestamp": now, "step": 4}]
    assert data["params"] == [{"key": "p", "value": "x"}]


@pytest.mark.parametrize(("field", "count"), [("metrics", 1001), ("params", 101), ("tags", 101)])
def test_log_batch_limits(http: httpx.Client, run_id: str, field: str, count: int) -> None:
    item: dict[str, object] = {"value": "v"}
    if field == "metrics":
        item = {"value": 1.0, "timestamp": 1}
    items = [{"key": f"k{i}", **item} for i in range(count)]
    resp = http.post(f"{API}/runs/log-batch", json={"run_id": run_id, field: items})
    assert _error(resp) == (400, "INVALID_PARAMETER_VALUE")
    assert f"at most {count - 1} {field}" in resp.json()["message"]


def test_log_batch_needs_run_id(http: httpx.Client) -> None:
    resp = http.post(f"{API}/runs/log-batch", json={"metrics": []})
    assert resp.json()["message"] == "Missing value for required parameter 'run_id'"


def test_log_inputs_round_trip(http: httpx.Client, run_id: str) -> None:
    dataset = {
        "name": "train",
        "digest": "abc123",
        "source_type": "local",
        "source": '{"uri": "/tmp/x.csv"}',
        "schema": "{}",
    }
    resp = http.post(
        f"{API}/runs/log-inputs",
        json={
            "run_id": run_id,
            "datasets": [
                {"dataset": dataset, "tags": [{"key": "mlflow.data.context", "value": "training"}]}
            ],
        },
    )
    assert (resp.status_code, resp.json()) == (200, {})
    inputs = _get_run(http, run_id)["inputs"]["dataset_inputs"]
    assert inputs == [
        {"dataset": dataset, "tags": [{"key": "mlflow.data.context", "value": "training"}]}
    ]


def test_log_inputs_needs_dataset_fields(http: httpx.Client, run_id: str) -> None:
    resp = http.post(
        f"{API}/runs/log-inputs", json={"run_id": run_id, "datasets": [{"dataset": {"name": "x"}}]}
    )
    assert resp.json()["message"] == "Missing value for required parameter 'digest'"


def test_search_runs_with_filter_order_and_paging(http: httpx.Client, experiment_id: str) -> None:
    ids = []
    for i in range(3):
        run = http.post(
            f"{API}/runs/create", json={"experiment_id": experiment_id, "run_name": f"r{i}"}
        ).json()["run"]
        ids.append(run["info"]["run_id"])
        http.post(
            f"{API}/runs/log-metric",
            json={"run_id": ids[-1], "key": "acc", "value": i / 10, "timestamp": 1},
        )
    query: dict[str, Any] = {
        "experiment_ids": [experiment_id],
        "filter": "metrics.acc >= 0.1",
        "order_by": ["metrics.acc DESC"],
        "max_results": 1,
    }
    first = http.post(f"{API}/runs/search", json=query).json()
    assert [r["info"]["run_id"] for r in first["runs"]] == [ids[2]]
    query["page_token"] = first["next_page_token"]
    second = http.post(f"{API}/runs/search", json=query).json()
    assert [r["info"]["run_id"] for r in second["runs"]] == [ids[1]]


def test_search_runs_view_type_and_bad_filter(
    http: httpx.Client, run_id: str, experiment_id: str
) -> None:
    http.post(f"{API}/runs/delete", json={"run_id": run_id})
    url = f"{API}/runs/search"
    active = http.post(url, json={"experiment_ids": [experiment_id]}).json()
    assert active == {}
    deleted = http.post(
        url, json={"experiment_ids": [experiment_id], "run_view_type": "DELETED_ONLY"}
    ).json()
    assert [r["info"]["run_id"] for r in deleted["runs"]] == [run_id]
    bad = http.post(url, json={"experiment_ids": [experiment_id], "filter": "metrics.acc >>> 1"})
    assert _error(bad) == (400, "INVALID_PARAMETER_VALUE")


def test_unknown_fields_are_ignored(http: httpx.Client, run_id: str) -> None:
    body = {"run_id": run_id, "key": "k", "value": "v", "model_id": "m-1", "whatever": [1, {}]}
    assert http.post(f"{API}/runs/set-tag", json=body).status_code == 200


def test_null_fields_are_unset(http: httpx.Client, experiment_id: str) -> None:
    body = {"experiment_id": experiment_id, "run_name": None, "start_time": None, "tags": None}
    assert http.post(f"{API}/runs/create", json=body).status_code == 200


@pytest.mark.parametrize(
    ("bad", "why"),
    [
        ({"step": 1.5}, "float step"),
        ({"step": 2**63}, "step over int64"),
        ({"timestamp": -1}, "negative timestamp"),
        ({"value": "fast"}, "a word for a value"),
        ({"key": "../m"}, "dotdot key"),
    ],
    ids=["float-step", "step-over-int64", "negative-timestamp", "word-value", "dotdot-key"],
)
def test_log_batch_with_one_bad_metric_among_many_stores_nothing(
    http: httpx.Client, run_id: str, bad: dict[str, Any], why: str
) -> None:
    points = [{"key": f"k{i % 3}", "value": i / 3, "timestamp": 1_700_000_000_000, "step": i}
              for i in range(500)]  # fmt: skip
    points[250] = points[250] | bad
    resp = http.post(f"{API}/runs/log-batch", json={"run_id": run_id, "metrics": points})
    assert _error(resp) == (400, "INVALID_PARAMETER_VALUE"), why
    assert "metrics" not in _get_run(http, run_id)["data"]


def test_log_batch_mixing_nan_strings_and_numbers_round_trips(
    http: httpx.Client, run_id: str
) -> None:
    values: list[Any] = [0.5, "NaN", "Infinity", 2, -1.25]
    points = [{"key": "m", "value": v, "timestamp": 1_700_000_000_000, "step": i}
              for i, v in enumerate(values)]  # fmt: skip
    resp = http.post(f"{API}/runs/log-batch", json={"run_id": run_id, "metrics": points})
    assert resp.status_code == 200, resp.text
    history = http.get(f"{API}/metrics/get-history", params={"run_id": run_id, "metric_key": "m"})
    assert [p["value"] for p in history.json()["metrics"]] == [0.5, "NaN", "Infinity", 2.0, -1.25]
