"""MLflow REST /experiments/* through the app."""

from __future__ import annotations

import uuid

import httpx
import pytest

API = "/api/2.0/mlflow"


def _name() -> str:
    return f"exp-{uuid.uuid4()}"


def _error(resp: httpx.Response) -> tuple[int, str]:
    return resp.status_code, resp.json()["error_code"]


@pytest.mark.parametrize("prefix", ["/api", "/ajax-api"])
def test_create_get_and_get_by_name(http: httpx.Client, prefix: str) -> None:
    name = _name()
    resp = http.post(
        f"{prefix}/2.0/mlflow/experiments/create",
        json={"name": name, "tags": [{"key": "team", "value": "a"}]},
    )
    assert resp.status_code == 200, resp.text
    experiment_id = resp.json()["experiment_id"]
    assert isinstance(experiment_id, str)
    got = http.get(f"{prefix}/2.0/mlflow/experiments/get", params={"experiment_id": experiment_id})
    experiment = got.json()["experiment"]
    assert experiment["name"] == name
    assert experiment["lifecycle_stage"] == "active"
    assert experiment["tags"] == [{"key": "team", "value": "a"}]
    assert isinstance(experiment["creation_time"], int)
    assert isinstance(experiment["last_update_time"], int)
    assert experiment["artifact_location"].endswith(experiment_id)
    by_name = http.get(
        f"{prefix}/2.0/mlflow/experiments/get-by-name", params={"experiment_name": name}
    )
    assert by_name.json()["experiment"] == experiment


def test_duplicate_name_is_already_exists_400(http: httpx.Client) -> None:
    name = _name()
    http.post(f"{API}/experiments/create", json={"name": name})
    resp = http.post(f"{API}/experiments/create", json={"name": name})
    assert _error(resp) == (400, "RESOURCE_ALREADY_EXISTS")


def test_missing_experiment_is_404(http: httpx.Client) -> None:
    resp = http.get(f"{API}/experiments/get", params={"experiment_id": "987654321"})
    assert _error(resp) == (404, "RESOURCE_DOES_NOT_EXIST")
    resp = http.get(f"{API}/experiments/get-by-name", params={"experiment_name": _name()})
    assert _error(resp) == (404, "RESOURCE_DOES_NOT_EXIST")


def test_get_without_id_is_400(http: httpx.Client) -> None:
    assert _error(http.get(f"{API}/experiments/get")) == (400, "INVALID_PARAMETER_VALUE")


def test_rename_delete_restore(http: httpx.Client, experiment_id: str) -> None:
    new_name = _name()
    ok = http.post(
        f"{API}/experiments/update", json={"experiment_id": experiment_id, "new_name": new_name}
    )
    assert (ok.status_code, ok.json()) == (200, {})
    get = {"experiment_id": experiment_id}
    assert http.get(f"{API}/experiments/get", params=get).json()["experiment"]["name"] == new_name
    assert http.post(f"{API}/experiments/delete", json=get).json() == {}
    got = http.get(f"{API}/experiments/get", params=get).json()["experiment"]
    assert got["lifecycle_stage"] == "deleted"
    assert http.post(f"{API}/experiments/restore", json=get).json() == {}
    got = http.get(f"{API}/experiments/get", params=get).json()["experiment"]
    assert got["lifecycle_stage"] == "active"


def test_delete_missing_experiment_is_404(http: httpx.Client) -> None:
    resp = http.post(f"{API}/experiments/delete", json={"experiment_id": "987654321"})
    assert _error(resp) == (404, "RESOURCE_DOES_NOT_EXIST")


def test_set_and_delete_tag(http: httpx.Client, experiment_id: str) -> None:
    body = {"experiment_id": experiment_id, "key": "k", "value": "v"}
    assert http.post(f"{API}/experiments/set-experiment-tag", json=body).json() == {}
    get = {"experiment_id": experiment_id}
    tags = http.get(f"{API}/experiments/get", params=get).json()["experiment"]["tags"]
    assert {"key": "k", "value": "v"} in tags
    resp = http.post(
        f"{API}/experiments/delete-experiment-tag",
        json={"experiment_id": experiment_id, "key": "k"},
    )
    assert resp.json() == {}
    experiment = http.get(f"{API}/experiments/get", params=get).json()["experiment"]
    assert "k" not in {t["key"] for t in experiment.get("tags", [])}


def test_set_tag_needs_value(http: httpx.Client, experiment_id: str) -> None:
    resp = http.post(
        f"{API}/experiments/set-experiment-tag", json={"experiment_id": experiment_id, "key": "k"}
    )
    assert resp.json()["message"] == "Missing value for required parameter 'value'"


@pytest.mark.parametrize("method", ["POST", "GET"])
def test_search_by_filter_with_paging(http: httpx.Client, method: str) -> None:
    prefix = _name()
    for i in range(3):
        http.post(f"{API}/experiments/create", json={"name": f"{prefix}-{i}"})
    query = {"filter": f"name LIKE '{prefix}-%'", "max_results": 2, "order_by": ["name ASC"]}
    url = f"{API}/experiments/search"
    first = (http.post(url, json=query) if method == "POST" else http.get(url, params=query)).json()
    assert [e["name"] for e in first["experiments"]] == [f"{prefix}-0", f"{prefix}-1"]
    query["page_token"] = first["next_page_token"]
    second = (
        http.post(url, json=query) if method == "POST" else http.get(url, params=query)
    ).json()
    assert [e["name"] for e in second["experiments"]] == [f"{prefix}-2"]
    assert "next_page_token" not in second


@pytest.mark.parametrize("view_type", ["DELETED_ONLY", 2, "2"], ids=["name", "number", "string"])
def test_search_view_type_by_name_or_number(
    http: httpx.Client, experiment_id: str, view_type: object
) -> None:
    http.post(f"{API}/experiments/delete", json={"experiment_id": experiment_id})
    resp = http.post(
        f"{API}/experiments/search", json={"view_type": view_type, "max_results": 50000}
    )
    assert resp.status_code == 200, resp.text
    ids = {e["experiment_id"] for e in resp.json()["experiments"]}
    assert experiment_id in ids


def test_search_rejects_unknown_view_type(http: httpx.Client) -> None:
    resp = http.post(f"{API}/experiments/search", json={"view_type": "SOME"})
    assert _error(resp) == (400, "INVALID_PARAMETER_VALUE")


def test_search_with_no_match_is_empty_object(http: httpx.Client) -> None:
    resp = http.post(f"{API}/experiments/search", json={"filter": f"name = '{_name()}'"})
    assert resp.json() == {}


def test_malformed_filter_is_400(http: httpx.Client) -> None:
    resp = http.post(f"{API}/experiments/search", json={"filter": "name >>> 'x'"})
    assert _error(resp) == (400, "INVALID_PARAMETER_VALUE")
