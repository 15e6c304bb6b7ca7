"""MLflow's auth API refuses what the security tables cannot hold with INVALID_PARAMETER_VALUE
(never a 500 from PostgreSQL), and takes what fits, on both databases."""

from __future__ import annotations

import httpx
from tests.server.security.conftest import AuthServer

ROLES = "/api/3.0/mlflow/roles"


def _refused(resp: httpx.Response, says: str) -> None:
    assert resp.status_code == 400, resp.text
    assert resp.json()["error_code"] == "INVALID_PARAMETER_VALUE"
    assert says in resp.json()["message"]


def test_a_roles_workspace_longer_than_256_characters_is_refused(auth_server: AuthServer) -> None:
    with auth_server.admin() as admin:
        resp = admin.post(ROLES + "/create", json={"name": "readers", "workspace": "w" * 257})
        _refused(resp, "the limit is 256")
        resp = admin.post(ROLES + "/create", json={"name": "readers", "workspace": "w" * 256})
        assert resp.status_code == 200, resp.text
        assert resp.json()["role"]["workspace"] == "w" * 256


def test_a_role_permission_on_too_long_a_pattern_is_refused(auth_server: AuthServer) -> None:
    with auth_server.admin() as admin:
        made = admin.post(ROLES + "/create", json={"name": "readers", "workspace": "default"})
        role_id = made.json()["role"]["id"]
        permission = {"role_id": role_id, "resource_type": "experiment", "permission": "READ"}
        resp = admin.post(
            ROLES + "/permissions/add", json={**permission, "resource_pattern": "e" * 513}
        )
        _refused(resp, "1-512 characters")
        resp = admin.post(
            ROLES + "/permissions/add", json={**permission, "resource_pattern": "e" * 512}
        )
        assert resp.status_code == 200, resp.text


def test_ids_past_the_id_columns_are_not_found(auth_server: AuthServer) -> None:
    big = 2**40
    with auth_server.admin() as admin:
        for resp in (
            admin.get(ROLES + "/get", params={"role_id": str(big)}),
            admin.post(ROLES + "/permissions/add", json={
                "role_id": big, "resource_type": "experiment", "resource_pattern": "*",
                "permission": "READ"}),
            admin.patch(ROLES + "/permissions/update",
                        json={"role_permission_id": big, "permission": "READ"}),
            admin.request("DELETE", ROLES + "/delete", json={"role_id": big}),
        ):  # fmt: skip
            assert resp.status_code == 404, resp.text
            assert resp.json()["error_code"] == "RESOURCE_DOES_NOT_EXIST"
            assert str(big) in resp.json()["message"]
