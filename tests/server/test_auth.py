"""The caller's identity, from the Authorization header, reaches the services."""

from __future__ import annotations

import base64

import httpx
import pytest

from heron.server.auth import identity_from_authorization


def _basic(credentials: str) -> str:
    return "Basic " + base64.b64encode(credentials.encode()).decode()


@pytest.mark.parametrize(
    ("headers", "user"),
    [
        ({}, "anonymous"),
        ({"Authorization": _basic("alice:secret")}, "alice"),
        ({"Authorization": "Bearer abc.def"}, "token"),
    ],
    ids=["none", "basic", "bearer"],
)
def test_identity_reaches_the_run_service(
    http: httpx.Client, experiment_id: str, headers: dict[str, str], user: str
) -> None:
    # A run created without user_id or mlflow.user tag belongs to the caller.
    resp = http.post(
        "/api/2.0/mlflow/runs/create", json={"experiment_id": experiment_id}, headers=headers
    )
    assert resp.status_code == 200, resp.text
    assert resp.json()["run"]["info"]["user_id"] == user


@pytest.mark.parametrize(
    "header",
    [b"Basic !!!", b"Basic " + base64.b64encode(b":pw"), b"Digest x"],
    ids=["bad-base64", "no-user", "other-scheme"],
)
def test_unusable_credentials_are_anonymous(header: bytes) -> None:
    assert identity_from_authorization(header).name == "anonymous"


@pytest.mark.postgres
@pytest.mark.parametrize("live_server", ["postgresql"], indirect=True)
@pytest.mark.parametrize("user", ["a" * 251, "a\x00b"], ids=["wider-than-creator", "nul"])
def test_a_user_name_no_row_can_record_is_refused(live_server: str, user: str) -> None:
    """The caller's name is a registered model's user_id and a catalog's owner: one wider than
    those columns, or holding a NUL, was a 500 on PostgreSQL (found by fuzzing)."""
    headers = {"Authorization": _basic(f"{user}:secret")}
    with httpx.Client(base_url=live_server, headers=headers) as http:
        for path, body in [
            ("/api/2.0/mlflow/registered-models/create", {"name": "m"}),
            ("/api/2.0/heron/catalogs/create", {"name": "c"}),
            ("/api/2.0/mlflow/runs/create", {"experiment_id": "0"}),
        ]:
            answer = http.post(path, json=body)
            assert (answer.status_code, answer.json()["error_code"]) == (
                400,
                "INVALID_PARAMETER_VALUE",
            ), (path, answer.text)
            assert "Authorization header" in answer.json()["message"]
        assert (
            http.get("/api/2.0/mlflow/registered-models/get", params={"name": "m"}).status_code
            == 400
        )
    with httpx.Client(base_url=live_server) as http:  # nothing was made
        assert (
            http.get("/api/2.0/mlflow/registered-models/get", params={"name": "m"}).status_code
            == 404
        )
