"""Ids no row can have get the answer of ids that do not exist, on SQLite and PostgreSQL alike.

MLflow's wire carries experiment ids as int64 strings and model versions as decimal strings;
the tables key both by 32-bit integers, which PostgreSQL refused to compare with a wider number
(a 500 there, found by the conformance suite on PostgreSQL)."""

from __future__ import annotations

import base64
import json
import uuid
from typing import Any

import httpx
import pytest

API = "/api/2.0/mlflow"
PAST_INT32 = "987654321012"
TRACE_LOCATION = {"type": "MLFLOW_EXPERIMENT", "mlflow_experiment": {"experiment_id": PAST_INT32}}

# (method, path, body or query) naming the experiment PAST_INT32: each answers as for a
# missing experiment
NAMING_ONE = [
    ("GET", f"{API}/experiments/get", {"experiment_id": PAST_INT32}),
    ("POST", f"{API}/experiments/delete", {"experiment_id": PAST_INT32}),
    ("POST", f"{API}/experiments/restore", {"experiment_id": PAST_INT32}),
    ("POST", f"{API}/experiments/update", {"experiment_id": PAST_INT32, "new_name": "x"}),
    (
        "POST",
        f"{API}/experiments/set-experiment-tag",
        {"experiment_id": PAST_INT32, "key": "k", "value": "v"},
    ),
    ("POST", f"{API}/experiments/delete-experiment-tag", {"experiment_id": PAST_INT32, "key": "k"}),
    ("POST", f"{API}/runs/create", {"experiment_id": PAST_INT32}),
    ("POST", f"{API}/logged-models", {"experiment_id": PAST_INT32}),
    ("POST", f"{API}/logged-models/search", {"experiment_ids": [PAST_INT32]}),
    (
        "POST",
        "/api/3.0/mlflow/traces",
        {
            "trace": {
                "trace_info": {
                    "trace_id": "tr-" + "0" * 32,
                    "trace_location": TRACE_LOCATION,
                    "request_time": "2024-01-01T00:00:00Z",
                    "state": "OK",
                }
            }
        },
    ),
    ("GET", "/ajax-api/2.0/mlflow/experiments/get", {"experiment_id": PAST_INT32}),
]
# searches over it: they find nothing, as over an experiment that does not exist
SEARCHING = [
    ("POST", f"{API}/runs/search", {"experiment_ids": [PAST_INT32]}),
    ("POST", "/api/3.0/mlflow/traces/search", {"locations": [TRACE_LOCATION]}),
    ("GET", f"{API}/traces", {"experiment_ids": PAST_INT32}),
]


def _send(http: httpx.Client, method: str, path: str, data: dict[str, Any]) -> httpx.Response:
    if method == "GET":
        return http.get(path, params=data)
    return http.request(method, path, json=data)


BOTH = pytest.mark.parametrize(
    "live_server", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)], indirect=True
)


@BOTH
def test_an_experiment_id_past_the_column_is_one_that_does_not_exist(live_server: str) -> None:
    with httpx.Client(base_url=live_server) as http:
        for method, path, data in NAMING_ONE:
            answer = _send(http, method, path, data)
            assert (answer.status_code, answer.json()["error_code"]) == (
                404,
                "RESOURCE_DOES_NOT_EXIST",
            ), (path, answer.text)
            assert PAST_INT32 in answer.json()["message"]
        for method, path, data in SEARCHING:
            answer = _send(http, method, path, data)
            assert (answer.status_code, answer.json()) == (200, {}), (path, answer.text)
        page = http.get(f"/experiments/{PAST_INT32}")
        assert page.status_code == 404
        assert "RESOURCE_DOES_NOT_EXIST" in page.text


@BOTH
def test_a_model_version_past_the_column_is_one_that_does_not_exist(live_server: str) -> None:
    with httpx.Client(base_url=live_server) as http:
        name = f"m-{uuid.uuid4().hex[:8]}"
        http.post(f"{API}/registered-models/create", json={"name": name}).raise_for_status()
        for version in ("2147483648", "99999999999", "9" * 5000):
            answer = http.get(
                f"{API}/model-versions/get", params={"name": name, "version": version}
            )
            assert (answer.status_code, answer.json()["error_code"]) == (
                404,
                "RESOURCE_DOES_NOT_EXIST",
            ), version
        # MLflow's answer for what is no integer at all
        answer = http.get(f"{API}/model-versions/get", params={"name": name, "version": "x"})
        assert (answer.status_code, answer.json()["error_code"]) == (400, "INVALID_PARAMETER_VALUE")


def _token(data: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")


def _untoken(token: str) -> Any:
    return json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))


@BOTH
def test_a_page_token_holding_an_id_past_its_column_is_invalid(live_server: str) -> None:
    """Tokens are opaque but not signed: one edited to carry an experiment id no 32-bit column
    holds was a 500 on PostgreSQL."""
    with httpx.Client(base_url=live_server) as http:
        for _ in range(2):
            name = f"e-{uuid.uuid4()}"
            http.post(f"{API}/experiments/create", json={"name": name}).raise_for_status()
        first = http.post(f"{API}/experiments/search", json={"max_results": 1}).json()
        payload = _untoken(first["next_page_token"])
        payload["id"] = 2**40
        answer = http.post(
            f"{API}/experiments/search", json={"max_results": 1, "page_token": _token(payload)}
        )
        assert (answer.status_code, answer.json()["error_code"]) == (400, "INVALID_PARAMETER_VALUE")
        payload["id"] = 2**31 - 1  # fits: an ordinary page
        answer = http.post(
            f"{API}/experiments/search", json={"max_results": 1, "page_token": _token(payload)}
        )
        assert answer.status_code == 200, answer.text


@BOTH
def test_a_version_filter_past_the_column_finds_what_it_says(live_server: str) -> None:
    """`version_number > 99999999999` was a 500 on PostgreSQL (the number cast to the column's
    32-bit type); it finds nothing, and `<` finds every version, as on SQLite."""
    with httpx.Client(base_url=live_server) as http:
        name = f"m-{uuid.uuid4().hex[:8]}"
        http.post(f"{API}/registered-models/create", json={"name": name}).raise_for_status()
        version = {"name": name, "source": "mlflow-artifacts:/0/files/model"}
        http.post(f"{API}/model-versions/create", json=version).raise_for_status()
        for condition, found in [("= 99999999999", 0), ("> 2147483648", 0), ("< 99999999999", 1)]:
            answer = http.get(
                f"{API}/model-versions/search",
                params={"filter": f"name = '{name}' AND version_number {condition}"},
            )
            assert answer.status_code == 200, (condition, answer.text)
            assert len(answer.json().get("model_versions", [])) == found, condition


@pytest.mark.parametrize("role_id", [2**31, 2**40, str(2**40)], ids=["int32+1", "int", "text"])
def test_a_role_id_past_its_column_is_one_that_does_not_exist(role_id: object) -> None:
    """MLflow's role routes (with --auth) read role ids as int64: one past the 32-bit column
    would have reached PostgreSQL."""
    from heron.errors import NotFound
    from heron.server.api.auth_roles import int_field
    from heron.server.wire import Fields

    with pytest.raises(NotFound):
        int_field(Fields({"role_id": role_id}), "role_id")
    assert int_field(Fields({"role_id": "7"}), "role_id") == 7
