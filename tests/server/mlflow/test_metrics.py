"""MLflow REST /metrics/*: history, sampled bulk history, and the UI's bulk history."""

from __future__ import annotations

import httpx
import pytest

API = "/api/2.0/mlflow"
AJAX = "/ajax-api/2.0/mlflow"


def _log_steps(http: httpx.Client, run_id: str, key: str, steps: int) -> None:
    resp = http.post(
        f"{API}/runs/log-batch",
        json={
            "run_id": run_id,
            "metrics": [
                {"key": key, "value": float(s), "timestamp": 100 + s, "step": s}
                for s in range(steps)
            ],
        },
    )
    assert resp.status_code == 200, resp.text


@pytest.mark.parametrize("prefix", [API, AJAX])
def test_get_history(http: httpx.Client, run_id: str, prefix: str) -> None:
    _log_steps(http, run_id, "loss", 3)
    resp = http.get(
        f"{prefix}/metrics/get-history",
        params={"run_id": run_id, "run_uuid": run_id, "metric_key": "loss"},
    )
    assert resp.json() == {
        "metrics": [
            {"key": "loss", "value": float(s), "timestamp": 100 + s, "step": s} for s in range(3)
        ]
    }


def test_get_history_pages(http: httpx.Client, run_id: str) -> None:
    _log_steps(http, run_id, "m", 5)
    params: dict[str, str | int] = {"run_id": run_id, "metric_key": "m", "max_results": 2}
    steps: list[int] = []
    while True:
        body = http.get(f"{API}/metrics/get-history", params=params).json()
        steps += [m["step"] for m in body["metrics"]]
        if "next_page_token" not in body:
            break
        params["page_token"] = body["next_page_token"]
    assert steps == [0, 1, 2, 3, 4]


def test_get_history_of_unknown_key_is_empty(http: httpx.Client, run_id: str) -> None:
    resp = http.get(f"{API}/metrics/get-history", params={"run_id": run_id, "metric_key": "x"})
    assert (resp.status_code, resp.json()) == (200, {})


def test_get_history_errors(http: httpx.Client, run_id: str) -> None:
    resp = http.get(f"{API}/metrics/get-history", params={"run_id": run_id})
    assert resp.json()["message"] == "Missing value for required parameter 'metric_key'"
    resp = http.get(
        f"{API}/metrics/get-history",
        params={"run_id": "0123456789abcdef0123456789abcdef", "metric_key": "m"},
    )
    assert (resp.status_code, resp.json()["error_code"]) == (404, "RESOURCE_DOES_NOT_EXIST")
    resp = http.get(
        f"{API}/metrics/get-history",
        params={"run_id": run_id, "metric_key": "m", "max_results": "1.5"},
    )
    assert resp.status_code == 400


@pytest.mark.parametrize("prefix", [API, AJAX])
def test_bulk_interval(http: httpx.Client, experiment_id: str, prefix: str) -> None:
    run_ids = []
    for _ in range(2):
        run = http.post(f"{API}/runs/create", json={"experiment_id": experiment_id}).json()
        run_ids.append(run["run"]["info"]["run_id"])
        _log_steps(http, run_ids[-1], "acc", 10)
    resp = http.get(
        f"{prefix}/metrics/get-history-bulk-interval",
        params={"run_ids": run_ids, "metric_key": "acc", "max_results": 5},
    )
    assert resp.status_code == 200, resp.text
    points = resp.json()["metrics"]
    assert {p["run_id"] for p in points} == set(run_ids)
    for run_id in run_ids:
        steps = [p["step"] for p in points if p["run_id"] == run_id]
        assert len(steps) <= 5 + 2  # first, last, min and max may be added to the sample
        assert (steps[0], steps[-1]) == (0, 9)


def test_bulk_interval_step_range(http: httpx.Client, run_id: str) -> None:
    _log_steps(http, run_id, "acc", 10)
    params = {"run_ids": [run_id], "metric_key": "acc", "start_step": 2, "end_step": 4}
    points = http.get(f"{API}/metrics/get-history-bulk-interval", params=params).json()["metrics"]
    assert [p["step"] for p in points] == [2, 3, 4]
    del params["end_step"]
    resp = http.get(f"{API}/metrics/get-history-bulk-interval", params=params)
    assert resp.json()["error_code"] == "INVALID_PARAMETER_VALUE"


def test_ajax_get_history_bulk(http: httpx.Client, run_id: str) -> None:
    _log_steps(http, run_id, "m", 3)
    resp = http.get(
        f"{AJAX}/metrics/get-history-bulk", params={"run_id": [run_id], "metric_key": "m"}
    )
    assert resp.json() == {
        "metrics": [
            {"key": "m", "value": float(s), "timestamp": 100 + s, "step": s, "run_id": run_id}
            for s in range(3)
        ]
    }


def test_get_history_bulk_is_ajax_only(http: httpx.Client, run_id: str) -> None:
    resp = http.get(f"{API}/metrics/get-history-bulk", params={"run_id": run_id, "metric_key": "m"})
    assert resp.status_code == 404


def test_search_datasets_summarises_the_inputs_of_an_experiments_runs(
    http: httpx.Client, experiment_id: str, run_id: str
) -> None:
    url = f"{AJAX}/experiments/search-datasets"
    assert http.post(url, json={"experiment_ids": [experiment_id]}).json() == {}

    def dataset(name: str, digest: str) -> dict[str, str]:
        return {"name": name, "digest": digest, "source_type": "local", "source": "/d.csv"}

    inputs = [
        {"dataset": dataset("train", "d1"),
         "tags": [{"key": "mlflow.data.context", "value": "training"}]},
        {"dataset": dataset("eval", "d2")},
    ]  # fmt: skip
    resp = http.post(f"{API}/runs/log-inputs", json={"run_id": run_id, "datasets": inputs})
    assert resp.status_code == 200, resp.text

    summaries = http.post(url, json={"experiment_ids": [experiment_id]}).json()
    assert summaries == {
        "dataset_summaries": [
            {"experiment_id": experiment_id, "name": "eval", "digest": "d2"},
            {"experiment_id": experiment_id, "name": "train", "digest": "d1",
             "context": "training"},
        ]
    }  # fmt: skip
    too_many = http.post(url, json={"experiment_ids": [str(i) for i in range(21)]})
    assert too_many.status_code == 400
