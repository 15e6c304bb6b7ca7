"""In real Chromium, with --auth: sign in, make a token (shown once), revoke it, sign out; and
the banner of a server open to everyone."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from tests.server.security.conftest import ADMIN, serve_with_auth
from tests.ui.conftest import sign_in


@pytest.fixture
def auth_url(tmp_path: Path, serve_settings: Any) -> Iterator[str]:
    with serve_with_auth(tmp_path, serve_settings) as running:
        yield running.url


def test_sign_in_make_and_revoke_a_token(page: Any, auth_url: str) -> None:
    page.goto(f"{auth_url}/models")
    assert "/login" in page.url
    page.fill("input[name=username]", ADMIN[0])
    page.fill("input[name=password]", ADMIN[1])
    page.click("button[type=submit]")
    page.wait_for_url(f"{auth_url}/models")
    page.click("#user-menu a[href='/settings/tokens']")
    page.fill("#new-token-form input[name=name]", "laptop")
    page.uncheck("#new-token-form input[value=write]")
    page.click("#new-token-form button[type=submit]")
    token = page.inner_text("#new-token-text")
    assert token.startswith("heron_pat_")
    assert "read" in page.inner_text("#tokens")
    bearer = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=auth_url, headers=bearer) as client:
        assert client.get("/api/2.0/mlflow/experiments/search").status_code == 200
        page.goto(f"{auth_url}/settings/tokens")
        assert token not in page.content()  # shown once only
        page.click("#tokens button:has-text('Revoke')")
        page.wait_for_selector("#tokens :text('revoked')")
        assert client.get("/api/2.0/mlflow/experiments/search").status_code == 401
    page.click("#user-menu button[type=submit]")
    page.wait_for_url(f"{auth_url}/login")


def test_a_wrong_password_stays_on_the_login_page(page: Any, auth_url: str) -> None:
    page.goto(f"{auth_url}/login")
    page.fill("input[name=username]", ADMIN[0])
    page.fill("input[name=password]", "not-the-password")
    page.click("button[type=submit]")
    assert "Invalid username or password" in page.inner_text("#login-error")


def test_an_open_server_warns_on_every_page(page: Any, tmp_path: Path, serve_settings: Any) -> None:
    from heron.settings import Settings

    settings = Settings.for_home(tmp_path, listen_host="0.0.0.0")  # noqa: S104 - what is tested
    with serve_settings(settings) as url:
        for path in ("/", "/models", "/logged-models"):
            page.goto(url + path)
            assert "anyone who reaches its port" in page.inner_text("#open-server-banner")


def test_an_admin_manages_users_and_reads_the_audit_log(page: Any, auth_url: str) -> None:
    sign_in(page, auth_url, *ADMIN)
    page.click("#admin-link")
    page.fill("#new-user-form input[name=username]", "dana")
    page.fill("#new-user-form input[name=password]", "dana-password")
    page.click("#new-user-form button[type=submit]")
    page.wait_for_selector("#users :text('dana')")
    page.click("#users tr:has-text('dana') button:has-text('Make admin')")
    page.wait_for_selector("#users tr:has-text('dana') button:has-text('Remove admin')")
    page.goto(f"{auth_url}/admin/audit")
    text = page.inner_text("#audit")
    assert "create_user" in text
    assert "update_admin" in text
    assert "dana" in text
    assert '{"is_admin":true}' in text
    page.click("#user-menu button[type=submit]")
    page.wait_for_url(f"{auth_url}/login")
    with httpx.Client(base_url=auth_url, auth=("dana", "dana-password")) as dana:
        assert dana.get("/admin/audit").status_code == 200  # dana is an admin now
        resp = dana.patch("/api/2.0/mlflow/users/update-admin",
                          json={"username": "dana", "is_admin": False})  # fmt: skip
        assert resp.status_code == 200
        assert dana.get("/admin/audit").status_code == 403


def test_an_admin_manages_groups_and_grants(page: Any, auth_url: str) -> None:
    sign_in(page, auth_url, *ADMIN)
    page.goto(f"{auth_url}/admin/users")
    page.fill("#new-user-form input[name=username]", "erin")
    page.fill("#new-user-form input[name=password]", "erin-password")
    page.click("#new-user-form button[type=submit]")
    page.goto(f"{auth_url}/admin/grants")
    page.fill("#new-group-form input[name=name]", "reviewers")
    page.click("#new-group-form button[type=submit]")
    page.fill("#member-form input[name=member]", "erin")
    page.fill("#member-form input[name=group]", "reviewers")
    page.click("#member-form button[type=submit]")
    page.wait_for_selector("#groups tr:has-text('reviewers'):has-text('erin')")
    page.select_option("#grant-form select[name=principal_type]", "group")
    page.fill("#grant-form input[name=principal]", "reviewers")
    page.select_option("#grant-form select[name=privilege]", "ANNOTATE")
    page.select_option("#grant-form select[name=securable_type]", "catalog")
    page.fill("#grant-form input[name=securable_id]", "main")
    page.click("#grant-form button[type=submit]")
    page.wait_for_selector("#grants tr:has-text('reviewers'):has-text('ANNOTATE')")
    with httpx.Client(base_url=auth_url, auth=ADMIN) as admin:
        perm = admin.get("/api/2.0/heron/grants/list",
                         params={"securable_type": "catalog", "securable_id": "main"})  # fmt: skip
        assert [g["principal"] for g in perm.json()["grants"]] == ["reviewers"]
    page.click("#grants tr:has-text('reviewers') button:has-text('Revoke')")
    page.wait_for_selector("#grants :text('No grants yet.')")
