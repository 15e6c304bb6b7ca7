"""Bad requests to the deployment job routes get MLflow's error code and a message saying what
to fix, never a 500 (a real server on SQLite)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

HERON = "/api/2.0/heron"


@pytest.mark.parametrize(
    ("method", "path", "body", "code", "message"),
    [
        ("POST", "/deployment-jobs/create", {"name": "j"}, "INVALID_PARAMETER_VALUE",
         "'definition'"),
        ("POST", "/deployment-jobs/create", {"name": "j", "definition": 5},
         "INVALID_PARAMETER_VALUE", "list of tasks"),
        ("POST", "/deployment-jobs/create", {"name": "j", "definition": "tasks: [{type: x}]"},
         "INVALID_PARAMETER_VALUE", "name"),
        ("POST", "/deployment-jobs/create", {"name": "j", "definition": "tasks: ["},
         "INVALID_PARAMETER_VALUE", "not valid YAML"),
        ("GET", "/deployment-jobs/get", {"job_id": "nope"}, "RESOURCE_DOES_NOT_EXIST", "nope"),
        ("POST", "/deployment-job-runs/decide", {"run_id": "r1"}, "INVALID_PARAMETER_VALUE",
         "'approved'"),
        ("POST", "/deployment-job-runs/decide", {"run_id": "r1", "approved": "maybe"},
         "INVALID_PARAMETER_VALUE", "approved"),
        ("POST", "/deployment-job-runs/decide", {"approved": True}, "INVALID_PARAMETER_VALUE",
         "run_id"),
        ("GET", "/deployment-job-runs/get", {"run_id": "r1"}, "RESOURCE_DOES_NOT_EXIST", "r1"),
        ("GET", "/deployment-job-runs/search", {"states": "SOMETIMES"},
         "INVALID_PARAMETER_VALUE", "SOMETIMES"),
        ("POST", "/deployment-job-runs/start", {"name": "nope", "version": "1"},
         "RESOURCE_DOES_NOT_EXIST", "nope"),
        ("POST", "/deployment-job-runs/retry", {"run_id": "x" * 40}, "INVALID_PARAMETER_VALUE",
         "run_id"),
    ],
    ids=["no-definition", "definition-number", "task-without-name", "bad-yaml", "unknown-job",
         "no-decision", "decision-not-bool", "no-run", "unknown-run", "unknown-state",
         "unknown-model", "run-id-too-long"],
)  # fmt: skip
def test_a_bad_request_is_told_what_to_fix(
    live_server: str, method: str, path: str, body: dict[str, Any], code: str, message: str
) -> None:
    url = f"{live_server}{HERON}{path}"
    if method == "GET":
        resp = httpx.get(url, params=body, timeout=30)
    else:
        resp = httpx.post(url, json=body, timeout=30)
    assert resp.status_code in (400, 404), resp.text
    assert resp.json()["error_code"] == code
    assert message in resp.json()["message"]
