"""`--auth` against a real server: who may call, and who the server says they are."""

from __future__ import annotations

import re

import httpx
from tests.server.security.conftest import ADMIN, AuthServer, make_admin


def test_without_credentials_the_api_answers_401(auth_server: AuthServer) -> None:
    with auth_server.client() as anonymous:
        resp = anonymous.get("/api/2.0/mlflow/experiments/search", params={"max_results": 1})
        assert resp.status_code == 401
        assert resp.json()["error_code"] == "UNAUTHENTICATED"
        assert resp.headers["www-authenticate"] == 'Basic realm="heron"'
        assert anonymous.get("/health").status_code == 200
        assert anonymous.get("/version").status_code == 200


def test_a_wrong_password_is_401_and_the_right_one_passes(auth_server: AuthServer) -> None:
    with auth_server.client(("root", "wrong-password")) as wrong:
        assert wrong.get("/api/2.0/mlflow/experiments/search").status_code == 401
    with auth_server.admin() as admin:
        assert admin.get("/api/2.0/mlflow/experiments/search").status_code == 200


def test_a_run_belongs_to_who_signed_in_not_who_it_claims(auth_server: AuthServer) -> None:
    with auth_server.admin() as admin:
        resp = admin.post(
            "/api/2.0/mlflow/runs/create",
            json={"experiment_id": "0", "user_id": "ceo@corp",
                  "tags": [{"key": "mlflow.user", "value": "ceo@corp"}]},
        )  # fmt: skip
    assert resp.status_code == 200, resp.text
    run = resp.json()["run"]
    assert run["info"]["user_id"] == "root"
    assert {"key": "mlflow.user", "value": "root"} in run["data"]["tags"]


def test_a_token_works_until_it_is_revoked(auth_server: AuthServer) -> None:
    with auth_server.admin() as admin:
        made = admin.post("/api/2.0/heron/tokens/create", json={"name": "ci"}).json()
        token = made["token"]
        assert token.startswith("heron_pat_")
        bearer = {"Authorization": f"Bearer {token}"}
        with auth_server.client(headers=bearer) as ci:
            assert ci.get("/api/2.0/mlflow/experiments/search").status_code == 200
            resp = admin.post(
                "/api/2.0/heron/tokens/revoke", json={"token_id": made["token_info"]["token_id"]}
            )
            assert resp.status_code == 200, resp.text
            assert ci.get("/api/2.0/mlflow/experiments/search").status_code == 401


def test_the_ui_asks_for_a_login_and_keeps_a_session(auth_server: AuthServer) -> None:
    with auth_server.client(follow_redirects=False) as browser:
        page = browser.get("/", headers={"Accept": "text/html"})
        assert page.status_code == 303
        assert page.headers["location"].startswith("/login")
        form = browser.get("/login")
        token = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
        assert token is not None
        fields = {"csrf_token": token.group(1), "username": ADMIN[0], "password": ADMIN[1],
                  "next": "/"}  # fmt: skip
        signed_in = browser.post("/login", data=fields)
        assert signed_in.status_code == 303, signed_in.text
        assert "heron_session" in signed_in.cookies
        home = browser.get("/", headers={"Accept": "text/html"})
        assert home.status_code == 200
        assert 'id="user-menu"' in home.text
        assert ">root<" in home.text
        out = browser.post("/logout", data={"csrf_token": token.group(1)})
        assert out.status_code == 303
        assert browser.get("/", headers={"Accept": "text/html"}).status_code == 303


def test_the_login_page_says_when_the_password_is_wrong(auth_server: AuthServer) -> None:
    with auth_server.client(follow_redirects=False) as browser:
        token = re.search(r'name="csrf_token" value="([^"]+)"', browser.get("/login").text)
        assert token is not None
        fields = {"csrf_token": token.group(1), "username": "root", "password": "nope-nope"}
        resp = browser.post("/login", data=fields)
        assert resp.status_code == 401
        assert "Invalid username or password" in resp.text


def test_make_admin_is_idempotent(auth_server: AuthServer) -> None:
    make_admin(auth_server.database_uri)  # a second start with the same variables changes nothing
    with httpx.Client(base_url=auth_server.url, auth=ADMIN) as admin:
        assert admin.get("/api/2.0/mlflow/users/current").json()["user"]["is_admin"] is True


def test_a_read_token_cannot_write_and_the_refusal_is_audited(auth_server: AuthServer) -> None:
    with auth_server.admin() as admin:
        made = admin.post(
            "/api/2.0/heron/tokens/create", json={"name": "reader", "scopes": ["read"]}
        ).json()
        bearer = {"Authorization": f"Bearer {made['token']}"}
        with auth_server.client(headers=bearer) as reader:
            assert reader.get("/api/2.0/mlflow/experiments/search").status_code == 200
            refused = reader.post("/api/2.0/mlflow/experiments/create", json={"name": "x"})
            assert refused.status_code == 403
            assert "scopes are read" in refused.json()["message"]
            # An admin's read token cannot administer either.
            users = reader.post("/api/2.0/mlflow/users/create",
                                json={"username": "eve", "password": "eve-password"})  # fmt: skip
            assert users.status_code == 403
        entries = admin.get("/api/2.0/heron/audit/list", params={"allowed": "false"}).json()
    denied = [(e["principal"], e["action"]) for e in entries["entries"]]
    assert ("root", "POST /api/2.0/mlflow/experiments/create") in denied


def test_changes_are_audited_and_data_points_are_not(auth_server: AuthServer) -> None:
    with auth_server.admin() as admin:
        created = admin.post("/api/2.0/mlflow/experiments/create", json={"name": "audited"})
        experiment_id = created.json()["experiment_id"]
        admin.post("/api/2.0/mlflow/experiments/update",
                   json={"experiment_id": experiment_id, "new_name": "renamed"})  # fmt: skip
        run = admin.post("/api/2.0/mlflow/runs/create", json={"experiment_id": experiment_id})
        run_id = run.json()["run"]["info"]["run_id"]
        admin.post("/api/2.0/mlflow/runs/log-metric",
                   json={"run_id": run_id, "key": "m", "value": 1, "timestamp": 1})  # fmt: skip
        entries = admin.get("/api/2.0/heron/audit/list", params={"principal": "root"}).json()
    actions = [e["action"] for e in entries["entries"] if e["allowed"]]
    assert "POST /api/2.0/mlflow/experiments/create" in actions
    assert "POST /api/2.0/mlflow/experiments/update" in actions
    assert "POST /api/2.0/mlflow/runs/create" in actions
    assert not any("log-metric" in a for a in actions)
    with auth_server.admin() as admin:
        assert admin.get("/api/2.0/mlflow/experiments/search").status_code == 200
