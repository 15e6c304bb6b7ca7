"""MLflow REST /logged-models/search: Heron holds no LoggedModels yet, so a search finds none."""

from __future__ import annotations

import httpx

API = "/api/2.0/mlflow"


def test_search_in_an_existing_experiment_finds_no_models(
    http: httpx.Client, experiment_id: str
) -> None:
    resp = http.post(
        f"{API}/logged-models/search",
        json={"experiment_ids": [experiment_id], "filter": "name = 'model'", "max_results": 10},
    )
    assert (resp.status_code, resp.json()) == (200, {})


def test_search_in_a_missing_experiment_is_not_found(http: httpx.Client) -> None:
    resp = http.post(f"{API}/logged-models/search", json={"experiment_ids": ["987654321"]})
    assert resp.status_code == 404
    assert resp.json()["error_code"] == "RESOURCE_DOES_NOT_EXIST"
