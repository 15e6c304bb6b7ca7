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
