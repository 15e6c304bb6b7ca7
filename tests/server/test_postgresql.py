"""The same wire behaviour with the server on PostgreSQL (one end-to-end pass)."""

from __future__ import annotations

import uuid

import httpx
import pytest

API = "/api/2.0/mlflow"


@pytest.mark.postgres
@pytest.mark.parametrize("live_server", ["postgresql"], indirect=True)
def test_tracking_round_trip_on_postgresql(live_server: str) -> None:
    with httpx.Client(base_url=live_server) as http:
        name = f"pg-{uuid.uuid4()}"
        experiment_id = http.post(f"{API}/experiments/create", json={"name": name}).json()[
            "experiment_id"
        ]
        dup = http.post(f"{API}/experiments/create", json={"name": name})
        assert (dup.status_code, dup.json()["error_code"]) == (400, "RESOURCE_ALREADY_EXISTS")
        run = http.post(f"{API}/runs/create", json={"experiment_id": experiment_id}).json()["run"]
        run_id = run["info"]["run_id"]
        batch = {
            "run_id": run_id,
            "metrics": [{"key": "m", "value": "NaN", "timestamp": 1, "step": 2**62}],
            "params": [{"key": "p", "value": "1"}],
        }
        assert http.post(f"{API}/runs/log-batch", json=batch).json() == {}
        again = http.post(
            f"{API}/runs/log-parameter", json={"run_id": run_id, "key": "p", "value": "2"}
        )
        assert again.json()["error_code"] == "INVALID_PARAMETER_VALUE"
        found = http.post(
            f"{API}/runs/search",
            json={"experiment_ids": [experiment_id], "filter": "params.p = '1'"},
        ).json()["runs"]
        assert found[0]["data"]["metrics"] == [
            {"key": "m", "value": "NaN", "timestamp": 1, "step": 2**62}
        ]
        missing = http.get(f"{API}/runs/get", params={"run_id": uuid.uuid4().hex})
        assert missing.status_code == 404


@pytest.mark.postgres
@pytest.mark.parametrize("live_server", ["postgresql"], indirect=True)
def test_a_nul_character_is_refused_in_a_body_a_query_or_a_path(live_server: str) -> None:
    """PostgreSQL stores no NUL in text: each of these was a 500 (found by fuzzing)."""
    with httpx.Client(base_url=live_server) as http:
        answers = [
            http.post(f"{API}/experiments/create", json={"name": "a\x00b"}),
            http.post(f"{API}/experiments/search", json={"filter": "name = 'x'", "x\x00": 1}),
            http.get(f"{API}/experiments/get-by-name", params={"experiment_name": "a\x00b"}),
            http.get(f"{API}/logged-models/%00"),
        ]
        for answer in answers:
            assert answer.status_code == 400, answer.text
            assert answer.json()["error_code"] == "INVALID_PARAMETER_VALUE"
            assert "NUL" in answer.json()["message"]
        # A backslash before u0000 is text, not a NUL.
        text = http.post(f"{API}/experiments/create", json={"name": f"a\\u0000-{uuid.uuid4()}"})
        assert text.status_code == 200, text.text


@pytest.mark.postgres
@pytest.mark.parametrize("live_server", ["postgresql"], indirect=True)
def test_values_wider_than_their_columns_are_refused(live_server: str) -> None:
    """SQLite stores a string of any length in a varchar column; PostgreSQL refuses it. Each of
    these was a 500 there (found by fuzzing); they are 400s on both."""
    with httpx.Client(base_url=live_server) as http:
        name = f"pg-wide-{uuid.uuid4()}"
        experiment_id = http.post(f"{API}/experiments/create", json={"name": name}).json()[
            "experiment_id"
        ]
        http.post(f"{API}/registered-models/create", json={"name": name})
        trace_id = "tr-" + uuid.uuid4().hex
        location = {
            "type": "MLFLOW_EXPERIMENT",
            "mlflow_experiment": {"experiment_id": experiment_id},
        }
        info = {"trace_id": trace_id, "trace_location": location, "request_time": 0, "state": "OK"}
        assert http.post("/api/3.0/mlflow/traces", json={"trace": {"trace_info": info}}).is_success
        feedback = {"assessment_name": "n", "feedback": {"value": 1}}
        assessments = f"/api/3.0/mlflow/traces/{trace_id}/assessments"
        run = http.post(f"{API}/runs/create", json={"experiment_id": experiment_id}).json()["run"]
        run_id = run["info"]["run_id"]
        answers = {
            "user_id": http.post(
                f"{API}/runs/create", json={"experiment_id": experiment_id, "user_id": "x" * 300}
            ),
            "run_id": http.post(
                f"{API}/model-versions/create",
                json={"name": name, "source": "s3://b/m", "run_id": "x" * 40},
            ),
            "model_id": http.post(
                f"{API}/model-versions/create",
                json={"name": name, "source": "s3://b/m", "model_id": "x" * 40},
            ),
            "client_request_id": http.post(
                "/api/3.0/mlflow/traces",
                json={
                    "trace": {
                        "trace_info": {
                            **info,
                            "trace_id": "tr-" + uuid.uuid4().hex,
                            "client_request_id": "x" * 300,
                        }
                    }
                },
            ),
            "source id": http.post(
                assessments,
                json={
                    "assessment": {
                        **feedback,
                        "source": {"source_type": "HUMAN", "source_id": "x" * 300},
                    }
                },
            ),
            "source type": http.post(
                assessments,
                json={
                    "assessment": {**feedback, "source": {"source_type": "SOURCE_TYPE_UNSPECIFIED"}}
                },
            ),
            "overrides": http.post(
                assessments, json={"assessment": {**feedback, "overrides": "a" * 60}}
            ),
            "trace_id": http.post(
                "/api/3.0/mlflow/traces",
                json={"trace": {"trace_info": {**info, "trace_id": "tr-" + "a" * 60}}},
            ),
            "source_run_id": http.post(
                f"{API}/logged-models",
                json={"experiment_id": experiment_id, "source_run_id": "m-" + "0" * 32},
            ),
            "metric model_id": http.post(
                f"{API}/runs/log-metric",
                json={
                    "run_id": run_id,
                    "key": "m",
                    "value": 1,
                    "timestamp": 1,
                    "model_id": "x" * 40,
                },
            ),
            "source_type": http.post(
                f"{API}/runs/log-inputs",
                json={
                    "run_id": run_id,
                    "datasets": [
                        {
                            "dataset": {
                                "name": "d",
                                "digest": "1",
                                "source_type": "x" * 37,
                                "source": "{}",
                            }
                        }
                    ],
                },
            ),
        }
        for field, answer in answers.items():
            assert answer.status_code == 400, (field, answer.text)
            assert answer.json()["error_code"] == "INVALID_PARAMETER_VALUE", field
